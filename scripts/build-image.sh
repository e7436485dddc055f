#!/usr/bin/env bash
# Builds Bulwark's own OCI image from Debian packages with mmdebstrap and umoci (#15).
#
#   scripts/build-image.sh [--out DIR] [--tag TAG] [--docker-archive] [--force]
#
# Output (default DIR .cache/image):
#   DIR/bulwark-oci/          OCI image layout, tags TAG (default: package.json's version) and latest
#   DIR/bulwark-oci.key       hash of every input; a build whose inputs have not changed is skipped
#   DIR/bulwark.tar           with --docker-archive: the same image as a docker-archive (skopeo)
#   DIR/base-<key>.tar        cached mmdebstrap root filesystem (rebuilt when packages.txt,
#                             customize.sh or this script change)
#
# Layers, bottom to top:
#   0 Debian bookworm (+ bookworm-updates, bookworm-security), mmdebstrap --variant=essential plus
#     deploy/image/packages.txt; docs/man/locales excluded except copyright files; user bulwark
#     (10001:10001) and its writable dirs (deploy/image/customize.sh)
#   1 /usr/local/bin/node: the build machine's Node.js 20 binary (`process.execPath`; on this
#     machine NodeSource's nodejs 20 package, MIT) and its LICENSE. Debian bookworm's nodejs is 18,
#     Bulwark needs >= 20. See docs/deploy.md.
#   2 /opt/bulwark/node_modules: production dependencies (a copy of node_modules pruned with
#     `npm prune --omit=dev`, offline: the native addons stay those built by `npm ci`)
#   3 /opt/bulwark/{bin,dist,policies,web/dist,package.json}, the eBPF sensor and execguard helper
#     (scripts/build-sensor.sh and build-execguard.sh are run first; without clang/libbpf the image
#     has no sensor and says so), /usr/local/bin/bulwark -> /opt/bulwark/bin/bulwark
#
# Needs root (mmdebstrap --mode=root), umoci, the Debian mirror ($BULWARK_DEBIAN_MIRROR), and a
# built tree (`npm ci && npm run build`). File times are clamped to SOURCE_DATE_EPOCH (default: the
# last commit's time), so rebuilding the same inputs gives the same layers.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.cache/image"
tag=""
archive=0
force=0
while (($#)); do
  case "$1" in
    --out) out="$(realpath -m "$2")"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --docker-archive) archive=1; shift ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "build-image.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
MIRROR=${BULWARK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${BULWARK_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
version=$(node -p "require('$root/package.json').version")
[ -n "$tag" ] || tag="$version"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%FT%TZ)
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
log() { echo "[image $(date +%T)] $*" >&2; }
t0=$(date +%s)

for f in bin/bulwark dist/cli/main.js dist/bundle/main.js web/dist/index.html node_modules/.package-lock.json; do
  [ -e "$root/$f" ] || { echo "build-image.sh: $f missing: run npm ci && npm run build first" >&2; exit 1; }
done
NODE_BIN=$(node -p process.execPath)
NODE_VERSION=$(node --version)
case "$NODE_VERSION" in v2[0-9]*|v[3-9][0-9]*) ;; *) echo "build-image.sh: Node >= 20 needed, $NODE_BIN is $NODE_VERSION" >&2; exit 1 ;; esac
NODE_LICENSE=""
for l in "$(dirname "$(dirname "$NODE_BIN")")/share/doc/nodejs/LICENSE" /usr/share/doc/nodejs/LICENSE "$(dirname "$(dirname "$NODE_BIN")")/LICENSE"; do
  [ -f "$l" ] && { NODE_LICENSE="$l"; break; }
done
[ -n "$NODE_LICENSE" ] || { echo "build-image.sh: no LICENSE found next to $NODE_BIN" >&2; exit 1; }
NODE_ORIGIN=$(dpkg -S "$(readlink -f "$NODE_BIN")" 2>/dev/null | cut -d: -f1 | head -1 || true)
[ -z "$NODE_ORIGIN" ] || NODE_ORIGIN="$NODE_ORIGIN $(dpkg-query -W -f='${Version} (${Maintainer})' "$NODE_ORIGIN")"
[ -n "$NODE_ORIGIN" ] || NODE_ORIGIN="not a Debian package ($NODE_BIN)"

# the eBPF sensor and the execguard helper: built here when the tools are there (each script says
# what is missing and exits 0 otherwise; the image then has no sensor and `bulwark agent` fails)
bash "$root/scripts/build-sensor.sh" >/dev/null || true
bash "$root/scripts/build-execguard.sh" >/dev/null || true

