#!/usr/bin/env bash
# Installs the Debian packages Bulwark's tests and fixture builders use (run as root on Debian 12).
# Idempotent: skips apt entirely when everything is already installed.
set -euo pipefail
PKGS=(
  mmdebstrap umoci skopeo          # build real OCI images from Debian packages
  docker-registry apache2-utils    # a real registry with htpasswd auth
  openssl ca-certificates          # TLS for the test registry
  golang-go                        # a real Go binary for the Go cataloger
  golang-github-masterminds-sprig-dev golang-gopkg-yaml.v2-dev  # the Helm chart renderer (deploy/helm/render: text/template + sprig, offline)
  zip unzip zstd                   # jar / zip fixtures, zstd layers
  openjdk-17-jdk-headless maven    # real jars (javac/jar; Debian's /usr/share/java and maven-repo)
  ruby ruby-rack                   # real installed gemspecs
  rpm db5.3-util                   # real rpm databases (rpmbuild, rpm, db5.3_load)
  postgresql                       # console storage tests
  chromium fonts-wqy-microhei      # console end-to-end tests (with a CJK font for zh-CN screenshots)
  nginx libnginx-mod-http-modsecurity  # WAF benchmark peer: nginx + libmodsecurity3 with the same CRS
  modsecurity-crs                  # Debian's CRS 3.3.4 packaging, loaded by the WAF tests
  sysdig                           # a real peer for Falco filter semantics on .scap captures (runtime rules)
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev make  # the eBPF sensor (native/sensor, scripts/build-sensor.sh)
  runc                             # real containers for the live sensor tests
  tcpdump                          # response 'capture': a bounded packet ring in a container's netns (#10)
  iproute2 iptables conntrack      # network-namespace harness (test/network): netns, veth, bridge, protect mode, flows
  nats-server                      # the JetStream event bus between agents and servers (#15)
  docker.io                        # a real dockerd for the CIS Docker live test (test/cis/docker-live), started by the test itself
)
# toolchains that may already come from elsewhere (rustup): install Debian's only when absent
command -v cargo >/dev/null 2>&1 || PKGS+=(cargo)
command -v objcopy >/dev/null 2>&1 || PKGS+=(binutils)
command -v git >/dev/null 2>&1 || PKGS+=(git)
# the fixture builders download .debs with apt-get download: the package lists must exist
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "apt package lists are empty: apt-get update" >&2
  $SUDO apt-get update -qq
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  # packages such as docker.io, nats-server and postgresql must not start their system services
  # (a system dockerd would create docker0 and iptables rules): deny service starts while
  # installing, unless the machine already has its own policy
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod 755 "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
