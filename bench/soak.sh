#!/usr/bin/env bash
# A long incident (issue 26, part 4): the recorder for hours with a ring buffer, its memory, fds and threads
# sampled, as root, one command:
#   bash bench/soak.sh [minutes, default 120] [new connections/s, default 200]
#   bash bench/soak.sh --short [rate]     10 minutes (the developers' own run)
#   bash bench/soak.sh --smoke            about 50 s, samples every 5 s (bench/run.sh --smoke: proves it runs)
#   bash bench/soak.sh --accelerated F    the 2 hours' connections and one-shot processes in 120/F minutes: F times
#                                         the rate and F one-shot loops (what fills by count shows in minutes)
# In a network namespace of its own (loopback only; the machine's own network is not touched), with conntrack
# engaged there by one nftables rule (so the recorder's conntrack events run too):
#   - `dist/attribution record -i lo` with a ring buffer, --rotate-size 50MB --rotate-files 4 (smoke: 5MB, 3):
#     the load below writes about 0.5 MB/s, so a file every 1.5-2 minutes: 60-80 rotations in 2 hours, 5-6 in
#     10 minutes (every rotation's path, sidecar switch and deletion taken many times), 200 MB on disk at most;
#   - RATE short TCP connections/s (bench/connect/connect.c, paced by sleeping);
#   - one steady TCP stream of 300 kB/s, 100 writes a second (bench/soak/stream.c);
#   - a new connect process about every 0.28 s, each making one connection, with a sleep between (about 7 processes
#     a second: process tables churn).
# Every minute (smoke: every 5 s): the recorder's VmRSS, RssAnon, RssFile, its managed heap (size, committed and
# fragmented, from the recorder's own ATTRIBUTION_MEMORY_STATUS line), open fds, threads, CPU (% of one core
# over the interval), the machine's process count (the recorder keeps /proc/PID/stat files open per process, so
# its fds follow the machine's processes) and the sidecar bytes written so far, into a CSV (printed; kept with KEEP=1).
# Warm-up: the first 10 % of the run, and at least until the ring's first rotation. After it: RSS within +-10 % of
# its median (the check), fds and threads max - min, sidecar bytes per hour and per connection (summed over every
# ring file written: sizes are followed every second, as the oldest files are deleted), kernel drops and events
# lost (the recorder's summary). Exits 1 when RSS is not flat or fds/threads grew (not with --smoke).
# Every process and the namespace made here are removed on exit, by their own pid or name.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
smoke=0
loops=1
case "${1:-}" in
  --smoke) smoke=1; shift ;;
  --accelerated) f=${2:?--accelerated needs a factor}; loops=$f; set -- $((120 / f)) $((200 * f)) ;;
  --short) shift; set -- 10 "${1:-200}" ;;
esac
if [ $smoke = 1 ]; then seconds=50; rate=200; every=5; rsize=5MB; rfiles=3
else seconds=$(( ${1:-120} * 60 )); rate=${2:-200}; every=60; rsize=50MB; rfiles=4; fi
kbps=300
source "$root/bench/lib.sh"
bench_needs iproute2 nftables gcc libc6-dev
cli=${ATTRIBUTION:-$root/dist/attribution}
[ -x "$cli" ] || (cd "$root" && bash scripts/setup.sh >/dev/null)

