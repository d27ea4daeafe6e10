#!/usr/bin/env bash
# What exec identities cost (issue 27), as root, one command:
#   bash bench/recorder-exec.sh [rate, default 300 execs/s] [seconds, default 10] [rounds, default 5]
# A paced exec load (exec/spawn.c: RATE posix_spawns of /bin/true a second, one at a time) under each mode in turn,
# the order rotated every round:
#   none     nothing records
#   noev     attribution record --no-kernel-events (processes found by its /proc scans only)
#   events   attribution record (defaults: every exec is a sched_process_exec sample carrying the top 16 KiB of the
#            new user stack, docs/RECORDING.md "Exec arguments"; perf copies it in the exec'ing task)
#   base     BASE=PATH: another build's record with its defaults, in the same rounds (e.g. one built without the stack)
# Reported per mode (medians over the rounds, min-max): the recorder's CPU per exec (utime+stime of all its threads
# over the load, µs; idle cost over the same window subtracted), and what the load pays: its children's CPU per exec
# (where the kernel's copy of the stack lands) and the median spawn-to-exit time, against the same round's `none`.
# CPU comes in clock ticks (10 ms): a short run (the smoke's 100 execs) is coarse enough to go negative once the idle
# rate is taken off. The capture filter matches nothing ("udp port 9"): only the exec path is measured. Kernel events are host-wide:
# every exec on the machine is sampled, and other work on it moves every figure; compare modes of one run only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rate=${1:-300}
seconds=${2:-10}
rounds=${3:-5}
attribution=${ATTRIBUTION:-$root/dist/attribution}
base=${BASE:-}
modes=(none noev events)
[ -n "$base" ] && modes+=(base)
source "$root/bench/lib.sh"
bench_needs gcc libc6-dev
[ -x "$attribution" ] || [ -n "${ATTRIBUTION:-}" ] || (cd "$root" && bash scripts/setup.sh >/dev/null)
[ -x "$attribution" ] || { echo "no $attribution" >&2; exit 1; }
work=$(mktemp -d)
rec=""
cleanup() { [ -n "$rec" ] && kill -TERM "$rec" 2>/dev/null && wait "$rec" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cc -O2 -o "$work/spawn" "$root/bench/exec/spawn.c"
tick=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime, every thread

run() { # mode -> "spawned children_cpu_us median_us recorder_ticks idle_ticks lost"
  local mode=$1 prog=$attribution opts=()
  case $mode in
    none) ;;
    noev) opts=(--no-kernel-events) ;;
    events) ;;
    base) prog=$base ;;
  esac
  rec=""
  if [ "$mode" != none ]; then
    "$prog" record -i lo -o "$work/a.pcapng" --force "${opts[@]}" "udp port 9" 2>"$work/err" & rec=$!
    for _ in $(seq 200); do grep -q "recording on" "$work/err" && break; sleep 0.1; done
    sleep 2 # past start-up (the first snapshot, the executables' hashes)
  fi
  local i0 i1 r0 r1 out
  [ -n "$rec" ] && i0=$(cpu_ticks "$rec")
  sleep 1
  [ -n "$rec" ] && { i1=$(cpu_ticks "$rec"); r0=$i1; }
  out=$("$work/spawn" "$rate" "$seconds")
  sleep 0.5 # the reader's last round
  [ -n "$rec" ] && r1=$(cpu_ticks "$rec")
  local lost=0
  if [ -n "$rec" ]; then
    kill -TERM "$rec"; wait "$rec" || true; rec=""
    # the closing table's line "kernel events lost  N" (absent with --no-kernel-events)
    lost=$(awk '{ v = $NF; $NF = ""; sub(/^ +/, ""); sub(/ +$/, ""); if ($0 == "kernel events lost") print v }' "$work/err" | tr -d ,)
    echo "$out $((r1 - r0)) $((i1 - i0)) $lost"
  else
    echo "$out 0 0 -"
  fi
}

echo "== exec cost: $rate execs/s for $seconds s, $rounds rounds; modes: ${modes[*]}; $(nproc) CPUs; $attribution${base:+ (base: $base)}"
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A rcpu ccpu took dcpu dtook lostsum
for r in $(seq "$rounds"); do
  order=("${modes[@]:$(( (r - 1) % ${#modes[@]} ))}" "${modes[@]:0:$(( (r - 1) % ${#modes[@]} ))}")
  declare -A got=()
  for mode in "${order[@]}"; do
    read -r n cus med rt it lost < <(run "$mode")
    # the recorder's CPU over the load, less its idle rate over the second before it, per exec
    rcpu[$mode]+="$(awk -v rt="$rt" -v it="$it" -v s="$seconds" -v h="$tick" -v n="$n" 'BEGIN {printf "%.1f", (rt - it * (s + 0.5)) * 1e6 / h / n}') "
    got[$mode]="$(awk -v c="$cus" -v n="$n" 'BEGIN {printf "%.1f", c / n}') $med"
    [[ "$lost" =~ ^[0-9]+$ ]] && lostsum[$mode]=$(( ${lostsum[$mode]:-0} + lost ))
    printf "round %d %-7s spawned %6d, children %s µs CPU/exec, spawn-to-exit median %s µs, recorder %s µs/exec (load %s)\n" \
      "$r" "$mode" "$n" "${got[$mode]% *}" "$med" "$(echo ${rcpu[$mode]} | awk '{print $NF}')" "$(cut -d' ' -f1 /proc/loadavg)"
  done
  read -r c0 t0 <<<"${got[none]}"
  for mode in "${modes[@]}"; do
    read -r c t <<<"${got[$mode]}"
    ccpu[$mode]+="$c "; took[$mode]+="$t "
    dcpu[$mode]+="$(awk -v a="$c" -v b="$c0" 'BEGIN {printf "%.1f", a - b}') "
    dtook[$mode]+="$(awk -v a="$t" -v b="$t0" 'BEGIN {printf "%.0f", a - b}') "
  done
done

span() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {printf "%s (%s to %s)", a[int((NR+1)/2)], a[1], a[NR]}'; }
echo
printf "%-7s %-28s %-28s %-28s %-26s %s\n" mode "recorder µs CPU/exec" "children µs CPU/exec" "  more than none" "spawn-to-exit µs, more" "events lost"
for mode in "${modes[@]}"; do
  printf "%-7s %-28s %-28s %-28s %-26s %s\n" "$mode" "$( [ "$mode" = none ] && echo - || echo ${rcpu[$mode]} | span)" \
    "$(echo ${ccpu[$mode]} | span)" "$(echo ${dcpu[$mode]} | span)" "$(echo ${dtook[$mode]} | span)" "${lostsum[$mode]:--}"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
