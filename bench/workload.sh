#!/usr/bin/env bash
# What recording costs a real workload (issue 26), as root, one command:
#   bash bench/workload.sh [rounds, default 5] [seconds per run, default 8]
#   bash bench/workload.sh --smoke          (one short round: proves the bench runs; its figures mean nothing)
# Builds two network namespaces of its own joined by a veth (server 10.79.0.1, client 10.79.0.2; the machine's own
# namespace is not touched) and runs real servers in the server one: redis-server, driven by redis-benchmark (GET,
# 20 connections, kept open), and nginx, driven by ab (a new connection per request, 20 at once), both from the
# client namespace at full speed. Every run of a server is made under one of the modes, alternating in each round
# (the first mode moves on by one each round, so none always runs first):
#   none       nothing records
#   tcpdump    tcpdump -i any -w FILE in the server namespace
#   record     attribution record -o FILE (its defaults: -i any, kernel events on) in the server namespace
#   noevents   attribution record -o FILE --no-kernel-events
# MODES="none record ..." picks (and orders) the modes; EXTRA_MODES='name:--flag ...' adds record variants (each
# mode name, then the record options after the colon, commas for spaces). BASELINE=PROGRAM adds the mode `baseline`:
# that program's record with its defaults (another build, e.g. before a change, measured in the same rounds).
# Reported per server and mode: throughput and p99 latency (median, min-max over the rounds), the loss against the
# same round's `none` run (median, min-max), the recorder's or tcpdump's CPU per captured packet while the load ran
# (µs of CPU, from utime+stime ticks; the recorder's kernel-event thread apart), the server's own CPU per request (where
# the in-kernel cost of the tracepoints lands, and steadier than throughput on a shared machine), kernel events written per second and
# events lost, and the largest send/receive sampling period the recorder chose (SocketIoThinning). Kernel events are host-wide: other work on the machine adds to them. The load average is printed at
# the start and end: on a shared machine, compare the modes of one run only, never runs of different days.
# Everything it starts is stopped by its own pid, and its namespaces removed by name, on exit; KEEP=1 keeps its files.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
smoke=0
if [ "${1:-}" = "--smoke" ]; then smoke=1; shift; fi
if [ $smoke = 1 ]; then rounds=1; seconds=2; warm=1; else rounds=${1:-5}; seconds=${2:-8}; warm=3; fi
source "$root/bench/lib.sh"
bench_needs iproute2 tcpdump redis-server redis-tools nginx apache2-utils
cli=${ATTRIBUTION:-$root/dist/attribution}
[ -x "$cli" ] || (cd "$root" && bash scripts/setup.sh >/dev/null)
modes=(${MODES:-none tcpdump record noevents})
declare -A extra=()
for e in ${EXTRA_MODES:-}; do extra[${e%%:*}]=${e#*:}; modes+=("${e%%:*}"); done
[ -n "${BASELINE:-}" ] && modes+=(baseline)

p=awl$$                 # namespaces ${p}s (servers) and ${p}c (clients)
S=10.79.0.1 C=10.79.0.2
work=$(mktemp -d)
pids=()                 # servers: stopped by pid on exit
cap=""                  # the recorder or tcpdump of the current run
cleanup() {
  [ -n "$cap" ] && kill -TERM "$cap" 2>/dev/null && wait "$cap" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  ip netns del ${p}s 2>/dev/null || true; ip netns del ${p}c 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

ip netns add ${p}s; ip netns add ${p}c
ip -n ${p}s link set lo up; ip -n ${p}c link set lo up
ip -n ${p}s link add eth0 type veth peer name eth0 netns ${p}c
ip -n ${p}s addr add $S/24 dev eth0; ip -n ${p}s link set eth0 up
ip -n ${p}c addr add $C/24 dev eth0; ip -n ${p}c link set eth0 up
# Not shell functions: a function run with & is a subshell, and its pid ($!) would not be the server's.
in_s=(ip netns exec ${p}s) in_c=(ip netns exec ${p}c)

# Servers, up for the whole bench. No persistence for redis (no disk in the measurement); nginx serves a 4 KiB file.
"${in_s[@]}" redis-server --bind $S --port 6379 --save "" --appendonly no --protected-mode no --daemonize no \
  --logfile "$work/redis.log" --dir "$work" >/dev/null 2>&1 & pids+=($!)
mkdir -p "$work/www"; head -c 4096 /dev/zero | tr '\0' x >"$work/www/index.html"
cat >"$work/nginx.conf" <<EOF
user root;
worker_processes auto;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx-tmp; proxy_temp_path $work/nginx-tmp; fastcgi_temp_path $work/nginx-tmp;
  uwsgi_temp_path $work/nginx-tmp; scgi_temp_path $work/nginx-tmp;
  server { listen $S:8080; root $work/www; }
}
EOF
"${in_s[@]}" nginx -c "$work/nginx.conf" >/dev/null 2>&1 & pids+=($!)
redis_pid=${pids[0]} nginx_pid=${pids[1]}
for _ in $(seq 100); do
  "${in_c[@]}" redis-cli -h $S ping >/dev/null 2>&1 && "${in_c[@]}" ab -q -n 1 http://$S:8080/ >/dev/null 2>&1 && break; sleep 0.1
done

hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
event_ticks() { # the recorder's kernel-event thread (0 when events are off)
  local t=0 task
  for task in /proc/"$1"/task/*; do [ "$(cat "$task/comm" 2>/dev/null)" = kernel-events ] && t=$(awk '{print $14 + $15}' "$task/stat"); done
  echo "$t"
}

start_capture() { # mode -> cap (pid), or "" for none; waits until it captures
  local mode=$1 flags=()
  rm -f "$work/cap" "$work/cap.snapshots"; : >"$work/cap.err"
  case $mode in
    none) cap=""; return ;;
    tcpdump) "${in_s[@]}" tcpdump -i any -w "$work/cap" >/dev/null 2>"$work/cap.err" & cap=$! ;;
    *)
      [ "$mode" = noevents ] && flags=(--no-kernel-events)
      [ -n "${extra[$mode]:-}" ] && IFS=, read -r -a flags <<<"${extra[$mode]}"
      program=$cli; [ "$mode" = baseline ] && program=$BASELINE
      "${in_s[@]}" "$program" record -o "$work/cap" --force "${flags[@]}" >/dev/null 2>"$work/cap.err" & cap=$! ;;
  esac
  for _ in $(seq 300); do grep -q "recording on\|listening on" "$work/cap.err" && break; sleep 0.1; done
  sleep "$warm"  # past the recorder's first snapshots and the runtime's warm-up (a JIT build recompiles in its first seconds)
}

stop_capture() { [ -z "$cap" ] && return; kill -TERM "$cap"; wait "$cap" || true; cap=""; }

summary_value() { # label from the recorder's closing table, or tcpdump's "N packets captured"
  awk -v l="$1" '{ v = $NF; $NF = ""; sub(/^ +/, ""); sub(/ +$/, ""); if ($0 == l) print v }' "$work/cap.err" | tr -d ','
}

server_ticks() { # server -> CPU ticks of its processes (nginx: the master and its workers), where the tracepoints' cost lands
  local t=0 pid
  if [ "$1" = redis ]; then t=$(ticks "$redis_pid")
  else for pid in $nginx_pid $(cat /proc/$nginx_pid/task/*/children 2>/dev/null); do t=$((t + $(ticks "$pid"))); done; fi
  echo "$t"
}

