#!/usr/bin/env bash
# Builds the Kubernetes binaries the test cluster runs (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl) from
# the Go module proxy, into $K8S_CACHE/$K8S_VERSION/bin, once per version.
#
# The module zip of k8s.io/kubernetes has no staging/ tree and its vendor/
# lacks k8s.io/*, so `go install` is refused: the module is copied, its
# ./staging replaces dropped, and the published k8s.io/* v0.X.Y modules
# required instead. A cold build takes about 13 minutes on 2 cores.
set -euo pipefail
. "$(dirname "$0")/k8s-env.sh"

bin=$K8S_CACHE/$K8S_VERSION/bin
names=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
have=1
for n in "${names[@]}"; do [ -x "$bin/$n" ] || have=0; done
if [ $have = 1 ]; then
  echo "k8s-build: $K8S_VERSION already built in $bin"
  exit 0
fi

start=$SECONDS
src=$K8S_CACHE/$K8S_VERSION/src
dir=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[ -d "$dir" ] || { echo "k8s-build: module k8s.io/kubernetes@$K8S_VERSION not downloaded" >&2; exit 1; }
rm -rf "$src"
mkdir -p "$src" "$bin"
cp -r "$dir/." "$src/"
chmod -R u+w "$src"
cd "$src"
rm -rf vendor go.work go.work.sum

staging_version=v0.${K8S_VERSION#v1.}
args=()
for mod in $(sed -n 's#^\t\(k8s.io/[a-z-]*\) => ./staging/.*#\1#p' go.mod); do
  args+=("-dropreplace=$mod")
  # Served by no proxy, and nothing the six commands build needs it.
  [ "$mod" = k8s.io/sample-cli-plugin ] && continue
  if grep -q "^[[:space:]]$mod v0.0.0" go.mod; then
    args+=("-require=$mod@$staging_version")
  fi
done
go mod edit "${args[@]}"
go mod edit -droprequire=k8s.io/sample-cli-plugin 2>/dev/null || true
GOFLAGS=-mod=mod go mod download

ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
minor=$(echo "$K8S_VERSION" | cut -d. -f2)
ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
pkgs=()
for n in "${names[@]}"; do pkgs+=("./cmd/$n"); done
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$bin/" "${pkgs[@]}"
cd /
rm -rf "$src"
echo "k8s-build: built $K8S_VERSION in $((SECONDS - start)) s: $(du -sh "$bin" | cut -f1) in $bin"