ns=soak$$
work=$(mktemp -d)
ring="$work/ring"; mkdir "$ring"
pids=()   # load processes: stopped by pid on exit
rec=""
cleanup() {
  [ -n "$rec" ] && kill -TERM "$rec" 2>/dev/null && wait "$rec" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
cc -O2 -pthread -o "$work/connect" "$root/bench/connect/connect.c"
cc -O2 -pthread -o "$work/stream" "$root/bench/soak/stream.c"
ip netns add "$ns"; ip -n "$ns" link set lo up
ip netns exec "$ns" nft -f - <<'NFT'
table inet soak {
  chain out { type filter hook output priority 0; ct state new counter; }
}
NFT

hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status() { awk '$1=="VmRSS:" {r=$2} $1=="RssAnon:" {a=$2} $1=="RssFile:" {f=$2} $1=="Threads:" {t=$2} END {print r, a, f, t}' "/proc/$1/status"; }
declare -A seen   # every ring file's largest size seen (deleted files keep their last size)
first_rotation=""
follow() { # note the ring files' sizes now
  local n s
  while read -r n s; do
    if [ "${seen[$n]:-0}" -lt "$s" ]; then seen[$n]=$s; fi  # (an && list here made a file that had not grown end the soak under set -e)
  done < <(stat -c '%n %s' "$ring"/* 2>/dev/null || true)
}
sum_of() { # suffix: bytes of the ring files seen whose name ends so
  local n t=0
  for n in "${!seen[@]}"; do [[ $n == *"$1" ]] && t=$((t + seen[$n])); done
  echo "$t"
}
count_of() { local n c=0; for n in "${!seen[@]}"; do [[ $n == *"$1" ]] && c=$((c + 1)); done; echo "$c"; }

ATTRIBUTION_MEMORY_STATUS=$every ip netns exec "$ns" "$cli" record -i lo -o "$ring/soak.pcapng" --rotate-size "$rsize" --rotate-files "$rfiles" 2>"$work/rec.err" & rec=$!
for _ in $(seq 300); do grep -q "recording on" "$work/rec.err" && break; sleep 0.1; done
grep -q "recording on" "$work/rec.err" || { echo "the recorder did not start: $(cat "$work/rec.err")" >&2; exit 1; }
echo "== soak: ${seconds} s at $rate new TCP connections/s + a ${kbps} kB/s stream + one-shot processes, ring --rotate-size $rsize --rotate-files $rfiles; $(nproc) cores"
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine makes the CPU figures noisy)"

ip netns exec "$ns" "$work/connect" 7000 0 $((seconds + 60)) 127.0.0.1 >/dev/null & pids+=($!)
sleep 0.3
ip netns exec "$ns" "$work/connect" 7000 "$rate" "$seconds" 127.0.0.1 >"$work/connect.out" & pids+=($!)
ip netns exec "$ns" "$work/stream" 7001 "$kbps" "$seconds" >"$work/stream.out" & pids+=($!)
# One-shot processes: a new connect process per connection, about 3 a second per loop, bounded in time and count.
for _ in $(seq "$loops"); do
  ip netns exec "$ns" bash -c 'end=$((SECONDS + $1)); for _ in $(seq $(($1 * 4))); do
      [ $SECONDS -lt $end ] || break; "$2" 7000 1 1 127.0.0.1 >>"$3"; sleep 0.25; done' _ "$seconds" "$work/connect" "$work/oneshot.out" & pids+=($!)
done

csv="$work/samples.csv"
echo "elapsed_s,rss_kb,rss_anon_kb,rss_file_kb,heap_kb,gc_committed_kb,fragmented_kb,fds,threads,cpu_pct,machine_processes,capture_files_written,sidecar_bytes,load1" >"$csv"
start=$EPOCHSECONDS
prev_ticks=$(ticks "$rec"); prev_wall=$EPOCHREALTIME
next=0
for _ in $(seq $((seconds + 10))); do  # one pass a second at most
  follow
  elapsed=$((EPOCHSECONDS - start))
  if [ -z "$first_rotation" ] && [ "$(count_of .pcapng)" -ge 2 ]; then first_rotation=$elapsed; fi
  if [ "$elapsed" -ge "$next" ]; then
    [ -d "/proc/$rec" ] || { echo "the recorder exited early: $(tail -5 "$work/rec.err")" >&2; exit 1; }
    read -r rss anon file threads < <(status "$rec")
    fds=$({ ls "/proc/$rec/fd" 2>/dev/null || true; } | wc -l)  # an fd closed mid-listing is no failure
    t=$(ticks "$rec"); w=$EPOCHREALTIME
    cpu=$(awk -v a="$prev_ticks" -v b="$t" -v s="$prev_wall" -v e="$w" -v hz="$hz" 'BEGIN {if (e > s) printf "%.1f", 100 * (b - a) / hz / (e - s); else print 0}')
    prev_ticks=$t; prev_wall=$w
    all=(/proc/[0-9]*); procs=${#all[@]}
    heap=$({ grep '^memory: heap' "$work/rec.err" || true; } | tail -1 | awk '{for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } printf "%s,%s,%s", v["heap_kb"], v["committed_kb"], v["fragmented_kb"]}')
    echo "$elapsed,$rss,$anon,$file,${heap:-,,},$fds,$threads,$cpu,$procs,$(count_of .pcapng),$(sum_of .snapshots),$(cut -d' ' -f1 /proc/loadavg)" >>"$csv"
    next=$((next + every))
  fi
  [ "$elapsed" -ge "$seconds" ] && break
  sleep 1
done
for pid in "${pids[@]:1}"; do wait "$pid" || true; done  # the load ends by itself (bounded in time)
kill -TERM "$rec"; wait "$rec" || true; rec=""
follow
elapsed=$((EPOCHSECONDS - start))

made=$(awk '{n += $1} END {print n + 0}' "$work/connect.out")
oneshots=$(awk '{n += $1} END {print n + 0}' "$work/oneshot.out" 2>/dev/null || echo 0)
streamed=$(awk '{print $1}' "$work/stream.out")
conns=$((made + oneshots + 1))
side=$(sum_of .snapshots); capt=$(sum_of .pcapng); files=$(count_of .pcapng)
drops=$(awk '/dropped by the kernel/ {print $NF}' "$work/rec.err" | tr -d ,)
events=$(awk '$1=="kernel" && $2=="events" && NF==3 {print $NF}' "$work/rec.err" | tr -d ,)
lost=$(awk '/kernel events lost/ {print $NF}' "$work/rec.err" | tr -d ,)
written=$(awk '/ring buffer:/ {print $3}' "$work/rec.err" | tr -d ,)
warm=$(( seconds / 10 )); [ -n "$first_rotation" ] && [ "$first_rotation" -gt "$warm" ] && warm=$first_rotation

echo
column -t -s, "$csv"
echo "the recorder's GC: $({ grep '^memory: gc' "$work/rec.err" || true; } | head -1)"
echo "the recorder's last memory line: $({ grep '^memory: heap' "$work/rec.err" || true; } | tail -1)"
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "connections: $made of $((rate * seconds)) paced, $oneshots by one-shot processes, 1 stream ($streamed bytes)"
echo "ring: $files capture files written (the recorder: ${written:-?}), first rotation after ${first_rotation:-none} s; capture $capt bytes"
echo "snapshots: $(awk '/snapshots on timer/ {print $NF}' "$work/rec.err") on timer, $(awk '/snapshots on new flows/ {print $NF}' "$work/rec.err") on new flows; new flow -> snapshot done, median / p95: $(awk -F'  +' '/new flow -> snapshot done/ {print $3}' "$work/rec.err")"
echo "kernel drops ${drops:-?}; kernel events ${events:-?}, lost ${lost:-?}; $(grep '^conntrack:' "$work/rec.err" || echo "conntrack: no line")"
awk -v s="$side" -v e="$elapsed" -v c="$conns" 'BEGIN {printf "sidecar bytes: %d in all, %.1f MB per hour, %.0f per connection (everything in the sidecars over every connection made)\n", s, s / e * 3600 / 1e6, s / c}'
set +e
awk -F, -v warm="$warm" -v smoke="$smoke" '
  NR > 1 && $1 >= warm { n++; t[n] = $1; r[n] = $2; a[n] = $3; hp[n] = $5; cm[n] = $6; f[n] = $8; th[n] = $9; p[n] = $11; c[n] = $10 }
  function med(x, k,   i, j, v, s) { for (i = 1; i <= k; i++) s[i] = x[i]; for (i = 2; i <= k; i++) { v = s[i]; for (j = i - 1; j >= 1 && s[j] > v; j--) s[j + 1] = s[j]; s[j + 1] = v } return s[int((k + 1) / 2)] }
  function lo(x, k,   i, m) { m = x[1]; for (i = 2; i <= k; i++) if (x[i] < m) m = x[i]; return m }
  function hi(x, k,   i, m) { m = x[1]; for (i = 2; i <= k; i++) if (x[i] > m) m = x[i]; return m }
  END {
    if (n < 3) { print "verdict: too few samples after the warm-up (" n ")"; exit smoke ? 0 : 1 }
    m = med(r, n); dev = 0
    for (i = 1; i <= n; i++) { d = (r[i] - m) / m * 100; if (d < 0) d = -d; if (d > dev) dev = d }
    # slope of RSS over time, least squares, kB per hour
    for (i = 1; i <= n; i++) { sx += t[i]; sy += r[i] } mx = sx / n; my = sy / n
    for (i = 1; i <= n; i++) { num += (t[i] - mx) * (r[i] - my); den += (t[i] - mx) ^ 2 }
    slope = den > 0 ? num / den * 3600 : 0
    printf "after the warm-up (%d s, %d samples): RSS median %d kB (anon %d), min %d, max %d: within %.1f %% of the median; trend %+.0f kB/h\n", warm, n, m, med(a, n), lo(r, n), hi(r, n), dev, slope
    printf "  managed heap median %d kB, min %d, max %d; GC committed median %d kB, min %d, max %d\n", med(hp, n), lo(hp, n), hi(hp, n), med(cm, n), lo(cm, n), hi(cm, n)
    printf "  fds %d-%d (max - min %d; the machine had %d-%d processes), threads %d-%d (max - min %d), recorder CPU median %.1f %% of a core\n", lo(f, n), hi(f, n), hi(f, n) - lo(f, n), lo(p, n), hi(p, n), lo(th, n), hi(th, n), hi(th, n) - lo(th, n), med(c, n)
    # growth: the last third of the samples against the first third (medians: a passing spike is no growth); the
    # recorder keeps 2 /proc files open per process it has read, so fds may follow the number of processes on the machine
    k = int(n / 3); if (k < 1) k = 1
    for (i = 1; i <= k; i++) { f1[i] = f[i]; f3[i] = f[n - k + i]; h1[i] = th[i]; h3[i] = th[n - k + i]; p1[i] = p[i]; p3[i] = p[n - k + i] }
    gf = med(f3, k) - med(f1, k); gt = med(h3, k) - med(h1, k); gp = med(p3, k) - med(p1, k)
    allowed = 16 + (gp > 0 ? 3 * gp : 0)
    printf "  growth, last third against first third (medians): fds %+d (allowed %d: 16 + 3 per process more on the machine, %+d), threads %+d (allowed 2)\n", gf, allowed, gp, gt
    ok = dev <= 10; okf = gf <= allowed && gt <= 2
    printf "verdict: RSS %s; fds and threads %s\n", ok ? "flat (within +-10 %)" : "NOT flat (beyond +-10 %)", okf ? "steady" : "GREW"
    exit ((ok && okf) || smoke) ? 0 : 1
  }' "$csv"
verdict=$?
set -e
exit $verdict
