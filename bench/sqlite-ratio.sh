#!/usr/bin/env bash
# The SQLite output against SQLite's own floor, alternating run by run on one capture (issue 26, part 5):
#   bash bench/sqlite-ratio.sh [ROUNDS, default 9] [PACKETS, default 1000000] [FLOWS, default 10000]
# Each round runs bench/floor/sqlite-floor (the same rows into the same schema with the analyzer's pragmas, then the
# flow_id index) and `attribution analyze` (the whole process: capture read, attribution, every table, commit) one
# after the other, so load that comes and goes on a shared machine falls on both alike. Prints each round's wall
# times, CPU times (user + system) and the ratio floor wall / analyze wall (1.0: as fast as SQLite alone; the
# target is 0.9), then the medians and the load average. It measures dist/attribution (ATTRIBUTION=PATH for another).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"
bench_needs time gcc libsqlite3-dev
rounds=${1:-9} packets=${2:-1000000} flows=${3:-10000}
cli=${ATTRIBUTION:-$root/dist/attribution}
[ -x "$cli" ] || (cd "$root" && bash scripts/setup.sh >/dev/null)
work=$(mktemp -d /tmp/attr-sqlite.XXXXXX)
trap 'rm -rf "$work"' EXIT

dotnet build -v q -nologo -c Release "$root/bench/Attribution.Bench" >/dev/null
dotnet "$root/bench/Attribution.Bench/bin/Release/net10.0/Attribution.Bench.dll" generate --packets "$packets" --flows "$flows" --link sll2 -o "$work/in.pcapng" >/dev/null
# The floor links the SQLite the analyzer ships (bench/analyzer.sh does the same).
e_sqlite3=$(find "${NUGET_PACKAGES:-$HOME/.nuget/packages}" -path '*linux-x64/native/libe_sqlite3.so' 2>/dev/null | sort -V | tail -1)
cc -O2 -o "$work/floor" "$root/bench/floor/sqlite-floor.c" -L"$(dirname "$e_sqlite3")" -l:libe_sqlite3.so -lm -Wl,-rpath,"$(dirname "$e_sqlite3")"

run() { # label, command...: one timed run; prints "wall_ms cpu_ms"
  local label=$1 rc=0; shift
  rm -f "$work/out.db"
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" >/dev/null 2>"$work/err" || rc=$?
  # Exit 6 is "written, but the input was incomplete": the synthetic sidecar has no final snapshot.
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 6 ]; then echo "$label failed (exit $rc): $(tail -3 "$work/err")" >&2; exit 1; fi
  tail -1 "$work/time" | awk '{printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000}'
}

echo "== $packets packets, $flows flows: sqlite-floor and attribution analyze alternating, $rounds rounds; load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%6s %12s %12s %12s %12s %8s\n" round floor_wall attr_wall floor_cpu attr_cpu ratio
: >"$work/rounds"
for r in $(seq "$rounds"); do
  read -r fw fc < <(run floor "$work/floor" "$work/out.db" "$packets" "$flows")
  read -r aw ac < <(run analyze "$cli" analyze "$work/in.pcapng" -o "$work/out.db")
  ratio=$(awk -v f="$fw" -v a="$aw" 'BEGIN {printf "%.3f", f / a}')
  printf "%6d %9d ms %9d ms %9d ms %9d ms %8s\n" "$r" "$fw" "$aw" "$fc" "$ac" "$ratio"
  echo "$fw $aw $fc $ac $ratio" >>"$work/rounds"
done
med() { awk -v k="$1" '{print $k}' "$work/rounds" | median; }
echo "median: floor $(med 1) ms, analyze $(med 2) ms (CPU $(med 3) and $(med 4) ms); ratio median $(med 5), rounds' ratios $(awk '{print $5}' "$work/rounds" | sort -g | tr '\n' ' ')"
echo "packets/s: floor $(awk -v p="$packets" -v w="$(med 1)" 'BEGIN {printf "%.0f", p / w * 1000}'), analyze $(awk -v p="$packets" -v w="$(med 2)" 'BEGIN {printf "%.0f", p / w * 1000}'); load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
