# Shared by the benchmark scripts (sourced): the tools they need, and a median.
bench_needs() { # apt packages that are missing get installed (the benchmarks run as root, like CI)
  local need=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p"); done
  if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; fi
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "n/a"} else {print a[int((NR+1)/2)]}}'; }
