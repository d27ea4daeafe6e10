#!/usr/bin/env bash
# Proves that two builds of attribution write the same outputs: the check for a refactoring that promises
# byte-identical results (documented in bench/README.md, "same-outputs.sh").
#
#   bash scripts/same-outputs.sh BASE_BIN NEW_BIN [RECORDINGS_DIR...]
#
# BASE_BIN and NEW_BIN are any two programs, e.g. the NativeAOT single file of the base commit and of the change,
# each published as scripts/setup.sh does:
#   dotnet publish src/Attribution.Cli/Attribution.Cli.csproj -c Release -r linux-x64 --self-contained \
#     -p:PublishAot=true -p:DebugType=none -o /tmp/new-dist -v quiet -nologo
# Run it with the same program twice first (BASE BASE): it must say "same" everywhere, which proves that the
# normalisation below hides only what changes from run to run.
#
# Inputs: every recording in tests/fixtures/recordings (capture + sidecar), the same directory as one multi-file
# timeline (each file with its own sidecar, as a ring buffer is read), two synthetic captures made by
# bench/Attribution.Bench (20 000 packets over 2 000 flows, SLL2 and Ethernet; deterministic, generated once and fed
# to both programs), a --no-snapshots run and a 'tcp' filter run of loopback, a 'tcp' filter run of the SLL2 bench
# capture, and every pcapng (and pcap) under each RECORDINGS_DIR, e.g. the recordings the end-to-end tests keep with
# ATTR_KEEP=DIR: each with its own sidecar; else with the one sidecar of its folder that belongs to no capture
# (record --snapshots-only beside tcpdump: --snapshots); else --no-snapshots. tcpdump -C continuations (FILE1,
# FILE2, ...) are analysed with FILE as one set; a file that is not a capture at all is skipped, and said so.
#
# Outputs, for each input and each program: analyze to SQLite (compared as `sqlite3 .dump` plus the database's
# pragmas), to CSV and to Parquet (file by file, byte for byte), with --annotate for a single capture file (the
# annotated pcapng byte for byte, and the dump of the database written with it); for a single capture, extract --comm of the comm with most bytes in the base program's
# process_traffic (--unattributed where no process has traffic, or without snapshots), byte for byte; the text of
# `snapshots --sockets` and `--events`; the file names and modes in each output; and the analyze and extract
# summaries (stdout, stderr, exit code).
#
# Both programs read the same input paths and write to the same output paths (one run directory, moved aside after
# each run), so paths in the outputs (capture.path, snapshots_path, "written: ...") compare equal as they are, and
# are not normalised. Normalised, because they change from one run of the same program to the next, and nothing else:
#   - analysis.analyzed_at, the wall-clock time of the analysis: its value in the SQLite dump's INSERT of that row,
#     in analysis.csv's analyzed_at line, and in analysis.parquet. That Parquet file is the only one whose bytes are
#     not compared: the time is inside a Snappy-compressed page, where masking bytes is not safe (the compressor may
#     refer back into it, and the page sizes and footer offsets follow from it). It is compared as the text DuckDB
#     reads from it instead (`Attribution.Bench parquet-text`: writer, key-value metadata, schema, each column chunk's
#     type, codec, encodings and statistics, every row; offsets and sizes left out), with the analyzed_at value
#     masked wherever it occurs in that text. Every other Parquet file is compared byte for byte.
#   - "time taken" in analyze's summary (stderr), and the padding of that one table: Spectre pads it to its widest
#     cell, so a time one digit longer widens it; in that table only, runs of spaces and of rule characters are squeezed.
# Not normalised, because they are not in any output: the tool version (outputs carry the Version property, 0.1.0,
# not `--version`'s commit suffix), process ids and temporary names (DB.partial-PID, DIR/.partial-PID/: renamed away
# before a run ends). ATTRIBUTION_TIMINGS is unset, so no phase timings are printed.
#
# Prints "same  INPUT  OUTPUT" for each, and exits 0 when all are; otherwise "DIFFERS" with the first differing
# lines of each (DIFF_LINES=N, default 30), and exits 1; 2 for bad arguments or a program that failed outright (an
# exit code other than 0 or 6), since a comparison of missing outputs proves nothing. The fixtures and bench
# captures (9 inputs) take about 35 s on an idle 2-core machine, 150 s under a load average of 18; the first run also
# builds bench/Attribution.Bench. KEEP=1 keeps the work directory (printed), with every output and its normalised text.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [ $# -lt 2 ]; then
  echo "usage: bash scripts/same-outputs.sh BASE_BIN NEW_BIN [RECORDINGS_DIR...]" >&2
  exit 2
