#!/usr/bin/env bash
# What kernel events cost the recorder, on this host, as root: recorder CPU (share of one core) and events
# lost by the kernel while a load generator (bench/connect/connect.c) makes short TCP connections on
# 127.0.0.1 at ~1k/s and ~10k/s, with and without kernel events; sidecar bytes per 10k connections; and the
# recorder's CPU on an idle host with events on. The capture filter leaves the load out ("port 9"), so
# the difference between the two runs is the events (and the /proc snapshots, alike in both).
# Usage: bash bench/recorder-events.sh [seconds of load per run, default 20] [rates, default "1000 10000"] [rounds, default 1]
#   ATTRIBUTION=PATH measures another build (default: the JIT build of the tree); BASE=PATH adds that build in the
#   same rounds, alternating with the first, the order swapped every round (a before/after comparison); the medians
#   of the rounds close the run. Each line also gives the CPU of the snapshot thread.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-20}
rates=${2:-1000 10000}
rounds=${3:-1}
source "$root/bench/lib.sh"
bench_needs gcc libc6-dev
if [ -n "${ATTRIBUTION:-}" ]; then builds=(new); cmd_new=$ATTRIBUTION
else
  dotnet build -v q -nologo -c Release "$root/src/Attribution.Cli" >/dev/null
  builds=(tree); cmd_tree="dotnet $root/src/Attribution.Cli/bin/Release/net10.0/attribution.dll"