# ---- input keys ----
base_key=$(cat "$root/deploy/image/packages.txt" "$root/deploy/image/customize.sh" "$0" | sha256sum | cut -c1-16)
deps_key=$(cat "$root/package-lock.json" "$root/node_modules/.package-lock.json" | sha256sum | cut -c1-16)
# every file that ends up in the image, by content (dist/native build intermediates left out)
app_files() {
  (cd "$root" && find bin dist policies web/dist package.json -type f \
    ! -path 'dist/native/*' ! -name '*.tsbuildinfo' ! -name '.build.lock' -print | LC_ALL=C sort)
  for n in bulwark-sensor bulwark-execguard; do
    [ -f "$root/dist/native/$n" ] && echo "dist/native/$n"
  done
  return 0
}
app_key=$( (cd "$root" && app_files | tr '\n' '\0' | xargs -0 sha256sum) | sha256sum | cut -c1-16)
node_key=$(sha256sum "$NODE_BIN" | cut -c1-16)
key="base=$base_key deps=$deps_key app=$app_key node=$node_key tag=$tag epoch=$SOURCE_DATE_EPOCH archive=$archive"
oci="$out/bulwark-oci"
mkdir -p "$out"
# one build at a time per output dir (test files run in parallel); a build that finished while
# this one waited is reused
exec 9>"$out/.build.lock"
flock 9
if [ $force = 0 ] && [ -f "$out/bulwark-oci.key" ] && [ "$(cat "$out/bulwark-oci.key")" = "$key" ] && [ -f "$oci/index.json" ]; then
  log "up to date: $oci ($key)"
  echo "$oci"
  exit 0
fi
rm -f "$out/bulwark-oci.key"

# ---- layer 0: Debian base (cached) ----
base="$out/base-$base_key.tar"
if [ ! -f "$base" ]; then
  pkgs=$(grep -v '^\s*#' "$root/deploy/image/packages.txt" | grep -v '^\s*$' | paste -sd, -)
  log "mmdebstrap bookworm essential + $pkgs"
  tb=$(date +%s)
  mmdebstrap --quiet --mode=root --format=tar --variant=essential --include="$pkgs" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --customize-hook="sh '$root/deploy/image/customize.sh' \"\$1\"" \
    bookworm "$base.tmp" \
    "deb $MIRROR bookworm main" \
    "deb $MIRROR bookworm-updates main" \
    "deb $SECURITY bookworm-security main"
  mv "$base.tmp" "$base"
  log "base built in $(($(date +%s) - tb)) s: $(du -h "$base" | cut -f1) uncompressed"
  # older bases (other package lists) are dead weight
  find "$out" -maxdepth 1 -name 'base-*.tar' ! -name "base-$base_key.tar" -delete
fi

# ---- staging dirs (file times clamped, owners root) ----
stage="$out/stage"
rm -rf "$stage" "$oci.tmp"
mkdir -p "$stage/node/usr/local/bin" "$stage/node/usr/local/share/doc/nodejs" "$stage/app/opt/bulwark" "$stage/deps/opt/bulwark"
cp "$NODE_BIN" "$stage/node/usr/local/bin/node"
cp "$NODE_LICENSE" "$stage/node/usr/local/share/doc/nodejs/LICENSE"
cat >"$stage/node/usr/local/share/doc/nodejs/ORIGIN" <<EOF
Node.js $NODE_VERSION, copied by Bulwark's scripts/build-image.sh from the build machine's
$NODE_BIN; package: $NODE_ORIGIN.
License: MIT (Node.js) plus the licenses of its bundled dependencies, in LICENSE here.
Debian bookworm's nodejs package is 18.x; Bulwark needs Node.js 20 or newer.
EOF

