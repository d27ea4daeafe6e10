#!/usr/bin/env bash
# Coverage-guided fuzzing with afl++ and SharpFuzz (fuzz/README.md), as root or any user with dotnet:
#   bash fuzz/run.sh [TARGET|all] [SECONDS]      default: all targets, 60 s each
#   FUZZ_RESUME=1 bash fuzz/run.sh TARGET SECONDS    go on from the previous run's queue of TARGET
# Installs afl++ (apt-get) and the sharpfuzz tool (NuGet) when missing, builds fuzz/Attribution.Fuzz into
# fuzz/.work/bin.PID, instruments Attribution.Core.dll and Attribution.Analyzer.dll there, and runs afl-fuzz from
# fuzz/corpus/TARGET. Prints executions, crashes and hangs per target; every crash or hang afl++ keeps is copied
# to fuzz/crashes/TARGET/ (the test suite replays that folder: a new file there fails until the reader is fixed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
targets=${1:-all}
seconds=${2:-60}
work="$here/.work"
export PATH="$PATH:$HOME/.dotnet/tools"

if ! command -v afl-fuzz >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
fi
if ! command -v sharpfuzz >/dev/null; then
  dotnet tool install -g SharpFuzz.CommandLine --version 2.3.0 >/dev/null
fi

# One build per invocation, so runs of different targets side by side do not share instrumented files.
bin="$work/bin.$$"
trap 'rm -rf "$bin"' EXIT
dotnet build "$here/Attribution.Fuzz" -c Release -o "$bin" --nologo -v q >/dev/null
for dll in Attribution.Core.dll Attribution.Analyzer.dll; do sharpfuzz "$bin/$dll" >/dev/null; done

if [ "$targets" = all ]; then
  targets=$(cd "$here/corpus" && ls)
fi

# A shared machine: no CPU pinning, no UI; dotnet is not afl-instrumented (SharpFuzz reports coverage itself).
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
for target in $targets; do
  out="$work/findings/$target"
  input="$here/corpus/$target"
  if [ "${FUZZ_RESUME:-}" = 1 ] && [ -d "$out/default/queue" ]; then
    input=-   # FUZZ_RESUME=1: go on from the last run's queue (afl++ carries its counters on)
  else
    rm -rf "$out"
  fi
  mkdir -p "$out"
  echo "== $target: afl-fuzz for ${seconds}s" >&2
  afl-fuzz -i "$input" -o "$out" -t 3000 -m none -V "$seconds" \
    -- dotnet "$bin/Attribution.Fuzz.dll" afl "$target" >"$out/afl.log" 2>&1 || { tail -20 "$out/afl.log" >&2; exit 1; }
  stats="$out/default/fuzzer_stats"
  execs=$(awk -F' : ' '$1 ~ /execs_done/ {print $2}' "$stats")
  crashes=$(awk -F' : ' '$1 ~ /saved_crashes|unique_crashes/ {print $2}' "$stats" | head -1)
  hangs=$(awk -F' : ' '$1 ~ /saved_hangs|unique_hangs/ {print $2}' "$stats" | head -1)
  paths=$(awk -F' : ' '$1 ~ /corpus_count|paths_total/ {print $2}' "$stats" | head -1)
  echo "$target: $execs executions, $paths inputs in the queue, $crashes crashes, $hangs hangs"
  for kind in crashes hangs; do
    for f in "$out/default/$kind"/id:*; do
      [ -e "$f" ] || continue
      mkdir -p "$here/crashes/$target"
      cp "$f" "$here/crashes/$target/$kind-$(date +%Y%m%d)-$(basename "$f" | cut -d, -f1 | tr -d :)"
    done
  done
done
