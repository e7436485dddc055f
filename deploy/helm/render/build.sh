#!/usr/bin/env bash
# Builds the chart renderer (main.go: text/template + sprig, not Helm) offline, in GOPATH mode over
# Debian's Go packages in /usr/share/gocode (golang-go, golang-github-masterminds-sprig-dev,
# golang-gopkg-yaml.v2-dev; scripts/install-deps.sh installs them). Prints the binary's path.
#   deploy/helm/render/build.sh [OUT]      (default .cache/helm-render/render-<hash of main.go>)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
key=$(cat "$here/main.go" "$0" | sha256sum | cut -c1-12)
out="${1:-$root/.cache/helm-render/render-$key}"
if [ ! -x "$out" ]; then
  for d in github.com/Masterminds/sprig gopkg.in/yaml.v2; do
    [ -d "/usr/share/gocode/src/$d" ] || {
      echo "build.sh: /usr/share/gocode/src/$d missing (apt-get install golang-github-masterminds-sprig-dev golang-gopkg-yaml.v2-dev)" >&2
      exit 1
    }
  done
  mkdir -p "$(dirname "$out")" "$root/.cache/helm-render/gocache"
  (cd "$here" && GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= \
    GOCACHE="$root/.cache/helm-render/gocache" CGO_ENABLED=0 go build -trimpath -o "$out.tmp" main.go)
  mv "$out.tmp" "$out"
fi
echo "$out"
