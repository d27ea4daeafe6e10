#!/usr/bin/env bash
# The core pass on a real recorded flood (issue 26, item 5): `attribution record -i lo` (the defaults: kernel events,
# snapshots, conntrack) of an unpaced loopback UDP flood (flood/flood.c, 100-byte datagrams) to a receiving process,
# until the capture holds at least PACKETS packets; then the C libpcap floor (floor/floor.c: each packet's 5-tuple
# counted in a flow table, no sidecar) and `attribution analyze --no-packet-rows` (the core pass: the sidecar read,
# the evidence built, every packet attributed, flows and processes written) on that recording, alternating, ROUNDS
# times. Wall time per run (files in the page cache after the first), medians, the ratio core/floor in packets/s and
# each run's load. As root (the recording).
# Usage: bash bench/analyzer-recorded.sh [packets, default 1000000] [rounds, default 5]
#   ATTRIBUTION=PATH another build (default dist/attribution); BASE=PATH adds that build's core pass to the same rounds;
#   KEEP=DIR records into DIR and keeps the recording (to profile it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
packets=${1:-1000000}
rounds=${2:-5}
attribution=${ATTRIBUTION:-$root/dist/attribution}
base=${BASE:-}
source "$root/bench/lib.sh"
bench_needs gcc libpcap0.8-dev python3
[ -x "$attribution" ] || { echo "no $attribution (bash scripts/setup.sh builds it)" >&2; exit 1; }
work=$(mktemp -d)
dir=${KEEP:-$work}
mkdir -p "$dir"
sink=""
trap '[ -n "$sink" ] && kill "$sink" 2>/dev/null; rm -rf "$work"' EXIT
cc -O2 -o "$work/flood" "$root/bench/flood/flood.c"
cc -O2 -o "$work/floor" "$root/bench/floor/floor.c" -lpcap
port=47996
rec="$dir/flood.pcapng"

# The receiver: a process holding the destination socket, so both ends of every datagram have an owner. It reads
# what it can (the rest is dropped at its buffer after the capture saw it) and stops after 2 s of silence.
python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', $port)); s.settimeout(2)
try:
    while True: s.recv(2048)
except socket.timeout: pass
" & sink=$!
"$attribution" record -i lo -o "$rec" --force "udp port $port" 2>"$work/rec.err" & recorder=$!
for _ in $(seq 300); do grep -q "recording on" "$work/rec.err" && break; sleep 0.1; done
sleep 1
sent=0
for _ in $(seq 20); do # ~280k datagrams/s when quiet: a few seconds, bounded at 20 floods of 2 s
  sent=$((sent + $("$work/flood" "$port" 0 2 | awk '{print $1}')))
  [ "$sent" -ge "$packets" ] && break
done
sleep 1
kill -TERM "$recorder"; wait "$recorder" || true
wait "$sink" 2>/dev/null || true; sink=""
captured=$(awk '/^ *packets / {print $NF}' "$work/rec.err" | tr -d , | head -1)
echo "# $(date -u +%FT%TZ) $(nproc) CPUs; $attribution${base:+ (base: $base)}; recorded $sent datagrams sent, ${captured:-?} packets kept; capture $(du -h "$rec" | cut -f1), sidecar $(du -h "$rec.snapshots" | cut -f1)"

timed() { # label command... -> "label seconds load"
  local label=$1; shift
  local start end
  start=$(date +%s.%N); "$@" >/dev/null 2>"$work/last.err" || { echo "$label failed: $(head -3 "$work/last.err")" >&2; return 1; }; end=$(date +%s.%N)
  echo "$label $(echo "$end - $start" | bc) $(cut -d' ' -f1 /proc/loadavg)"
}
"$work/floor" "$rec" >/dev/null # into the page cache
for r in $(seq "$rounds"); do
  timed floor "$work/floor" "$rec"
  timed core "$attribution" analyze "$rec" --no-packet-rows -o "$work/core.db" --force
  if [ -n "$base" ]; then timed base "$base" analyze "$rec" --no-packet-rows -o "$work/base.db" --force; fi
done | tee "$work/runs"
n=$(sqlite3 "$work/core.db" "SELECT COALESCE(SUM(packets), 0) FROM flows")
right=$(sqlite3 "$work/core.db" "SELECT COALESCE(SUM(packets), 0) FROM flows WHERE src_process_id IS NOT NULL AND dst_process_id IS NOT NULL")
echo "# attributed: $right of $n packets with both ends (core.db flows)"
for label in floor core base; do
  grep -q "^$label " "$work/runs" || continue
  med=$(awk -v l="$label" '$1 == l {print $2}' "$work/runs" | median)
  echo "$label median $med s, $(echo "$n / $med" | bc) packets/s"
done
floor=$(awk '$1 == "floor" {print $2}' "$work/runs" | median)
core=$(awk '$1 == "core" {print $2}' "$work/runs" | median)
echo "core / floor (packets/s): $(echo "scale=2; $floor / $core" | bc)"
