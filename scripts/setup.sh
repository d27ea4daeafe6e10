#!/usr/bin/env bash
# Set-up: installs the system packages Attribution needs and publishes the self-contained single-file program
# dist/attribution for linux-x64, which runs on a host without .NET. It is compiled to native code (NativeAOT,
# which links with clang) so that nothing waits for a runtime to start or a JIT (docs/PERFORMANCE.md, "Start-up").
# Packages: libpcap to capture; tshark, tcpdump, iproute2 and sqlite3 for the tests and for checking recordings;
# nftables for the NAT test, which sets its rules only inside namespaces of its own; clang to link the native
# program (and, as cc, to build the tests' helper programs); the real software the end-to-end tests run:
# postgresql (postgres, initdb, pgbench, psql), nginx, apache2-utils (ab), curl, dnsmasq-base (a local stub resolver,
# without the service the dnsmasq package starts) and bind9-dnsutils (dig); redis-server and redis-tools
# (redis-benchmark) for the workload overhead bench (bench/workload.sh); podman with runc (crun, its other
# choice, refuses this VM's cgroup layout) and busybox-static, whose applets make the containers' image (there is no
# image registry here); chromium, run headless, opens the incident report in the tests as a reader's browser would.
# podman brings conmon, containernetworking-plugins and iptables; uidmap (a recommendation) is
# for rootless containers only, and the tests run podman as root. Docker (Debian's docker.io: dockerd, containerd,
# docker-proxy, tini) is installed unless a dockerd is already there (one installed otherwise, Docker's own docker-ce
# say, is left alone and used): DockerContainerTests starts its own dockerd, inside a network namespace it makes, on Docker's
# default paths (docs/RECORDING.md, "Docker on these VMs"); with no service manager running, nothing starts it at
# install. Where a service manager runs, Debian starts its own PostgreSQL cluster, nginx site and Docker daemon on
# install; the tests use none of them (they start their own, inside network namespaces they make), and the Docker test
# is then skipped, saying why (its daemon would need the same default paths).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libpcap0.8 iproute2 util-linux tshark tcpdump sqlite3 nftables clang postgresql nginx apache2-utils curl dnsmasq-base bind9-dnsutils podman runc busybox-static chromium redis-server redis-tools openssh-server openssh-client strace)
command -v dockerd >/dev/null || [ -x /usr/sbin/dockerd ] || packages+=(docker.io)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null; then
  echo "setup: the .NET 10 SDK is needed to build (dotnet not found on PATH)" >&2
  exit 1
fi

dotnet publish src/Attribution.Cli/Attribution.Cli.csproj -c Release -r linux-x64 --self-contained \
  -p:PublishAot=true -p:DebugType=none -o dist -v quiet -nologo
echo "built $(pwd)/dist/attribution"
