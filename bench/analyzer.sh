#!/usr/bin/env bash
# Analyzer throughput and memory against the floor (a C libpcap loop), the SQLite floor (SQLite alone writing the
# rows), tcpdump and tshark, on the same
# synthetic files (part 1 of bash bench/run.sh):
#   bash bench/analyzer.sh           (1M and 10M packets; about 20 minutes)
#   bash bench/analyzer.sh --smoke   (10k packets, one run: proves the bench runs)
#   bash bench/analyzer.sh --annotate  (1M packets: analyze with and without --annotate, side by side)
#   bash bench/analyzer.sh --small     (1 000 packets: `--version`, analyze and `tshark -r`, wall time; also first in a full run)
# Prints a table: packets/s (median of RUNS runs), ratio to the floor and to tshark, peak RSS (median).
# It measures the program a user runs: the NativeAOT single file, published from this tree as scripts/setup.sh does.
# ATTRIBUTION="CMD" measures another build instead (e.g. "dotnet src/Attribution.Cli/bin/Release/net10.0/attribution.dll").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-$(mktemp -d /tmp/attr-bench.XXXXXX)}
trap '[ -z "${BENCH_DIR:-}" ] && rm -rf "$work"' EXIT

source "$root/bench/lib.sh"
bench_needs time libpcap0.8-dev tcpdump tshark gcc

mode=${1:-full}
if [ "$mode" = "--smoke" ]; then
  runs=1; inputs=("10000 100 sll2")
elif [ "$mode" = "--small" ]; then
  runs=${RUNS:-11}; inputs=()
elif [ "$mode" = "--annotate" ]; then
  runs=${RUNS:-3}; inputs=("1000000 10000 sll2")
else
  runs=${RUNS:-5}; inputs=("1000000 10000 sll2" "1000000 100000 ethernet" "10000000 10000 sll2")
  # INPUTS="1000000 100000 ethernet;..." runs only those (packets, flows, link type)
  if [ -n "${INPUTS:-}" ]; then IFS=';' read -r -a inputs <<<"$INPUTS"; fi
fi

dotnet build -v q -nologo -c Release "$root/bench/Attribution.Bench" >/dev/null
gen="dotnet $root/bench/Attribution.Bench/bin/Release/net10.0/Attribution.Bench.dll"
if [ -n "${ATTRIBUTION:-}" ]; then
  attribution=$ATTRIBUTION
else
  dotnet publish "$root/src/Attribution.Cli/Attribution.Cli.csproj" -c Release -r linux-x64 --self-contained \
    -p:PublishAot=true -p:DebugType=none -o "$work/bin" -v quiet -nologo >/dev/null
  attribution="$work/bin/attribution"
fi
cc -O2 -o "$work/floor" "$root/bench/floor/floor.c" -lpcap
# The SQLite floor, linked against the SQLite the analyzer ships (the NuGet restore of the build above has it; the
# system's libsqlite3 if not found); the header is the system's either way.
bench_needs libsqlite3-dev
e_sqlite3=$(find "${NUGET_PACKAGES:-$HOME/.nuget/packages}" -path '*linux-x64/native/libe_sqlite3.so' 2>/dev/null | sort -V | tail -1)
if [ -n "$e_sqlite3" ]; then
  cc -O2 -o "$work/sqlite-floor" "$root/bench/floor/sqlite-floor.c" -L"$(dirname "$e_sqlite3")" -l:libe_sqlite3.so -lm \
    -Wl,-rpath,"$(dirname "$e_sqlite3")"
else
  cc -O2 -o "$work/sqlite-floor" "$root/bench/floor/sqlite-floor.c" -lsqlite3
fi

# READERS=REGEX measures only the readers whose names match (the floor always runs: the ratios need it),
# e.g. READERS='sqlite|parquet' to compare the two outputs without the minutes tshark takes.
only=${READERS:-.}

# measure INPUT READER PACKETS CMD...: runs CMD $runs times; records median wall seconds and peak RSS (KB)
measure() {
  local input=$1 reader=$2 packets=$3; shift 3
  if [[ ! "$reader" =~ ^floor && ! "$reader" =~ $only ]]; then return 0; fi
  : >"$work/times"
  for _ in $(seq "$runs"); do
    rm -rf "$work/out.db" "$work/out-csv" "$work/out-parquet"
    local t0 t1
    t0=$(date +%s%N)
    # Exit 6 is "written, but the input was incomplete": the synthetic sidecar has no final snapshot, so
    # analyze says the recording ended abruptly. That is the input's doing, not a failure of the run.
    local rc=0
    /usr/bin/time -f "%M" -o "$work/one" "$@" >/dev/null 2>&1 || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 6 ]; then echo "$reader failed (exit $rc): $*" >&2; return 1; fi
    t1=$(date +%s%N)
    echo "$(( (t1 - t0) / 1000 )) $(tail -1 "$work/one")" >>"$work/times"
  done
  local us kb
  us=$(awk '{print $1}' "$work/times" | median)
  kb=$(awk '{print $2}' "$work/times" | median)
  echo "$input|$reader|$packets|$us|$kb|$(cut -d' ' -f1 /proc/loadavg)" >>"$work/results"
}

