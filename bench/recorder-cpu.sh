#!/usr/bin/env bash
# CPU per captured packet (issue 26): `attribution record --no-kernel-events`, `attribution record` (kernel events on)
# and `tcpdump -w` capturing the same paced loopback UDP flood (flood/flood.c, 100-byte datagrams), one at a time,
# alternating the order round by round. CPU is utime+stime of the capturing process, all its threads (/proc/PID/stat,
# clock ticks), from just before the flood to 1 s after it (the drain), so start-up and shutdown are not counted; the
# same window with no flood (rate 0) gives what each costs idle over it. As root.
# Usage: bash bench/recorder-cpu.sh [rates, default "20000 200000 max"] [seconds, default 5] [rounds, default 3]
#   a rate of `max` is the flood unpaced, as fast as its one sender goes on this machine (about 280k/s when quiet);
#   the CPU is per datagram it sent, whatever the rate it reached
#   ATTRIBUTION=PATH measures another build (default dist/attribution); MODES="tcpdump noev events" to choose;
#   BASE=PATH adds base-noev and base-events, that build in the same rounds (a before/after comparison).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rates=${1:-"20000 200000 max"}
seconds=${2:-5}
rounds=${3:-3}
modes=(${MODES:-tcpdump noev events})
base=${BASE:-}
[ -n "$base" ] && modes+=(base-noev base-events)
attribution=${ATTRIBUTION:-$root/dist/attribution}
source "$root/bench/lib.sh"
bench_needs gcc tcpdump
[ -x "$attribution" ] || [ -n "${ATTRIBUTION:-}" ] || (cd "$root" && bash scripts/setup.sh >/dev/null)
[ -x "$attribution" ] || { echo "no $attribution" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/flood" "$root/bench/flood/flood.c"
port=47998
tick=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime, every thread (the fields after comm)

run() { # mode rate -> prints "sent ticks kept"
  local mode=$1 rate=$2 pid out err
  case $mode in
    tcpdump) tcpdump -i lo -w "$work/t.pcap" "udp dst port $port" 2>"$work/err" & pid=$! ; ready="listening on" ;;
    noev)    "$attribution" record -i lo -o "$work/a.pcapng" --force --no-kernel-events "udp dst port $port" 2>"$work/err" & pid=$! ; ready="recording on" ;;
    events)  "$attribution" record -i lo -o "$work/a.pcapng" --force "udp dst port $port" 2>"$work/err" & pid=$! ; ready="recording on" ;;
    base-noev)   "$base" record -i lo -o "$work/a.pcapng" --force --no-kernel-events "udp dst port $port" 2>"$work/err" & pid=$! ; ready="recording on" ;;
    base-events) "$base" record -i lo -o "$work/a.pcapng" --force "udp dst port $port" 2>"$work/err" & pid=$! ; ready="recording on" ;;
  esac
  for _ in $(seq 200); do grep -q "$ready" "$work/err" && break; sleep 0.1; done
  sleep 1 # past start-up (the first snapshot, the exe hashes)
  local before sent after
  before=$(cpu_ticks "$pid")
  if [ "$rate" = max ]; then sent=$("$work/flood" "$port" 0 "$seconds" | awk '{print $1}')
  elif [ "$rate" -gt 0 ]; then sent=$("$work/flood" "$port" "$rate" "$seconds" | awk '{print $1}'); else sleep "$seconds"; sent=0; fi
  sleep 1
  after=$(cpu_ticks "$pid")
  kill -TERM "$pid"; wait "$pid" || true
  local kept
  if [ "$mode" = tcpdump ]; then kept=$(awk '/captured/ {print $1}' "$work/err"); else kept=$(awk '/^ *packets / {print $NF}' "$work/err" | tr -d ,); fi
  echo "$sent $((after - before)) ${kept:-?}"
}

echo "# $(date -u +%FT%TZ) $(nproc) CPUs; $attribution${base:+ (base: $base)}; ${seconds} s per run, $rounds rounds; CPU from $tick Hz ticks"
declare -A per idle
for r in $(seq "$rounds"); do
  # rotate the order of the modes each round
  order=("${modes[@]:$(( (r - 1) % ${#modes[@]} ))}" "${modes[@]:0:$(( (r - 1) % ${#modes[@]} ))}")
  for rate in 0 $rates; do
    for mode in "${order[@]}"; do
      read -r sent ticks kept < <(run "$mode" "$rate")
      load=$(cut -d' ' -f1 /proc/loadavg)
      ms=$(awk -v t="$ticks" -v h="$tick" 'BEGIN {printf "%.0f", t * 1000 / h}')
      if [ "$rate" = 0 ]; then
        idle[$mode]+="$ms "
        printf "round %d %-11s idle %ss: %5s ms CPU (load %s)\n" "$r" "$mode" "$seconds" "$ms" "$load"
      else
        us=$(awk -v t="$ticks" -v h="$tick" -v n="$sent" 'BEGIN {printf "%.3f", t * 1e6 / h / n}')
        per[$mode,$rate]+="$us "
        printf "round %d %-11s %7s/s: sent %8s kept %8s, %5s ms CPU, %s µs/packet (load %s)\n" "$r" "$mode" "$rate" "$sent" "$kept" "$ms" "$us" "$load"
      fi
    done
  done
done

echo
printf "%-12s %14s" mode "idle ms/${seconds}s"
for rate in $rates; do printf " %16s %9s" "µs/pkt @$rate" "× tcpdump"; done
echo
for mode in "${modes[@]}"; do
  printf "%-12s %14s" "$mode" "$(echo ${idle[$mode]} | tr ' ' '\n' | median)"
  for rate in $rates; do
    m=$(echo ${per[$mode,$rate]} | tr ' ' '\n' | median)
    t=$(echo ${per[tcpdump,$rate]:-} | tr ' ' '\n' | median)
    printf " %16s %9s" "$m" "$(awk -v a="$m" -v b="$t" 'BEGIN {if (b + 0 > 0) printf "%.1f", a / b; else print "n/a"}')"
  done
  echo
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
