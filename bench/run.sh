#!/usr/bin/env bash
# Every benchmark, one command, as root (about 60 minutes):   bash bench/run.sh
#   1. the analyzer against the C floor, tcpdump and tshark on 1M/10M-packet captures (bench/analyzer.sh)
#   2. the recorder: one snapshot against ss, idle and loaded; new flow -> snapshot delay; CPU; sidecar
#      bytes per minute (bench/recorder-snapshots.sh)
#   3. kernel drops against tcpdump -w at increasing loopback rates (bench/recorder-drops.sh)
#   4. conntrack: one dump of 10 000 NATed entries, events at 1 000 new NATed flows/s (bench/recorder-conntrack.sh)
#   5. kernel events: recorder CPU and lost events at ~1k and ~10k new TCP connections/s, with and without
#      events; sidecar bytes per 10k connections; idle CPU (bench/recorder-events.sh)
#   6. a busy host: 5 container namespaces, 500 processes, 5 000 sockets, 0/10/100/1 000 new connections/s:
#      snapshot times, new flow -> snapshot, CPU, drops, against ss -tuanp in each namespace (bench/recorder-busy.sh)
#   7. CPU per captured packet against tcpdump -w, loopback UDP flood at 20k and 200k/s (bench/recorder-cpu.sh)
#   8. what recording costs real servers: redis and nginx in a namespace at full speed, nothing / tcpdump -w /
#      attribution record / --no-kernel-events alternating, 5 rounds (bench/workload.sh)
#   9. a long incident: 10 minutes at 200 new connections/s and a steady stream, ring buffer on; recorder RSS,
#      fds and threads flat (bench/soak.sh --short; the 2-hour soak is its own command, bash bench/soak.sh)
#  10. record's live table: recorder CPU with it and without at 1 000 new connections/s, beside 500 idle processes
#      holding 5 000 sockets (HOLDERS=500 bench/recorder-live.sh)
#  11. exec identities: recorder CPU per exec and what a paced exec load pays, nothing / --no-kernel-events / kernel
#      events (each exec's sample carries 16 KiB of its new stack) alternating (bench/recorder-exec.sh)
# bash bench/run.sh --smoke: every part once, small and short (CI: proves they run; the figures mean nothing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" = "--smoke" ]; then
  bash "$here/analyzer.sh" --smoke
  bash "$here/recorder-snapshots.sh" 6
  bash "$here/recorder-drops.sh" 20000 2
  bash "$here/recorder-conntrack.sh" 500 200 2
  bash "$here/recorder-events.sh" 2 1000
  bash "$here/recorder-busy.sh" --smoke
  bash "$here/recorder-cpu.sh" 20000 1 1
  bash "$here/workload.sh" --smoke
  bash "$here/soak.sh" --smoke
  bash "$here/recorder-live.sh" 1 100 2
  bash "$here/recorder-exec.sh" 100 1 1
else
  bash "$here/analyzer.sh"
  bash "$here/recorder-snapshots.sh" 60
  bash "$here/recorder-drops.sh"
  bash "$here/recorder-conntrack.sh"
  bash "$here/recorder-events.sh" 20
  bash "$here/recorder-busy.sh"
  bash "$here/recorder-cpu.sh"
  bash "$here/workload.sh"
  bash "$here/soak.sh" --short
  HOLDERS=500 bash "$here/recorder-live.sh" 4 1000 8
  bash "$here/recorder-exec.sh"
fi
