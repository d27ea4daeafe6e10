#!/usr/bin/env bash
# What hashing executables costs (docs/RECORDING.md, What it ran): five 200 MB programs (curl padded with zeros: it
# still runs), each started three times against a local web server while 20 curls a round make new flows; once with
# --exe-hash-budget BUDGET (default 60s), once with 0 (nothing hashed). Prints the recorder's summary lines: MB and CPU
# ms hashed, and new flow -> snapshot done. As root, from the repository root, after publishing dist/attribution.
set -euo pipefail
BUDGET=${1:-60s}
work=$(mktemp -d /tmp/attr-exehash-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/www" && echo hi > "$work/www/index.html"
for i in 1 2 3 4 5; do cp /usr/bin/curl "$work/big$i"; head -c 200000000 /dev/zero >> "$work/big$i"; done
port=18433
for budget in "$BUDGET" 0; do
  python3 -m http.server --bind 127.0.0.1 $port --directory "$work/www" >/dev/null 2>&1 & server=$!
  sleep 1
  dist/attribution record -o "$work/b.pcapng" -i lo --force --exe-hash-budget "$budget" "port $port" 2>"$work/b.err" & recorder=$!
  sleep 3
  for round in 1 2 3; do
    pids=""; for i in 1 2 3 4 5; do "$work/big$i" -s -o /dev/null "http://127.0.0.1:$port/" & pids="$pids $!"; done
    for i in $(seq 1 20); do curl -s -o /dev/null "http://127.0.0.1:$port/"; sleep 0.05; done
    wait $pids
  done
  sleep 1
  kill -INT $recorder; wait $recorder || true
  kill $server
  echo "--exe-hash-budget $budget:"; grep -E "^executables|new flow" "$work/b.err"
done
