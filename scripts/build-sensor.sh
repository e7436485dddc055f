#!/usr/bin/env bash
# Builds the eBPF sensor (native/sensor) into ${BULWARK_SENSOR_OUT:-dist/native}/bulwark-sensor.
# Needs clang, bpftool, libbpf-dev, libelf-dev, zlib1g-dev and a kernel with BTF
# (/sys/kernel/btf/vmlinux); scripts/install-deps.sh installs the tools.
# Without them it says so and exits 0 (so `npm run build` never fails for lack of clang);
# with --require it exits 1 instead (tests that need the sensor use --require).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${BULWARK_SENSOR_OUT:-$root/dist/native}"
require=0
[ "${1:-}" = "--require" ] && require=1
missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
command -v bpftool >/dev/null 2>&1 || missing+=(bpftool)
[ -f /usr/include/bpf/libbpf.h ] || missing+=(libbpf-dev)
[ -f /usr/include/gelf.h ] || missing+=(libelf-dev)
[ -r /sys/kernel/btf/vmlinux ] || missing+=("kernel BTF (/sys/kernel/btf/vmlinux)")
if ((${#missing[@]})); then
  echo "bulwark: eBPF sensor NOT built: missing ${missing[*]} (run scripts/install-deps.sh)" >&2
  exit $require
fi
mkdir -p "$out"
# test files run in parallel and each builds the sensor first: one make at a time per output dir
exec 9>"$out/.build.lock"
flock 9
make -s -C "$root/native/sensor" OUT="$out" >&2
echo "$out/bulwark-sensor"