redis_requests=0
load() { # server -> "throughput p99_ms" (requests/s, ms)
  case $1 in
    redis)
      "${in_c[@]}" redis-benchmark -h $S -p 6379 -t get -c 20 -n "$redis_requests" --csv 2>/dev/null |
        awk -F'"' -v n="$redis_requests" '$2 == "GET" {print $4, $14, n}' ;;
    nginx)
      "${in_c[@]}" ab -q -c 20 -t "$seconds" -n 100000000 -e "$work/ab.csv" http://$S:8080/ >"$work/ab.out" 2>&1 || true
      echo "$(awk '/^Requests per second/ {print $4}' "$work/ab.out") $(awk -F, '$1 == "99" {print $2}' "$work/ab.csv") $(awk '/^Complete requests/ {print $3}' "$work/ab.out")" ;;
  esac
}

# redis-benchmark counts requests, not seconds: a first run with nothing recording sizes it to about $seconds s.
redis_requests=50000
read -r rps _ < <(load redis) || true
redis_requests=$(awk -v r="$rps" -v s="$seconds" 'BEGIN {printf "%d", r * s}')

echo "== workload overhead: $rounds rounds of ${seconds} s per server and mode; modes: ${modes[*]}; $(nproc) cores"
echo "   redis: redis-benchmark -t get -c 20 -n $redis_requests (~${seconds} s); nginx: ab -c 20 -t $seconds (4 KiB file, a connection per request)"
echo "   recorder: $cli; load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine makes every figure noisy)"
: >"$work/results"
n=${#modes[@]}
for round in $(seq "$rounds"); do
  for server in redis nginx; do
    for k in $(seq 0 $((n - 1))); do
      mode=${modes[$(((k + round - 1) % n))]}
      start_capture "$mode"
      t0=0 e0=0; [ -n "$cap" ] && { t0=$(ticks "$cap"); e0=$(event_ticks "$cap"); }
      w0=$EPOCHREALTIME s0=$(server_ticks "$server")
      read -r thr p99 requests < <(load "$server") || true
      w1=$EPOCHREALTIME s1=$(server_ticks "$server")
      t1=0 e1=0; [ -n "$cap" ] && { t1=$(ticks "$cap"); e1=$(event_ticks "$cap"); }
      stop_capture
      packets=- events=- lost=- period=1
      case $mode in
        none) ;;
        tcpdump) packets=$(awk '/packets captured/ {print $1}' "$work/cap.err") ;;
        *) packets=$(summary_value packets); [ -z "$packets" ] && packets=$(summary_value "packets captured")
           events=$(summary_value "kernel events"); lost=$(summary_value "kernel events lost"); [ "$events" = off ] && events=-
           period=$(awk '/sends\/receives sampled/ {for (i = 1; i < NF; i++) if ($i == "to") print $(i + 1)}' "$work/cap.err" | tr -d ,) ;;
      esac
      echo "$server $mode $round $thr $p99 $((t1 - t0)) $((e1 - e0)) ${packets:--} ${events:--} ${lost:--} $(awk -v a="$w0" -v b="$w1" 'BEGIN {print b - a}') ${period:-1} $((s1 - s0)) ${requests:-0}" >>"$work/results"
      [ $smoke = 1 ] && echo "   $server $mode: $thr req/s, p99 $p99 ms, server $((s1 - s0)) ticks for ${requests:-0} requests, $((t1 - t0)) ticks, packets ${packets:--}, events ${events:--} (lost ${lost:--}), send/receive samples 1 in up to ${period:-1}"
    done
  done