fi
base_bin=$(realpath "$1") new_bin=$(realpath "$2"); shift 2
for b in "$base_bin" "$new_bin"; do
  [ -x "$b" ] || { echo "same-outputs: $b is not an executable program" >&2; exit 2; }
done
recording_dirs=("$@")
for d in "${recording_dirs[@]}"; do
  [ -d "$d" ] || { echo "same-outputs: $d is not a directory" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || { echo "same-outputs: sqlite3 is needed (apt-get install sqlite3)" >&2; exit 2; }

work=$(mktemp -d /tmp/attr-same.XXXXXX)
cleanup() { if [ -n "${KEEP:-}" ]; then echo "kept: $work" >&2; else rm -rf "$work"; fi; }
trap cleanup EXIT
# Phase timings (stderr) would differ on every run: they are off unless this is set.
unset ATTRIBUTION_TIMINGS

started=$(date +%s)
echo "base: $base_bin ($("$base_bin" --version 2>&1 | head -1))"
echo "new:  $new_bin ($("$new_bin" --version 2>&1 | head -1))"

# The bench tool makes the synthetic captures and reads Parquet for the one file compared as text.
dotnet build -v q -nologo -c Release "$root/bench/Attribution.Bench" >"$work/bench-build.log" 2>&1 \
  || { cat "$work/bench-build.log" >&2; exit 2; }
bench_tool=(dotnet "$root/bench/Attribution.Bench/bin/Release/net10.0/Attribution.Bench.dll")

# --- the inputs: one line each in $work/cases, fields separated by US (paths may hold spaces) ---
# label; the captures (separated by RS); the evidence options, given to analyze and extract alike (--no-snapshots, or
# --snapshots FILE; RS); the BPF filter words (RS); extract: "comm", "unattributed" or empty for none (it takes one
# capture); the file `snapshots --sockets/--events` prints (a capture, or a companion sidecar; empty for none).
US=$'\x1f' RS=$'\x1e'
: >"$work/cases"
add_case() { local IFS=$US; echo "$*" >>"$work/cases"; }
join_rs() { local IFS=$RS; echo "$*"; }

fixtures="$root/tests/fixtures/recordings"
for capture in "$fixtures"/*.pcapng; do
  add_case "fixture:$(basename "$capture")" "$capture" "" "" comm "$capture"
done
add_case "fixture:loopback.pcapng --no-snapshots" "$fixtures/loopback.pcapng" --no-snapshots "" unattributed ""
add_case "fixture:loopback.pcapng 'tcp'" "$fixtures/loopback.pcapng" "" tcp comm ""
# A directory: every capture in it as one timeline through one flow table, each file with its own sidecar, as
# `analyze ring/` reads a ring buffer (the three fixtures are of one boot, so they may be read together).
add_case "fixture:recordings/ (3 files, one timeline)" "$fixtures/" "" "" "" ""

mkdir -p "$work/inputs"
for link in sll2 ethernet; do
  capture="$work/inputs/bench-$link.pcapng"
  "${bench_tool[@]}" generate --packets 20000 --flows 2000 --link "$link" -o "$capture" >/dev/null
  add_case "bench:20000p/2000f/$link" "$capture" "" "" comm "$capture"
done
add_case "bench:20000p/2000f/sll2 'tcp'" "$work/inputs/bench-sll2.pcapng" "" tcp comm ""

# is_capture FILE: pcapng (its section header block type) or pcap (either byte order, µs or ns): a test may keep
# other files under a capture's name (e.g. the one that proves `record` does not clobber earlier evidence).
is_capture() {
  case $(od -A n -N 4 -t x1 "$1" 2>/dev/null | tr -d ' ') in
    0a0d0d0a | d4c3b2a1 | a1b2c3d4 | 4d3cb2a1 | a1b23c4d) return 0 ;;
    *) return 1 ;;
  esac
}
# The recordings: each capture with its own sidecar; or, in a folder that holds one sidecar of no capture of its own
# (record --snapshots-only beside tcpdump or dumpcap), with that one (--snapshots), whose text is printed once; or
# without (--no-snapshots). tcpdump -C continuations (FILE1, FILE2, ...) are read with FILE, as one timeline.
declare -A companion_shown=()
for d in "${recording_dirs[@]}"; do
  while IFS= read -r -d '' capture; do
    rel=${capture#"${d%/}/"}
    if ! is_capture "$capture"; then echo "skipped (not a pcap or pcapng file): $capture"; continue; fi
    if [[ "$capture" =~ ^(.*\.pcap(ng)?)[0-9]+$ ]] && [ -f "${BASH_REMATCH[1]}" ]; then continue; fi
    parts=("$capture")
    while IFS= read -r part; do parts+=("$part"); done < <(
      for part in "$capture"[0-9]*; do
        suffix=${part#"$capture"}
        if [[ "$suffix" =~ ^[0-9]+$ ]]; then printf '%s\t%s\n' "$suffix" "$part"; fi
      done | sort -n | cut -f2-)
    caps_rs=$(join_rs "${parts[@]}")
    extract=comm; [ ${#parts[@]} -eq 1 ] || extract=""
    label="recording:$rel"; [ ${#parts[@]} -eq 1 ] || label="$label (+$(( ${#parts[@]} - 1 )) tcpdump -C files)"
    if [ -f "$capture.snapshots" ]; then
      add_case "$label" "$caps_rs" "" "" "$extract" "$capture"
      continue
    fi
    companions=()
    for sidecar in "$(dirname "$capture")"/*.snapshots; do
      [ -f "$sidecar" ] && [ ! -e "${sidecar%.snapshots}" ] && companions+=("$sidecar")
    done
    if [ ${#companions[@]} -eq 1 ]; then
      snap=""
      if [ -z "${companion_shown[${companions[0]}]:-}" ]; then snap=${companions[0]}; companion_shown[${companions[0]}]=1; fi
      add_case "$label --snapshots $(basename "${companions[0]}")" "$caps_rs" "$(join_rs --snapshots "${companions[0]}")" "" "$extract" "$snap"
    else
      add_case "$label --no-snapshots" "$caps_rs" --no-snapshots "" "${extract:+unattributed}" ""
    fi
  done < <(find "$d" -type f -regextype posix-extended -regex '.*\.pcap(ng)?[0-9]*' ! -name '*.annotated.pcapng' -print0 | sort -z)
done

# --- running one program on one input ---
# Every run writes into $work/run and is then moved to $work/out/N/{base,new}: the same paths for both programs.
# Exit codes 0 and 6 (written, from damaged input: the synthetic sidecars end without a final snapshot) are results
# to compare; anything else means a program failed outright, and the comparison would prove nothing.
failed_outright=0
check_exit() { # check_exit RC WHAT STDERR_FILE
  if [ "$1" -eq 0 ] || [ "$1" -eq 6 ]; then return 0; fi
  echo "FAILED (exit $1): $2" >&2; head -5 "$3" >&2; failed_outright=1
}

# run_one BIN CASE_DIR SIDE: all the outputs of one program for the current input (globals: caps, evidence, filter,
# extract, snap), moved to CASE_DIR/SIDE.
run_one() {
  local bin=$1 dir=$2 side=$3 run="$work/run" rc
  # The programs' outputs go to $run/out, what the script captures of them (stdout, stderr, exit codes) beside it.
  rm -rf "$run"; mkdir -p "$run/out"
  local -a analyze=("$bin" analyze "${caps[@]}" "${filter[@]}" "${evidence[@]}")
  local -a formats=(sqlite csv parquet)
  # --annotate takes one capture file (a set is annotated file by file).
  if [ ${#caps[@]} -eq 1 ] && [ -f "${caps[0]}" ]; then formats+=(annotate); fi
  for f in "${formats[@]}"; do
    local -a out
    case $f in
      sqlite) out=(-o "$run/out/out.db") ;;
      csv) out=(--format csv -o "$run/out/csv") ;;
      parquet) out=(--format parquet -o "$run/out/parquet") ;;
      annotate) out=(-o "$run/out/annotate.db" --annotate "$run/out/annotated.pcapng") ;;
    esac
    rc=0; "${analyze[@]}" "${out[@]}" >"$run/$f.stdout" 2>"$run/$f.stderr" || rc=$?
    echo "$rc" >"$run/$f.exit"
    check_exit "$rc" "${analyze[*]} ${out[*]}" "$run/$f.stderr"
  done
  if [ -n "$extract" ]; then
    # The comm is chosen once per input, from the first program's database (the base's), so both extract the same.
    if [ "$extract" = comm ] && [ ! -f "$dir/comm" ]; then
      sqlite3 "$run/out/out.db" "SELECT comm FROM process_traffic WHERE comm IS NOT NULL AND comm <> ''
                             ORDER BY bytes_out + bytes_in DESC, comm LIMIT 1" >"$dir/comm" 2>/dev/null || : >"$dir/comm"
    fi
    local -a select=(--unattributed)
    [ "$extract" = comm ] && [ -s "$dir/comm" ] && select=(--comm "$(cat "$dir/comm")")
    rc=0; "$bin" extract "${caps[0]}" "${filter[@]}" "${select[@]}" "${evidence[@]}" -o "$run/out/extract.pcapng" \
      >"$run/extract.stdout" 2>"$run/extract.stderr" || rc=$?
    echo "$rc" >"$run/extract.exit"
    check_exit "$rc" "$bin extract ${caps[0]} ${select[*]}" "$run/extract.stderr"
  fi
  if [ -n "$snap" ]; then
    for kind in sockets events; do
      rc=0; "$bin" snapshots "$snap" "--$kind" >"$run/$kind.txt" 2>"$run/$kind.stderr" || rc=$?
      check_exit "$rc" "$bin snapshots $snap --$kind" "$run/$kind.stderr"
      # Damaged records are reported on stderr: they belong to the text compared.
      { echo "## exit $rc, stderr:"; cat "$run/$kind.stderr"; } >>"$run/$kind.txt"
    done
  fi
  # The names and modes of everything written (outputs are 0600, folders 0700, whatever the umask).
  (cd "$run/out" && find . -mindepth 1 -printf '%M %p\n' | sort) >"$run/files.txt"
  mv "$run" "$dir/$side"
}

# --- normalising and comparing ---
# SQLite: the dump, with the pragmas that .dump leaves out; analyzed_at masked.
sqlite_text() {
  { sqlite3 "$1" .dump
    for p in user_version application_id page_size encoding auto_vacuum journal_mode; do
      echo "PRAGMA $p = $(sqlite3 "$1" "PRAGMA $p")"
    done
  } | sed -E "s/^(INSERT INTO analysis VALUES\('analyzed_at',')[^']*('\);)$/\1<analyzed_at>\2/"
}
# analyze's summary: "time taken" masked; from the totals table's header to that line, runs of spaces and rule
# characters squeezed; lines of spaces alone (the tables' blank padding rows, as wide as their table) emptied.
summary_text() {
  awk '/^ +$/ { print ""; next }
       /^ +analyzed +$/ { totals = 1 }
       totals { line = $0
                if (sub(/time taken +[0-9]+\.[0-9]+ s/, "time taken <elapsed>", line)) totals = 0
                gsub(/ +/, " ", line); gsub(/(─)+/, "─", line); print line; next }
       { print }' "$1"
}
# analysis.parquet as DuckDB reads it, its analyzed_at value masked wherever it occurs.
parquet_text() {
  local text value
  # A file DuckDB cannot read gives its error as the text, to show in the diff.
  text=$("${bench_tool[@]}" parquet-text "$1" 2>&1) || true
  value=$(printf '%s\n' "$text" | sed -n -E 's/^"analyzed_at" \| "(.*)"$/\1/p' | head -1)
  if [ -n "$value" ]; then text=${text//"$value"/<analyzed_at>}; fi
  printf '%s\n' "$text"
}

differs=0
diff_lines=${DIFF_LINES:-30}  # lines of each difference shown
# report LABEL OUTPUT A B: "same" or "DIFFERS" and the first differing lines of two texts (files).
report() {
  if cmp -s "$3" "$4"; then
    printf 'same     %-48s %s\n' "$1" "$2"
  else
    differs=1
    printf 'DIFFERS  %-48s %s\n' "$1" "$2"
    { diff -u --label base --label new "$3" "$4" || true; } | head -"$diff_lines" | sed 's/^/    /'
  fi
}
# report_bytes LABEL OUTPUT A B: binary files, byte for byte; on a difference, the first differing hex lines.
report_bytes() {
  if cmp -s "$3" "$4"; then
    printf 'same     %-48s %s\n' "$1" "$2"
  else
    differs=1
    printf 'DIFFERS  %-48s %s (%s)\n' "$1" "$2" "$(cmp "$3" "$4" 2>&1 | head -1)"
    { diff <(od -A d -t x1 -v "$3" 2>&1) <(od -A d -t x1 -v "$4" 2>&1) || true; } | head -"$diff_lines" | sed 's/^/    /'
  fi
}

compare_case() {
  local label=$1 a=$2/base b=$2/new n=$2/norm
  mkdir -p "$n"
  report "$label" files "$a/files.txt" "$b/files.txt"

  sqlite_text "$a/out/out.db" >"$n/a.sql"; sqlite_text "$b/out/out.db" >"$n/b.sql"
  report "$label" sqlite "$n/a.sql" "$n/b.sql"

  # CSV: each file byte for byte, but analysis.csv with its analyzed_at line masked.
  : >"$n/a.csv"; : >"$n/b.csv"
  local f
  for f in $(ls "$a/out/csv" 2>/dev/null || true); do
    [ -f "$b/out/csv/$f" ] || continue  # a missing file already shows in "files"
    if [ "$f" = analysis.csv ]; then
      sed -E 's/^analyzed_at,.*$/analyzed_at,<analyzed_at>/' "$a/out/csv/$f" >"$n/a.$f"
      sed -E 's/^analyzed_at,.*$/analyzed_at,<analyzed_at>/' "$b/out/csv/$f" >"$n/b.$f"
    else
      cp "$a/out/csv/$f" "$n/a.$f"; cp "$b/out/csv/$f" "$n/b.$f"
    fi
    if ! cmp -s "$n/a.$f" "$n/b.$f"; then
      { echo "== $f"; { diff -u --label base --label new "$n/a.$f" "$n/b.$f" || true; } | head -20; } >>"$n/csv.diff"
    fi
  done
  if [ -s "$n/csv.diff" ]; then
    differs=1; printf 'DIFFERS  %-48s %s\n' "$label" csv; head -"$diff_lines" "$n/csv.diff" | sed 's/^/    /'
  else
    printf 'same     %-48s %s\n' "$label" csv
  fi

  # Parquet: byte for byte, but analysis.parquet as text; a file whose bytes differ is shown as text too.
  for f in $(ls "$a/out/parquet" 2>/dev/null || true); do
    [ -f "$b/out/parquet/$f" ] || continue
    if [ "$f" = analysis.parquet ]; then
      parquet_text "$a/out/parquet/$f" >"$n/a.$f.txt"; parquet_text "$b/out/parquet/$f" >"$n/b.$f.txt"
      if ! cmp -s "$n/a.$f.txt" "$n/b.$f.txt"; then
        { echo "== $f (as text)"; { diff -u --label base --label new "$n/a.$f.txt" "$n/b.$f.txt" || true; } | head -20; } >>"$n/parquet.diff"
      fi
    elif ! cmp -s "$a/out/parquet/$f" "$b/out/parquet/$f"; then
      { echo "== $f: $(cmp "$a/out/parquet/$f" "$b/out/parquet/$f" 2>&1 | head -1); as text:"
        { diff -u --label base --label new <("${bench_tool[@]}" parquet-text "$a/out/parquet/$f" 2>&1) \
            <("${bench_tool[@]}" parquet-text "$b/out/parquet/$f" 2>&1) || true; } | head -20
      } >>"$n/parquet.diff"
    fi
  done
  if [ -s "$n/parquet.diff" ]; then
    differs=1; printf 'DIFFERS  %-48s %s\n' "$label" parquet; head -"$diff_lines" "$n/parquet.diff" | sed 's/^/    /'
  else
    printf 'same     %-48s %s\n' "$label" parquet
  fi

  if [ -f "$a/annotate.exit" ]; then
    report_bytes "$label" "annotate (pcapng)" "$a/out/annotated.pcapng" "$b/out/annotated.pcapng"
    sqlite_text "$a/out/annotate.db" >"$n/a.annotate.sql"; sqlite_text "$b/out/annotate.db" >"$n/b.annotate.sql"
    report "$label" "annotate (database)" "$n/a.annotate.sql" "$n/b.annotate.sql"
  fi

  if [ -f "$a/extract.exit" ]; then
    report_bytes "$label" "extract $(if [ -s "$2/comm" ]; then echo "--comm $(cat "$2/comm")"; else echo --unattributed; fi)" \
      "$a/out/extract.pcapng" "$b/out/extract.pcapng"
  fi
  if [ -f "$a/sockets.txt" ]; then
    report "$label" "snapshots --sockets" "$a/sockets.txt" "$b/sockets.txt"
    report "$label" "snapshots --events" "$a/events.txt" "$b/events.txt"
  fi

  # Summaries: every run's stdout, stderr (analyze's summary, warnings) and exit code, in one text.
  local side
  for side in a b; do
    local d=$a; [ "$side" = b ] && d=$b
    for f in sqlite csv parquet annotate extract; do
      [ -f "$d/$f.exit" ] || continue
      echo "## $f: exit $(cat "$d/$f.exit")"; cat "$d/$f.stdout"; summary_text "$d/$f.stderr"
    done >"$n/$side.summary"
  done
  report "$label" summary "$n/a.summary" "$n/b.summary"
}

# --- every input: base, then new, then compare ---
count=0
# The list is read on fd 3: the programs run inside the loop must not swallow it from stdin.
while IFS=$US read -r -u 3 label caps_rs evidence_rs filter_rs extract snap; do
  count=$((count + 1))
  IFS=$RS read -r -a caps <<<"$caps_rs"
  evidence=() filter=()
  if [ -n "$evidence_rs" ]; then IFS=$RS read -r -a evidence <<<"$evidence_rs"; fi
  if [ -n "$filter_rs" ]; then IFS=$RS read -r -a filter <<<"$filter_rs"; fi
  dir="$work/out/$count"
  mkdir -p "$dir"
  run_one "$base_bin" "$dir" base
  run_one "$new_bin" "$dir" new
  compare_case "$label" "$dir"
  # The bench captures' outputs run to tens of MB: keep only what KEEP=1 asks for.
  [ -n "${KEEP:-}" ] || rm -rf "$dir"
done 3<"$work/cases"

elapsed=$(( $(date +%s) - started ))
if [ "$failed_outright" -ne 0 ]; then
  echo "same-outputs: a program failed outright (above); $count inputs, ${elapsed}s" >&2
  exit 2
fi
if [ "$differs" -ne 0 ]; then
  echo "same-outputs: outputs differ; $count inputs, ${elapsed}s"
  exit 1
fi
echo "same-outputs: all outputs the same; $count inputs, ${elapsed}s"
