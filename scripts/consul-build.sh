#!/usr/bin/env bash
# Builds a real Consul agent for the consul step's tests and benches, once,
# into $DRAINIT_CACHE/consul/VERSION/consul, from the Go module proxy.
# v1.16.3 is the newest release under the MPL-2.0 (1.16.4 and 1.17+ are
# under the Business Source License: not used). Its go.mod replaces five
# submodules with ./ paths the module zip holds, but the tag already
# requires their published MPL versions: the replaces are dropped. About 5
# minutes on 2 cores, 2.2 GB of memory at the peak.
set -euo pipefail
version=${CONSUL_VERSION:-v1.16.3}
out=${DRAINIT_CACHE:-/var/cache/drainit}/consul/$version
if [ -x "$out/consul" ]; then
  echo "consul-build: $version already built in $out"
  exit 0
fi
start=$SECONDS
dir=$(go mod download -json "github.com/hashicorp/consul@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[ -d "$dir" ] || { echo "consul-build: module github.com/hashicorp/consul@$version not downloaded" >&2; exit 1; }
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
cp -r "$dir/." "$src/"
chmod -R u+w "$src"
cd "$src"
for sub in api envoyextensions proto-public sdk troubleshoot; do
  go mod edit -dropreplace="github.com/hashicorp/consul/$sub"
done
mkdir -p "$out"
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags '-s -w' -o "$out/consul" .
echo "consul-build: built $version in $((SECONDS - start)) s: $(du -h "$out/consul" | cut -f1)"