# small: the fixed cost (issue 14): a 1 000-packet capture, wall time in ms of each command, median of $runs,
# alternating the commands so that a change in the machine's load falls on all of them alike.
small() {
  local file="$work/small.pcapng"
  $gen generate --packets 1000 --flows 100 --link sll2 -o "$file" >/dev/null
  local names=("attribution --version" "attribution analyze (sqlite)" "attribution analyze --no-packet-rows" "tshark -r")
  local cmds=("$attribution --version" "$attribution analyze $file -o $work/small.db"
              "$attribution analyze $file --no-packet-rows -o $work/small.db" "tshark -r $file")
  : >"$work/small"
  for _ in $(seq "$runs"); do
    for i in "${!cmds[@]}"; do
      rm -f "$work/small.db"
      local t0 t1; t0=$(date +%s%N)
      ${cmds[$i]} >/dev/null 2>&1 || true
      t1=$(date +%s%N)
      echo "$i $(( (t1 - t0) / 1000 ))" >>"$work/small"
    done
  done
  echo "1 000 packets, median of $runs (load average $(cut -d' ' -f1-3 /proc/loadavg)):"
  for i in "${!cmds[@]}"; do
    printf "  %-40s %8.1f ms\n" "${names[$i]}" "$(awk -v i="$i" '$1 == i {print $2 / 1000}' "$work/small" | median)"
  done
  rm -f "$file" "$file.snapshots"
}
if [ "$mode" = "--small" ]; then small; exit 0; fi
if [ "$mode" = "full" ] && [ -z "${INPUTS:-}" ]; then (runs=${RUNS:-11}; small); fi
if [ "$mode" = "--smoke" ]; then small; fi

: >"$work/results"
for input in "${inputs[@]}"; do
  read -r packets flows link <<<"$input"
  file="$work/syn-$packets-$flows-$link.pcapng"
  $gen generate --packets "$packets" --flows "$flows" --link "$link" -o "$file"
  label="${packets}p/${flows}f/$link"
  if [ "$mode" = "--annotate" ]; then
    measure "$label" "attribution core (no packet rows)" "$packets" $attribution analyze "$file" --no-packet-rows -o "$work/out.db"
    measure "$label" "core + --annotate" "$packets" $attribution analyze "$file" --no-packet-rows -o "$work/out.db" --force --annotate "$work/out.pcapng"
    measure "$label" "attribution sqlite (row per packet)" "$packets" $attribution analyze "$file" -o "$work/out.db"
    measure "$label" "sqlite + --annotate" "$packets" $attribution analyze "$file" -o "$work/out.db" --force --annotate "$work/out.pcapng"
    measure "$label" "floor (C libpcap + flow table)" "$packets" "$work/floor" "$file"
    rm -f "$file" "$file.snapshots" "$work/out.pcapng"
    continue
  fi
  measure "$label" "floor (C libpcap + flow table)" "$packets" "$work/floor" "$file"
  measure "$label" "attribution core (no packet rows)" "$packets" $attribution analyze "$file" --no-packet-rows -o "$work/out.db"
  measure "$label" "attribution sqlite (row per packet)" "$packets" $attribution analyze "$file" -o "$work/out.db"
  measure "$label" "sqlite floor (C: the rows + index only)" "$packets" "$work/sqlite-floor" "$work/out.db" "$packets" "$flows"
  measure "$label" "attribution csv (row per packet)" "$packets" $attribution analyze "$file" --format csv -o "$work/out-csv"
  measure "$label" "attribution parquet (row per packet)" "$packets" $attribution analyze "$file" --format parquet -o "$work/out-parquet"
  measure "$label" "tcpdump -nn -q -r" "$packets" tcpdump -nn -q -r "$file"
  if [ "$packets" -le 1000000 ]; then  # tshark needs minutes and gigabytes beyond this
    measure "$label" "tshark -T fields" "$packets" tshark -r "$file" -T fields -e frame.number -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport
  fi
  rm -f "$file" "$file.snapshots"
done

echo
awk -F'|' '
  { input[NR] = $1; reader[NR] = $2; rate[NR] = $3 / ($4 / 1e6); rss[NR] = $5; load[NR] = $6
    if ($2 ~ /^floor/) floor[$1] = rate[NR]; if ($2 ~ /^tshark/) tshark[$1] = rate[NR] }
  END {
    printf "%-26s %-38s %12s %9s %10s %10s %6s\n", "input", "reader", "packets/s", "vs floor", "vs tshark", "peak RSS", "load"
    for (i = 1; i <= NR; i++)
      printf "%-26s %-38s %12.0f %9.2f %10s %7d MB %6s\n", input[i], reader[i], rate[i], rate[i] / floor[input[i]],
             (input[i] in tshark) ? sprintf("%.1fx", rate[i] / tshark[input[i]]) : "n/a", rss[i] / 1024, load[i]
  }' "$work/results"
