#!/usr/bin/env bash
# What record's live table costs (issue 25): the recorder's CPU with the table drawn (standard error a terminal,
# under `script`) against without it (standard error a file), at a fixed load of short TCP connections on 127.0.0.1
# (bench/connect/connect.c), the two alternating, several rounds. As root, one command:
#   bash bench/recorder-live.sh [rounds, default 4] [connections/s, default 1000] [seconds measured, default 10]
# HOLDERS=N first starts N idle processes holding 10 sockets each on 127.0.0.1 (bench/busy/holder.c, as the busy
# bench's containers hold them: HOLDERS=500 is its 500 processes and 5 000 sockets), which every snapshot lists and
# the table's socket map is rebuilt from.
# Each run: the recorder on lo, a warm-up of 4 s (first snapshots, start-up), then the load; its utime + stime over
# the measured seconds, % of one core. Every process started here is stopped by its own pid on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-4}; rate=${2:-1000}; seconds=${3:-10}
source "$root/bench/lib.sh"
bench_needs gcc libc6-dev util-linux
cli=${ATTRIBUTION:-$root/dist/attribution}
[ -x "$cli" ] || (cd "$root" && bash scripts/setup.sh >/dev/null)
work=$(mktemp -d)
started=()
cleanup() {
  for pid in "${started[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${started[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cc -O2 -pthread -o "$work/connect" "$root/bench/connect/connect.c"
holders=${HOLDERS:-0}
if [ "$holders" -gt 0 ]; then
  cc -O2 -o "$work/holder" "$root/bench/busy/holder.c"
  "$work/holder" 127.0.0.1 30000 "$holders" >"$work/holder.out" & started+=($!)
  for _ in $(seq 600); do [ -s "$work/holder.out" ] && break; sleep 0.1; done
  grep -q ready "$work/holder.out" || { echo "holder did not get ready: $(cat "$work/holder.out")" >&2; exit 1; }
fi
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
recorder_under() { # the recorder among the descendants of $1 (script, then the shell it may run), by /proc's children lists
  local pid=$1 child
  for _ in 1 2 3; do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = attribution ] && { echo "$pid"; return; }
    child=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null | awk '{print $1}')
    [ -n "$child" ] || return 1
    pid=$child
  done
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = attribution ] && echo "$pid"
}

one() { # mode (table|none) round: prints the recorder's CPU %
  local mode=$1 n=$2 out="$work/$1$2.pcapng" wrapper rec port=$((7100 + $2))
  if [ "$mode" = table ]; then
    TERM=xterm script -qfec "$cli record -i lo -o $out --force" "$work/$mode$n.tty" >/dev/null </dev/null & wrapper=$!
  else
    "$cli" record -i lo -o "$out" --force 2>"$work/$mode$n.tty" & wrapper=$!
  fi
  started+=("$wrapper")
  for _ in $(seq 300); do grep -q "recording on" "$work/$mode$n.tty" 2>/dev/null && break; sleep 0.1; done
  rec=$(recorder_under "$wrapper")
  sleep 4
  "$work/connect" "$port" "$rate" $((seconds + 2)) >"$work/connect.$mode$n" & local client=$!
  started+=("$client")
  sleep 1
  local t0 w0 t1 w1
  t0=$(ticks "$rec"); w0=$EPOCHREALTIME
  sleep "$seconds"
  t1=$(ticks "$rec"); w1=$EPOCHREALTIME
  wait "$client" || true
  kill -INT "$rec"; wait "$wrapper" || true
  grep -q "SENT/s" "$work/$mode$n.tty" && drawn=yes || drawn=no
  awk -v a="$t0" -v b="$t1" -v s="$w0" -v e="$w1" -v hz="$hz" -v m="$mode" -v d="$drawn" -v c="$(awk '{print $1}' "$work/connect.$mode$n")" \
    'BEGIN {printf "%s %.2f (table drawn: %s; connections: %s)\n", m, 100 * (b - a) / hz / (e - s), d, c}'
  rm -f "$out" "$out.snapshots" "$out.sha256"
}

echo "== recorder CPU, % of one core, $rate new connections/s on 127.0.0.1, ${seconds}s measured; $holders idle processes holding $((holders * 10)) sockets; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  if [ $((r % 2)) = 1 ]; then one none "$r"; one table "$r"; else one table "$r"; one none "$r"; fi
done | tee "$work/results"
for m in none table; do echo "$m median: $(awk -v m=$m '$1==m {print $2}' "$work/results" | median)"; done