log "production node_modules (npm prune --omit=dev on a copy)"
deps_cache="$out/deps-$deps_key"
if [ ! -d "$deps_cache" ]; then
  rm -rf "$deps_cache.tmp"
  mkdir -p "$deps_cache.tmp"
  cp "$root/package.json" "$root/package-lock.json" "$deps_cache.tmp/"
  cp -a "$root/node_modules" "$deps_cache.tmp/node_modules"
  (cd "$deps_cache.tmp" && npm prune --omit=dev --offline --no-audit --no-fund --loglevel=error >/dev/null)
  # better-sqlite3's build tree: only the addon is loaded at run time
  bs="$deps_cache.tmp/node_modules/better-sqlite3"
  if [ -f "$bs/build/Release/better_sqlite3.node" ]; then
    find "$bs/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
    find "$bs/build/Release" -mindepth 1 -maxdepth 1 ! -name better_sqlite3.node -exec rm -rf {} +
    rm -rf "$bs/deps" "$bs/src"
  fi
  rm -rf "$deps_cache.tmp/node_modules/.cache"
  mv "$deps_cache.tmp" "$deps_cache"
  find "$out" -maxdepth 1 -name 'deps-*' ! -name "deps-$deps_key" -exec rm -rf {} +
fi
cp -a "$deps_cache/node_modules" "$stage/deps/opt/bulwark/node_modules"

(cd "$root" && app_files | tr '\n' '\0' | xargs -0 cp --parents -t "$stage/app/opt/bulwark")
mkdir -p "$stage/app/usr/local/bin"
ln -s /opt/bulwark/bin/bulwark "$stage/app/usr/local/bin/bulwark"
for s in node deps app; do
  chown -R 0:0 "$stage/$s"
  chmod -R u+rwX,go+rX,go-w "$stage/$s"
  find "$stage/$s" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
done

# ---- the image ----
log "OCI image $oci:$tag"
IMG="$oci.tmp:$tag"
umoci init --layout "$oci.tmp"
umoci new --image "$IMG"
umoci raw add-layer --image "$IMG" --history.created "$created" \
  --history.created_by "mmdebstrap --variant=essential bookworm + deploy/image/packages.txt (deploy/image/customize.sh)" "$base"
umoci insert --image "$IMG" --history.created "$created" --history.created_by "COPY node $NODE_VERSION /usr/local/bin/node" \
  "$stage/node" /
umoci insert --image "$IMG" --history.created "$created" --history.created_by "COPY production node_modules /opt/bulwark/node_modules" \
  "$stage/deps" /
umoci insert --image "$IMG" --history.created "$created" --history.created_by "COPY bin dist policies web/dist /opt/bulwark" \
  "$stage/app" /
L=org.opencontainers.image
umoci config --image "$IMG" --os linux --architecture amd64 --created "$created" \
  --author "Bulwark contributors" \
  --config.env PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env NODE_ENV=production \
  --config.env BULWARK_DATA=/var/lib/bulwark \
  --config.env BULWARK_CACHE_DIR=/var/cache/bulwark \
  --config.env HOME=/home/bulwark \
  --config.env BULWARK_SENSOR=/opt/bulwark/dist/native/bulwark-sensor \
  --config.env BULWARK_EXECGUARD=/opt/bulwark/dist/native/bulwark-execguard \
  --config.entrypoint /usr/local/bin/bulwark \
  --config.cmd server --config.cmd --listen --config.cmd 0.0.0.0:8080 \
  --config.workingdir /opt/bulwark --config.user 10001:10001 \
  --config.exposedports 8080/tcp \
  --config.label "$L.title=Bulwark" \
  --config.label "$L.description=Security platform for containers and Kubernetes: scanner, console, admission webhook, eBPF node agent" \
  --config.label "$L.version=$version" \
  --config.label "$L.revision=$revision" \
  --config.label "$L.created=$created" \
  --config.label "$L.licenses=Apache-2.0" \
  --config.label "$L.source=https://github.com/bulwark-security/bulwark" \
  --config.label "$L.base.name=debian:bookworm (mmdebstrap --variant=essential)" \
  --history.created "$created" \
  --history.created_by "CONFIG entrypoint=bulwark user=10001:10001 cmd=server --listen 0.0.0.0:8080"
[ "$tag" = latest ] || umoci tag --image "$IMG" latest
umoci gc --layout "$oci.tmp"
rm -rf "$oci" "$stage"
mv "$oci.tmp" "$oci"

if [ $archive = 1 ]; then
  log "docker-archive $out/bulwark.tar"
  rm -f "$out/bulwark.tar"
  skopeo copy --quiet "oci:$oci:$tag" "docker-archive:$out/bulwark.tar:bulwark/bulwark:$tag"
fi
echo "$key" >"$out/bulwark-oci.key"
size=$(du -sb "$oci/blobs" | cut -f1)
log "done in $(($(date +%s) - t0)) s: $oci:$tag, $((size / 1048576)) MiB compressed ($(du -sh "$oci" | cut -f1) on disk)"
echo "$oci"
