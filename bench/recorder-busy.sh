#!/usr/bin/env bash
# The recorder on a busy host with containers (issue 14), as root, one command:
#   bash bench/recorder-busy.sh [seconds per load, default 20] [loads, default "0 10 100 1000"]
#   bash bench/recorder-busy.sh --smoke          (small and short, < 60 s: proves the bench runs)
# Builds, inside namespaces of its own (the machine's own network namespace is not touched):
#   - a host side H and 5 containers C1..C5, each a veth to H (10.78.N.2 <-> 10.78.N.1), H routing between them;
#   - in each container 100 idle processes holding 10 sockets each (bench/busy/holder.c): 500 processes,
#     5 000 sockets (listeners, UDP, established pairs);
#   - per load, short TCP connections from each container to the next, through H (bench/connect/connect.c),
#     RATE per second in all.
# Runs `dist/attribution record -i any` in H (the host side sees every container's traffic) for each load, then
# reports per load: timer snapshot time, new flow -> its snapshot complete, new flows against triggered
# snapshots (the rest were coalesced), the stream's flows attributed to both ends, recorder CPU, kernel drops
# and events lost; and `ss -tuanp` in every namespace the recorder reads (the machine's own included, as the
# recorder scans all of /proc), timed in the same second half of each load, alone and summed.
# Every process and namespace made here is removed on exit, by its own pid or name.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
smoke=0
if [ "${1:-}" = "--smoke" ]; then smoke=1; shift; fi
if [ $smoke = 1 ]; then seconds=4; loads="0 100"; per_ns=20; warm=2; else seconds=${1:-20}; loads=${2:-0 10 100 1000}; per_ns=100; warm=5; fi
source "$root/bench/lib.sh"
bench_needs iproute2 gcc libc6-dev sqlite3
cli=${ATTRIBUTION:-$root/dist/attribution}
[ -x "$cli" ] || (cd "$root" && bash scripts/setup.sh >/dev/null)

p=arb$$                 # namespace names: ${p}h, ${p}c1..${p}c5
work=$(mktemp -d)
pids=()                 # holders, servers, clients: stopped by pid on exit
rec=""
cleanup() {
  [ -n "$rec" ] && kill -TERM "$rec" 2>/dev/null && wait "$rec" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for n in h c1 c2 c3 c4 c5; do ip netns del "$p$n" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
cc -O2 -o "$work/holder" "$root/bench/busy/holder.c"
cc -O2 -pthread -o "$work/connect" "$root/bench/connect/connect.c"

ip netns add ${p}h; ip -n ${p}h link set lo up
ip netns exec ${p}h sysctl -qw net.ipv4.ip_forward=1
for i in 1 2 3 4 5; do
  ip netns add ${p}c$i; ip -n ${p}c$i link set lo up
  ip -n ${p}h link add h$i type veth peer name eth0 netns ${p}c$i
  ip -n ${p}h addr add 10.78.$i.1/24 dev h$i; ip -n ${p}h link set h$i up
  ip -n ${p}c$i addr add 10.78.$i.2/24 dev eth0; ip -n ${p}c$i link set eth0 up
  ip -n ${p}c$i route add default via 10.78.$i.1
done

for i in 1 2 3 4 5; do
  ip netns exec ${p}c$i "$work/holder" 10.78.$i.2 20000 $per_ns >"$work/holder$i.out" & pids+=($!)
done
for i in 1 2 3 4 5; do
  for _ in $(seq 600); do [ -s "$work/holder$i.out" ] && break; sleep 0.1; done
  grep -q ready "$work/holder$i.out" || { echo "holder in c$i did not get ready: $(cat "$work/holder$i.out")" >&2; exit 1; }
done
for i in 1 2 3 4 5; do  # the stream's servers, up for the whole bench
  ip netns exec ${p}c$i "$work/connect" 7000 0 100000 10.78.$i.2 & pids+=($!)
done
sockets=0
for i in 1 2 3 4 5; do sockets=$((sockets + $(ip netns exec ${p}c$i ss -tuan | tail -n +2 | wc -l))); done
echo "== busy host: 5 containers, $((5 * per_ns)) idle processes, $sockets sockets in them; $(ls -d /proc/[0-9]* | wc -l) processes on the machine; $(nproc) cores"
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine makes every figure noisy)"

hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
thread_ticks() { # pid comm: CPU ticks of the recorder's thread of that name (snapshots, kernel-events)
  local t=0 task
  for task in /proc/"$1"/task/*; do [ "$(cat "$task/comm" 2>/dev/null)" = "$2" ] && t=$(awk '{print $14 + $15}' "$task/stat"); done
  echo "$t"
}
nsname() { [ "$1" = root ] && echo "" || echo "$p$1"; }
ss_sample() { # one round: ss -tuanp in each namespace the recorder reads, timed by bash in that namespace (no fork in the timing)
  local total=0 t
  for n in root h c1 c2 c3 c4 c5; do
    if [ $n = root ]; then t=$(bash -c 's=$EPOCHREALTIME; ss -tuanp >/dev/null; e=$EPOCHREALTIME; echo "$s $e"')
    else t=$(ip netns exec $p$n bash -c 's=$EPOCHREALTIME; ss -tuanp >/dev/null; e=$EPOCHREALTIME; echo "$s $e"'); fi
    t=$(awk -v s="${t% *}" -v e="${t#* }" 'BEGIN {printf "%.3f", (e - s) * 1000}')
    echo "$n $t" >>"$work/ss.$load"
    total=$(awk -v a="$total" -v b="$t" 'BEGIN {printf "%.3f", a + b}')
  done
  echo "sum $total" >>"$work/ss.$load"
}
pctl() { # p: percentile of the numbers on stdin (nearest rank); n/a when there are none
  grep . | sort -g | awk -v p="$1" '{a[NR]=$1} END {if (NR==0) {print "n/a"; exit} i=int(p*NR+0.999999); if (i<1) i=1; if (i>NR) i=NR; printf "%.2f", a[i]}'
}

: >"$work/results"
for load in $loads; do
  : >"$work/ss.$load"
  out="$work/r$load.pcapng"
  ip netns exec ${p}h "$cli" record -o "$out" --force -i any 2>"$work/r$load.err" & rec=$!
  for _ in $(seq 300); do grep -q "recording on" "$work/r$load.err" && break; sleep 0.1; done
  sleep "$warm"  # past the first snapshots and the runtime's warm-up (tier-1 recompilation runs in the first seconds)
  clients=()
  if [ "$load" != 0 ]; then
    for i in 1 2 3 4 5; do
      ip netns exec ${p}c$i "$work/connect" 7000 "$(awk -v r="$load" 'BEGIN {print r / 5}')" "$seconds" 10.78.$(( i % 5 + 1 )).2 \
        >"$work/client$i.$load" & clients+=($!); pids+=($!)
    done
  fi
  half=$((seconds / 2))
  t0=$(ticks "$rec"); s0=$(thread_ticks "$rec" snapshots); e0=$(thread_ticks "$rec" kernel-events); w0=$EPOCHREALTIME
  sleep "$half"
  t1=$(ticks "$rec"); s1=$(thread_ticks "$rec" snapshots); e1=$(thread_ticks "$rec" kernel-events); w1=$EPOCHREALTIME
  end=$(awk -v s="$EPOCHREALTIME" -v h="$((seconds - half))" 'BEGIN {printf "%.6f", s + h}')
  for _ in $(seq 20); do  # ss rounds in the second half, at most 20
    ss_sample
    [ "$(awk -v s="$EPOCHREALTIME" -v e="$end" 'BEGIN {print (s + 1 < e)}')" = 1 ] || break
    sleep 1
  done
  for c in "${clients[@]}"; do wait "$c" || true; done
  while [ "$(awk -v s="$EPOCHREALTIME" -v e="$end" 'BEGIN {print (s < e)}')" = 1 ]; do sleep 0.2; done
  t2=$(ticks "$rec")  # the whole run's CPU, for CPU per snapshot (faster snapshots are taken more often)
  kill -TERM "$rec"; wait "$rec" || true; rec=""
  made=0; [ "$load" != 0 ] && made=$(cat "$work"/client*."$load" | awk '{n += $1} END {print n + 0}')
  share() { awk -v a="$1" -v b="$2" -v s="$w0" -v e="$w1" -v hz="$hz" 'BEGIN {printf "%.1f", 100 * (b - a) / hz / (e - s)}'; }
  cpu="$(share "$t0" "$t1") [$(share "$s0" "$s1")/$(share "$e0" "$e1")]"
  drops=$(awk '/dropped by the kernel/ {print $NF}' "$work/r$load.err" | tr -d ,)
  lost=$(awk '/kernel events lost/ {print $NF}' "$work/r$load.err" | tr -d ,)
  "$cli" analyze "$out" --no-packet-rows -o "$work/r$load.db" >"$work/a$load.out" 2>&1 || true
  q() { sqlite3 -separator ' ' "$work/r$load.db" "$1"; }
  timer=$(q "select (end_ts - start_ts) * 1000 from snapshots where reason = 'timer'")
  trig=$(q "select (end_ts - trigger_ts) * 1000 from snapshots where trigger_ts is not null and trigger_ts > 0")
  ntrig=$(q "select count(*) from snapshots where reason = 'trigger'")
  per=$(awk -v t="$t2" -v n="$(q "select count(*) from snapshots")" -v hz="$hz" 'BEGIN {printf "%.1f", 1000 * t / hz / n}')
  read -r flows both ev < <(q "select count(*), sum(src_process_id is not null and dst_process_id is not null),
      sum(src_method not like '%event%') from flows where dst_port = 7000 and proto = 'tcp'")
  echo "$load|$made|$(pctl 0.5 <<<"$timer")|$(pctl 0.99 <<<"$timer")|$(pctl 0.5 <<<"$trig")|$(pctl 0.99 <<<"$trig")|$ntrig|$flows|${both:-0}|${ev:-0}|$cpu $per|$drops|$lost|$(awk '$1=="sum" {print $2}' "$work/ss.$load" | pctl 0.5)|$(awk '$1=="sum" {print $2}' "$work/ss.$load" | pctl 0.99)" >>"$work/results"
  echo "   ss -tuanp per namespace, median ms (load $load/s): $(for n in root h c1 c2 c3 c4 c5; do printf "%s %s  " $n "$(awk -v n=$n '$1==n {print $2}' "$work/ss.$load" | pctl 0.5)"; done)"
  [ -n "${KEEP:-}" ] || rm -f "$out" "$out.snapshots"
done

echo
printf "%-7s %-7s %-19s %-19s %-9s %-22s %-24s %-6s %-8s %-20s\n" "load/s" made "timer ms med/p99" "trigger ms med/p99" triggered "flows: both/by snap" "CPU% [snap/ev] ms/snap" drops "ev lost" "sum ss -tuanp med/p99"
while IFS='|' read -r load made tm tp gm gp nt fl both ev cpu drops lost sm sp; do
  printf "%-7s %-7s %-19s %-19s %-9s %-22s %-24s %-6s %-8s %-20s\n" "$load" "$made" "$tm / $tp" "$gm / $gp" "$nt" "$fl: $both / $ev" "$cpu" "$drops" "$lost" "$sm / $sp"
done <"$work/results"
echo "timer: median and p99 of the timer snapshots' own duration; trigger: new flow's first packet -> end of the snapshot"
echo "that served it (median, p99); triggered: snapshots taken for new flows (made - triggered were coalesced into them);"
echo "flows: TCP flows of the load in the capture, how many have both ends attributed, and how many have their client";
echo "end attributed by a socket seen in a snapshot (the rest by kernel events, docs/ATTRIBUTION.md);"
echo "CPU: recorder utime+stime over the first half of the load, % of one core, [of it the snapshot thread / the kernel"
echo "event thread], and the whole run's CPU per snapshot in ms (start-up included); ss: sum over the 7 namespaces read, median and p99 of the rounds."
