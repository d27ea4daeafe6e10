#!/usr/bin/env bash
# Measures what a recording costs in snapshots, on this host, as root:
#   - one full snapshot (timer snapshots of a recording) against `ss -tuanp` and `ss -tuan`, idle and
#     with 2 000 extra TCP sockets held by 50 processes on loopback (made here, removed after);
#   - the delay from a new flow's first packet to the end of the snapshot it triggers;
#   - sidecar bytes per minute, idle and busy (the 2 000 sockets plus a stream of short connections);
#   - the recorder's CPU on an idle host at the default interval, and the companion's (--snapshots-only).
# Usage: bash bench/recorder-snapshots.sh [seconds per sidecar run, default 60]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
source "$root/bench/lib.sh"
bench_needs iproute2 procps
dotnet build -v q -nologo -c Release "$root/src/Attribution.Cli" >/dev/null
dotnet build -v q -nologo -c Release "$root/tests/Attribution.TestPeer" >/dev/null
# The program a user runs (scripts/setup.sh's single file) where it is built, else the JIT build of the tree.
cli=${ATTRIBUTION:-$root/dist/attribution}
[ -x "$cli" ] || cli="dotnet $root/src/Attribution.Cli/bin/Release/net10.0/attribution.dll"
peer="dotnet $root/tests/Attribution.TestPeer/bin/Release/net10.0/Attribution.TestPeer.dll"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT


snapshot_ms() { # label: records 5 s at 100 ms and prints the median timer-snapshot duration
  $cli record -o "$work/s.pcapng" --force -i lo --duration 5s --interval 100ms "port 9" 2>/dev/null
  $cli snapshots "$work/s.pcapng" | awk '/ timer /{for(i=1;i<=NF;i++) if ($i=="took") print $(i+1)}' | median
}

ss_ms() { # flags: median wall time of one ss run, over 30 runs
  for _ in $(seq 30); do
    s=$(date +%s%N); ss $1 >/dev/null; e=$(date +%s%N); awk -v s="$s" -v e="$e" 'BEGIN {printf "%.3f\n", (e - s) / 1e6}'
  done | median
}

load() { # 50 processes x 40 listening sockets on loopback
  for i in $(seq 0 49); do
    mkfifo "$work/l$i"
    $peer tcp-listen-many 127.0.0.1 $((20000 + i * 40)) 40 <"$work/l$i" >"$work/l$i.out" &
    pids+=($!)
    exec {fd}>"$work/l$i"
  done
  for i in $(seq 0 49); do for _ in $(seq 100); do grep -q ready "$work/l$i.out" 2>/dev/null && break; sleep 0.1; done; done
}

sidecar_rate() { # label: bytes of sidecar per minute at the default interval
  $cli record -o "$work/r.pcapng" --force --duration "${seconds}s" "port 9" 2>/dev/null
  echo "$(( $(stat -c %s "$work/r.pcapng.snapshots") * 60 / seconds ))"
}

echo "== idle host ($(ls -d /proc/[0-9]* | wc -l) processes)"
echo "attribution snapshot (median ms): $(snapshot_ms)"
echo "ss -tuanp (median ms):            $(ss_ms -tuanp)"
echo "ss -tuan  (median ms):            $(ss_ms -tuan)"
echo "sidecar bytes/minute:             $(sidecar_rate)"
idle_cpu() { # label, record arguments: the recorder's utime + stime over the idle part of a recording, after a warm-up
  # (a third of the run, at most 20 s: the JIT build recompiles hot methods for tens of seconds after its start)
  local label=$1; shift
  local warm=$(( seconds / 3 < 20 ? seconds / 3 : 20 )); [ $warm -lt 2 ] && warm=2
  local window=$(( seconds - warm - 2 ))
  $cli record "$@" --force --duration "${seconds}s" 2>/dev/null & local cpu_rec=$!
  sleep $warm
  local t0 t1; t0=$(awk '{print $14 + $15}' "/proc/$cpu_rec/stat"); sleep $window; t1=$(awk '{print $14 + $15}' "/proc/$cpu_rec/stat")
  wait $cpu_rec
  printf '%-34s%s\n' "$label:" "$(awk -v t="$((t1 - t0))" -v s="$window" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f %% of a core\n", 100 * t / hz / s}')"
}
idle_cpu "recorder CPU, default interval" -o "$work/c.pcapng" "port 9"
idle_cpu "companion (--snapshots-only) CPU" --snapshots-only -o "$work/c.snapshots"
idle_cpu "companion, --no-kernel-events" --snapshots-only --no-kernel-events -o "$work/c.snapshots"

echo "== trigger delay (100 short connections, 10 ms apart, idle host)"
mkfifo "$work/srv"; $peer tcp-server 127.0.0.1 47901 <"$work/srv" >"$work/srv.out" & pids+=($!); exec {fd}>"$work/srv"
$cli record -o "$work/t.pcapng" --force -i lo "port 47901" 2>"$work/t.err" & rec=$!
for _ in $(seq 100); do grep -q "recording on" "$work/t.err" && break; sleep 0.1; done
$peer tcp-burst 127.0.0.1 47901 100 100 10 </dev/null >/dev/null
kill -TERM $rec; wait $rec || true   # SIGINT is ignored by background jobs of a script
grep "new flow" "$work/t.err" | sed 's/^ *//'

load
echo "== loaded host (+2000 TCP listening sockets in 50 processes)"
echo "attribution snapshot (median ms): $(snapshot_ms)"
echo "ss -tuanp (median ms):            $(ss_ms -tuanp)"
echo "ss -tuan  (median ms):            $(ss_ms -tuan)"
( for _ in $(seq $((seconds * 20))); do $peer tcp-burst 127.0.0.1 47901 1 100 0 </dev/null >/dev/null 2>&1 || true; done ) &
churn=$!
echo "sidecar bytes/minute (busy: load + a short connection every ~100 ms): $(sidecar_rate)"
kill $churn 2>/dev/null || true
