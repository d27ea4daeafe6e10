#!/usr/bin/env bash
# What kernel events cost the recorder, on this host, as root: recorder CPU (share of one core) and events
# lost by the kernel while a load generator (bench/connect/connect.c) makes short TCP connections on
# 127.0.0.1 at ~1k/s and ~10k/s, with and without kernel events; sidecar bytes per 10k connections; and the
# recorder's CPU on an idle host with events on. The capture filter leaves the load out ("port 9"), so
# the difference between the two runs is the events (and the /proc snapshots, alike in both).
# Usage: bash bench/recorder-events.sh [seconds of load per run, default 20] [rates, default "1000 10000"]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-20}
rates=${2:-1000 10000}
source "$root/bench/lib.sh"
bench_needs gcc libc6-dev
dotnet build -v q -nologo -c Release "$root/src/Attribution.Cli" >/dev/null
cli="dotnet $root/src/Attribution.Cli/bin/Release/net10.0/attribution.dll"
work=$(mktemp -d)
rec=""
cleanup() { [ -n "$rec" ] && kill "$rec" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cc -O2 -pthread -o "$work/connect" "$root/bench/connect/connect.c"
hz=$(getconf CLK_TCK)
port=$((40000 + RANDOM % 10000))

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
thread_ticks() { # pid: CPU ticks of its kernel-events thread (0 when events are off)
  local t=0
  for task in /proc/"$1"/task/*; do [ "$(cat "$task/comm" 2>/dev/null)" = kernel-events ] && t=$(awk '{print $14 + $15}' "$task/stat"); done
  echo "$t"
}
pct() { awk -v t="$1" -v s="$2" -v hz="$hz" 'BEGIN {printf "%.1f", 100 * t / hz / s}'; }

start_recorder() { # extra flags; sets rec
  rm -f "$work/r.pcapng" "$work/r.pcapng.snapshots"
  $cli record -o "$work/r.pcapng" --force -i lo "$@" "port 9" 2>"$work/r.err" & rec=$!
  for _ in $(seq 300); do grep -q "recording on" "$work/r.err" && break; sleep 0.1; done
  sleep 1
}

stop_recorder() {
  kill -TERM "$rec"; wait "$rec" || true; rec=""
}

summary_value() { # label from the closing summary table
  awk -v l="$1" '{ v = $NF; $NF = ""; sub(/^ +/, ""); sub(/ +$/, ""); if ($0 == l) print v }' "$work/r.err" | tr -d ','
}

echo "== short TCP connections on 127.0.0.1, ${seconds} s each (capture filter excludes them)"
printf "%-8s %-7s %-10s %-11s %-13s %-10s %-6s %-10s\n" target events achieved "CPU %core" "event thread" events lost "sidecar B"
for rate in $rates; do
  declare -A bytes=() made=()
  for mode in off on; do
    flags=(); [ "$mode" = off ] && flags=(--no-kernel-events)
    start_recorder "${flags[@]}"
    t0=$(ticks "$rec"); e0=$(thread_ticks "$rec"); s0=$(date +%s%N)
    read -r n took < <("$work/connect" "$port" "$rate" "$seconds")
    t1=$(ticks "$rec"); e1=$(thread_ticks "$rec"); s1=$(date +%s%N)
    stop_recorder
    wall=$(awk -v a="$s0" -v b="$s1" 'BEGIN {print (b - a) / 1e9}')
    ev=$(summary_value "kernel events"); lost=$(summary_value "kernel events lost")
    [ "$mode" = off ] && { ev="-"; lost="-"; }
    bytes[$mode]=$(stat -c %s "$work/r.pcapng.snapshots"); made[$mode]=$n
    printf "%-8s %-7s %-10s %-11s %-13s %-10s %-6s %-10s\n" "$rate/s" "$mode" "$(awk -v n="$n" -v t="$took" 'BEGIN {printf "%.0f/s", n / t}')" \
      "$(pct $((t1 - t0)) "$wall")" "$(pct $((e1 - e0)) "$wall")" "$ev" "$lost" "${bytes[$mode]}"
  done
  echo "   sidecar bytes per 10k connections from events: $(awk -v a="${bytes[on]}" -v b="${bytes[off]}" -v n="${made[on]}" 'BEGIN {printf "%.0f", (a - b) * 10000 / n}')"
  unset bytes made
done

echo "== idle host (no load from this script), ${seconds} s"
for mode in off on; do
  flags=(); [ "$mode" = off ] && flags=(--no-kernel-events)
  start_recorder "${flags[@]}"
  t0=$(ticks "$rec"); e0=$(thread_ticks "$rec"); sleep "$seconds"; t1=$(ticks "$rec"); e1=$(thread_ticks "$rec")
  stop_recorder
  echo "recorder CPU, events $mode: $(pct $((t1 - t0)) "$seconds") % of a core, of which the event thread $(pct $((e1 - e0)) "$seconds") % (kernel events: $(summary_value "kernel events"))"
done
