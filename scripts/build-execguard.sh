#!/usr/bin/env bash
# Builds the execguard helper (native/execguard: fanotify exec permission decisions for protect
# mode, #10) into ${BULWARK_SENSOR_OUT:-dist/native}/bulwark-execguard. Needs a C compiler and
# make (scripts/install-deps.sh installs them with the sensor's tools). Without them it says so
# and exits 0; with --require it exits 1 instead (tests that need the helper use --require).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${BULWARK_SENSOR_OUT:-$root/dist/native}"
require=0
[ "${1:-}" = "--require" ] && require=1
missing=()
# any C compiler: cc when there is one, else the clang the sensor's build uses
if [ -z "${CC:-}" ]; then
  if command -v cc >/dev/null 2>&1; then CC=cc; else CC=clang; fi
fi
command -v "$CC" >/dev/null 2>&1 || missing+=("C compiler ($CC)")
command -v make >/dev/null 2>&1 || missing+=(make)
[ -f /usr/include/linux/fanotify.h ] || missing+=(linux-libc-dev)
if ((${#missing[@]})); then
  echo "bulwark: execguard NOT built: missing ${missing[*]} (run scripts/install-deps.sh)" >&2
  exit $require
fi
mkdir -p "$out"
# test files run in parallel and each builds first: one make at a time per output dir
exec 9>"$out/.execguard.lock"
flock 9
make -s -C "$root/native/execguard" OUT="$out" CC="$CC" >&2
echo "$out/bulwark-execguard"
