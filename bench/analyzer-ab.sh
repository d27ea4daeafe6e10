#!/usr/bin/env bash
# Two builds of the analyzer on one capture, alternating run by run, for a change smaller than a shared machine's
# noise (whatever load comes and goes falls on both alike):
#   bash bench/analyzer-ab.sh RUNS CAPTURE PROGRAM_A PROGRAM_B [analyze options, e.g. --no-packet-rows]
# e.g. PROGRAM_A published from the base commit and PROGRAM_B from the change, both as scripts/setup.sh publishes
# (`dotnet publish ... -p:PublishAot=true -o DIR`). Prints every run's wall time of the whole process, and per
# program the median wall time and the median CPU time (user + system), then the load average.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"
bench_needs time

runs=$1 capture=$2 a=$3 b=$4; shift 4
work=$(mktemp -d /tmp/attr-ab.XXXXXX)
trap 'rm -rf "$work"' EXIT
: >"$work/A"; : >"$work/B"
for _ in $(seq "$runs"); do
  for side in A B; do
    program=$a; [ "$side" = B ] && program=$b
    rm -f "$work/out.db"
    t0=$(date +%s%N)
    # Exit 6 is "written, but the input was incomplete" (the synthetic sidecar has no final snapshot); time then
    # writes that first, and the times on its last line.
    rc=0; /usr/bin/time -f "%U %S" -o "$work/cpu" "$program" analyze "$capture" -o "$work/out.db" "$@" >/dev/null 2>&1 || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 6 ]; then echo "$program failed (exit $rc)" >&2; exit 1; fi
    t1=$(date +%s%N)
    echo "$(( (t1 - t0) / 1000000 )) $(tail -1 "$work/cpu" | awk '{printf "%d", ($1 + $2) * 1000}')" >>"$work/$side"
  done
done
for side in A B; do
  program=$a; [ "$side" = B ] && program=$b
  printf "%s: wall %s ms (median), CPU %s ms (median); runs: %s\n" "$program" \
    "$(cut -d' ' -f1 "$work/$side" | median)" "$(cut -d' ' -f2 "$work/$side" | median)" "$(cut -d' ' -f1 "$work/$side" | tr '\n' ' ')"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