done
echo "   load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

stats() { # numbers on stdin -> "median (min-max)"
  sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "n/a"; exit} printf "%s (%s-%s)", a[int((NR+1)/2)], a[1], a[NR]}'
}
echo
printf "%-7s %-9s %-24s %-22s %-20s %-18s %-26s %-22s %-10s %s\n" server mode "requests/s med (min-max)" "p99 ms med (min-max)" "loss % vs none" "server µs/req" "CPU µs/packet [ev thread]" "kernel events/s" "lost" "thinned"
for server in redis nginx; do
  for mode in "${modes[@]}"; do
    sel() { awk -v s="$server" -v m="$mode" '$1 == s && $2 == m' "$work/results"; }
    thr=$(sel | awk '{print $4}' | stats); p99=$(sel | awk '{print $5}' | stats)
    loss=$(awk -v s="$server" -v m="$mode" '$1 == s && $2 == "none" {base[$3] = $4} $1 == s && $2 == m {got[$3] = $4}
      END {for (r in got) if (base[r] > 0) printf "%.1f\n", 100 * (1 - got[r] / base[r])}' "$work/results" | stats)
    cpu=- ev=- lost=- thin=-
    if [ "$mode" != none ]; then
      cpu="$(sel | awk -v hz="$hz" '$8 > 0 {printf "%.2f\n", 1e6 * $6 / hz / $8}' | stats)"
      [ "$mode" != tcpdump ] && cpu="$cpu [$(sel | awk -v hz="$hz" '$8 > 0 {printf "%.2f\n", 1e6 * $7 / hz / $8}' | stats | cut -d' ' -f1)]"
      ev=$(sel | awk -v warm="$warm" '$9 != "-" {printf "%.0f\n", $9 / ($11 + warm + 1)}' | stats)  # written over the run (load + ~3 s around it)
      lost=$(sel | awk '$10 != "-" {n += $10} END {print n + 0}')
      thin=$(sel | awk '{if ($12 > m) m = $12} END {print m + 0}')
      [ "$mode" = tcpdump ] && { ev=-; lost=-; thin=-; }
    fi
    srv=$(sel | awk -v hz="$hz" '$14 > 0 {printf "%.1f\n", 1e6 * $13 / hz / $14}' | stats)
    printf "%-7s %-9s %-24s %-22s %-20s %-18s %-26s %-22s %-10s %s\n" "$server" "$mode" "$thr" "$p99" "$loss" "$srv" "$cpu" "$ev" "$lost" "$thin"
  done
done
echo "loss: 1 - requests/s of the mode / the same round's none, in %; server µs/req: the server's own CPU (utime+stime of"
echo "redis-server, of nginx's master and workers) per request served, µs: what the tracepoints cost it lands there, and"
echo "unlike throughput it does not move with other work on the machine; CPU: the capturing process's utime+stime while the load"
echo "ran, per packet it captured, µs (ticks of 1/$hz s: a short run's figure is coarse), [of it the kernel-event thread];"
echo "kernel events/s: events the recorder wrote, over the run (load, the warm-up and ~1 s of start and stop), host-wide; lost: summed over the rounds;"
echo "thinned: the largest send/receive sampling period the recorder used in any round (1: every call; docs/RECORDING.md)."