fi
[ -n "${BASE:-}" ] && { builds+=(base); cmd_base=$BASE; }
work=$(mktemp -d)
rec=""
cleanup() { [ -n "$rec" ] && kill "$rec" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cc -O2 -pthread -o "$work/connect" "$root/bench/connect/connect.c"
hz=$(getconf CLK_TCK)
port=$((40000 + RANDOM % 10000))

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
thread_ticks() { # pid [thread name, default kernel-events]: CPU ticks of that thread (0 when there is none)
  local t=0
  for task in /proc/"$1"/task/*; do [ "$(cat "$task/comm" 2>/dev/null)" = "${2:-kernel-events}" ] && t=$(awk '{print $14 + $15}' "$task/stat"); done
  echo "$t"
}
pct() { awk -v t="$1" -v s="$2" -v hz="$hz" 'BEGIN {printf "%.1f", 100 * t / hz / s}'; }

start_recorder() { # build, extra flags; sets rec
  local cli_var=cmd_$1; shift
  rm -f "$work/r.pcapng" "$work/r.pcapng.snapshots"
  ${!cli_var} record -o "$work/r.pcapng" --force -i lo "$@" "port 9" 2>"$work/r.err" & rec=$!
  for _ in $(seq 300); do grep -q "recording on" "$work/r.err" && break; sleep 0.1; done
  sleep 1
}

stop_recorder() {
  kill -TERM "$rec"; wait "$rec" || true; rec=""
}

summary_value() { # label from the closing summary table
  awk -v l="$1" '{ v = $NF; $NF = ""; sub(/^ +/, ""); sub(/ +$/, ""); if ($0 == l) print v }' "$work/r.err" | tr -d ','
}

median_of() { echo "$@" | tr ' ' '\n' | median; }
declare -A col=()
order_of() { # round: the builds, rotated by round
  local r=$1 n=${#builds[@]}
  echo "${builds[@]:$(( (r - 1) % n ))}" "${builds[@]:0:$(( (r - 1) % n ))}"
}

echo "# $(date -u +%FT%TZ) $(nproc) CPUs; builds: $(for b in "${builds[@]}"; do v=cmd_$b; printf '%s=%s ' "$b" "${!v}"; done); $rounds rounds"
echo "== short TCP connections on 127.0.0.1, ${seconds} s each (capture filter excludes them)"
printf "%-5s %-6s %-8s %-7s %-10s %-11s %-13s %-10s %-10s %-6s %-10s %s\n" round build target events achieved "CPU %core" "event thread" "snapshots" events lost "sidecar B" load
for rate in $rates; do
  declare -A bytes=() made=()
  for r in $(seq "$rounds"); do
    for build in $(order_of "$r"); do
      for mode in off on; do
        flags=(); [ "$mode" = off ] && flags=(--no-kernel-events)
        start_recorder "$build" "${flags[@]}"
        t0=$(ticks "$rec"); e0=$(thread_ticks "$rec"); n0=$(thread_ticks "$rec" snapshots); s0=$(date +%s%N)
        read -r n took < <("$work/connect" "$port" "$rate" "$seconds")
        t1=$(ticks "$rec"); e1=$(thread_ticks "$rec"); n1=$(thread_ticks "$rec" snapshots); s1=$(date +%s%N)
        stop_recorder
        wall=$(awk -v a="$s0" -v b="$s1" 'BEGIN {print (b - a) / 1e9}')
        ev=$(summary_value "kernel events"); lost=$(summary_value "kernel events lost")
        [ "$mode" = off ] && { ev="-"; lost="-"; }
        bytes[$build,$mode]=$(stat -c %s "$work/r.pcapng.snapshots"); made[$build,$mode]=$n
        cpu=$(pct $((t1 - t0)) "$wall"); evt=$(pct $((e1 - e0)) "$wall"); snap=$(pct $((n1 - n0)) "$wall")
        col[$rate,$build,$mode,cpu]+="$cpu "; col[$rate,$build,$mode,ev]+="$evt "; col[$rate,$build,$mode,snap]+="$snap "
        [ "$mode" = on ] && col[$rate,$build,lost]+="$lost "
        printf "%-5s %-6s %-8s %-7s %-10s %-11s %-13s %-10s %-10s %-6s %-10s %s\n" "$r" "$build" "$rate/s" "$mode" "$(awk -v n="$n" -v t="$took" 'BEGIN {printf "%.0f/s", n / t}')" \
          "$cpu" "$evt" "$snap" "$ev" "$lost" "${bytes[$build,$mode]}" "$(cut -d' ' -f1 /proc/loadavg)"
      done
      echo "   $build: sidecar bytes per 10k connections from events: $(awk -v a="${bytes[$build,on]}" -v b="${bytes[$build,off]}" -v n="${made[$build,on]}" 'BEGIN {printf "%.0f", (a - b) * 10000 / n}')"
    done
  done
  for build in "${builds[@]}"; do
    for mode in off on; do
      echo "   median $build $rate/s events $mode: recorder $(median_of ${col[$rate,$build,$mode,cpu]}) % (of ${col[$rate,$build,$mode,cpu]}), event thread $(median_of ${col[$rate,$build,$mode,ev]}), snapshots $(median_of ${col[$rate,$build,$mode,snap]})"
    done
    echo "   $build $rate/s events lost per round: ${col[$rate,$build,lost]}"
  done
  unset bytes made
done

echo "== idle host (no load from this script), ${seconds} s"
for r in $(seq "$rounds"); do
  for build in $(order_of "$r"); do
    for mode in off on; do
      flags=(); [ "$mode" = off ] && flags=(--no-kernel-events)
      start_recorder "$build" "${flags[@]}"
      t0=$(ticks "$rec"); e0=$(thread_ticks "$rec"); sleep "$seconds"; t1=$(ticks "$rec"); e1=$(thread_ticks "$rec")
      stop_recorder
      cpu=$(pct $((t1 - t0)) "$seconds"); col[idle,$build,$mode]+="$cpu "
      echo "round $r $build: recorder CPU, events $mode: $cpu % of a core, of which the event thread $(pct $((e1 - e0)) "$seconds") % (kernel events: $(summary_value "kernel events"); load $(cut -d' ' -f1 /proc/loadavg))"
    done
  done
done
for build in "${builds[@]}"; do
  for mode in off on; do echo "   median $build idle, events $mode: $(median_of ${col[idle,$build,$mode]}) % (of ${col[idle,$build,$mode]})"; done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
