#!/usr/bin/env bash
# Kernel drops while capturing a loopback UDP flood at increasing rates, attribution record and
# tcpdump -w side by side on the same traffic (each has its own ring buffer). As root.
# Usage: bash bench/recorder-drops.sh [rates, default "20000 50000 100000 200000"] [seconds, default 5]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rates=${1:-"20000 50000 100000 200000"}
seconds=${2:-5}
source "$root/bench/lib.sh"
bench_needs gcc tcpdump
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/flood" "$root/bench/flood/flood.c"
dotnet build -v q -nologo -c Release "$root/src/Attribution.Cli" >/dev/null
cli="dotnet $root/src/Attribution.Cli/bin/Release/net10.0/attribution.dll"
port=47999
printf "%10s %12s %22s %22s\n" rate/s sent "attribution drops" "tcpdump -w drops"
for rate in $rates; do
  $cli record -o "$work/a.pcapng" --force -i lo "udp dst port $port" 2>"$work/a.err" & rec=$!
  tcpdump -i lo -w "$work/t.pcap" "udp dst port $port" 2>"$work/t.err" & tcp=$!
  for _ in $(seq 100); do grep -q "recording on" "$work/a.err" && grep -q "listening on" "$work/t.err" && break; sleep 0.1; done
  sent=$("$work/flood" "$port" "$rate" "$seconds" | awk '{print $1}')
  sleep 1  # let both drain their rings before stopping
  kill -TERM "$rec" "$tcp"; wait "$rec" || true; wait "$tcp" || true
  a=$(awk '/dropped by the kernel/ {print $NF}' "$work/a.err")
  t=$(awk '/dropped by kernel/ {print $1}' "$work/t.err")
  apk=$(awk '/^ *packets / {print $NF}' "$work/a.err")
  printf "%10s %12s %22s %22s\n" "$rate" "$sent" "$a (kept $apk)" "$t (kept $(awk '/captured/ {print $1}' "$work/t.err"))"
done
