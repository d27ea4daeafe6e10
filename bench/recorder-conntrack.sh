#!/usr/bin/env bash
# What recording conntrack costs, as root, inside three namespaces of its own (host H NATing for a container
# C towards a remote R, with nftables masquerade; the machine's own firewall is not touched):
#   1. one ctnetlink dump of H's table holding ENTRIES NATed UDP flows (against `conntrack -L`), and the
#      recorder's timer dumps of it;
#   2. conntrack events at RATE new NATed flows per second for SECONDS: events recorded, lost (ENOBUFS),
#      the recorder's CPU and sidecar growth, against the same recording with no new flows.
# Usage: bash bench/recorder-conntrack.sh [entries, default 10000] [rate/s, default 1000] [seconds, default 10]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
entries=${1:-10000}; rate=${2:-1000}; seconds=${3:-10}
source "$root/bench/lib.sh"
bench_needs iproute2 nftables conntrack
dotnet build -v q -nologo -c Release "$root/src/Attribution.Cli" >/dev/null
cli="dotnet $root/src/Attribution.Cli/bin/Release/net10.0/attribution.dll"
p=actb$$
work=$(mktemp -d)
rec=""
cleanup() { [ -n "$rec" ] && kill "$rec" 2>/dev/null || true; for n in H C R; do ip netns del ${p}$n 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
for n in H C R; do ip netns add ${p}$n; ip -n ${p}$n link set lo up; done
ip -n ${p}H link add hc type veth peer name ch netns ${p}C
ip -n ${p}H link add hr type veth peer name rh netns ${p}R
ip -n ${p}H addr add 10.231.9.1/24 dev hc; ip -n ${p}C addr add 10.231.9.2/24 dev ch
ip -n ${p}H addr add 198.19.9.1/24 dev hr; ip -n ${p}R addr add 198.19.9.2/24 dev rh
for l in hc hr; do ip -n ${p}H link set $l up; done; ip -n ${p}C link set ch up; ip -n ${p}R link set rh up
ip -n ${p}C route add default via 10.231.9.1
ip netns exec ${p}H sysctl -qw net.ipv4.ip_forward=1
ip netns exec ${p}H nft -f - <<NFT
table inet bench_nat {
  chain post { type nat hook postrouting priority 100; oifname "hr" masquerade; }
}
NFT
# R drops what arrives (no ICMP storm back), so every flow stays one UNREPLIED entry in H for 30 s.
ip netns exec ${p}R nft -f - <<NFT
table inet bench_drop {
  chain in { type filter hook input priority 0; udp dport 1-65535 drop; }
}
NFT

flows() { # count rate: new UDP flows from C to R (one datagram each to the next port), paced at rate/s (0: at once)
  ip netns exec ${p}C python3 - "$1" "$2" <<'PY'
import socket, sys, time
count, rate = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
start = time.monotonic()
for i in range(count):
    if rate > 0:
        due = start + i / rate
        while time.monotonic() < due: time.sleep(max(0, due - time.monotonic()) / 2)
    s.sendto(b'x', ('198.19.9.2', 1024 + i % 60000))
PY
}

cpu_ticks() { awk '{print $14 + $15}' /proc/$1/stat; }

record() { # name seconds: records in H for that long; prints recorder CPU % of a core, sidecar bytes, conntrack line
  ip netns exec ${p}H $cli record -o "$work/$1.pcapng" --force -i any --interval 1s "port 9" 2>"$work/$1.err" & rec=$!
  for _ in $(seq 300); do grep -q "recording on" "$work/$1.err" && break; sleep 0.1; done
  local t0; t0=$(cpu_ticks $rec); local w0; w0=$(date +%s.%N)
  if [ "$1" = events ]; then flows $((rate * seconds)) "$rate"; else sleep "$2"; fi
  local t1; t1=$(cpu_ticks $rec); local w1; w1=$(date +%s.%N)
  kill -TERM $rec; wait $rec || true; rec=""
  echo "$1: recorder CPU $(awk -v a=$t0 -v b=$t1 -v s=$w0 -v e=$w1 -v hz=$(getconf CLK_TCK) 'BEGIN{printf "%.1f", 100*(b-a)/hz/(e-s)}') % of a core over $(awk -v s=$w0 -v e=$w1 'BEGIN{printf "%.1f", e-s}') s;" \
       "sidecar $(stat -c %s "$work/$1.pcapng.snapshots") bytes; $(grep '^conntrack:' "$work/$1.err")"
  python3 "$root/bench/conntrack-records.py" "$work/$1.pcapng.snapshots"
}

echo "== dump of $entries NATed entries"
flows "$entries" 0
echo "entries in H: $(ip netns exec ${p}H conntrack -C)"
for _ in $(seq 10); do s=$(date +%s%N); ip netns exec ${p}H conntrack -L >/dev/null 2>&1; echo $(( ($(date +%s%N) - s) / 1000 )); done \
  | median | awk '{printf "conntrack -L (process start included), median of 10: %.1f ms\n", $1/1000}'
record dump 5
echo "== events: $rate new NATed flows/s for $seconds s (table emptied first)"
ip netns exec ${p}H conntrack -F >/dev/null 2>&1
record idle "$seconds"
record events "$seconds"
