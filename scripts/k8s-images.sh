#!/usr/bin/env bash
# Puts the images the cluster's pods run into its containerd, without a
# registry: the pause image (internal/testsupport/pause, FROM scratch) and the images
# make docker-images builds, through docker save and ctr import. An image is
# imported again only when Docker's copy changed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/k8s-env.sh
ctr=(ctr --address "$K8S_CONTAINERD_SOCK" -n k8s.io)
mkdir -p "$K8S_STATE/images"

if ! docker image inspect localhost/drainit-pause:1 >/dev/null 2>&1; then
  ctx=$(mktemp -d)
  CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$ctx/pause" ./internal/testsupport/pause
  printf 'FROM scratch\nCOPY pause /pause\nENTRYPOINT ["/pause"]\n' >"$ctx/Dockerfile"
  docker build -q --label drainit.test=1 -t localhost/drainit-pause:1 "$ctx" >/dev/null
  rm -rf "$ctx"
fi
for image in localhost/drainit-pause:1 drainit-example-java:dev drainit-testkit:dev drainit-rollout:dev; do
  id=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null) || {
    echo "k8s-images: $image is missing: run make docker-images" >&2
    exit 1
  }
  stamp=$K8S_STATE/images/$(echo "$image" | tr '/:' '__').id
  if [ "$(cat "$stamp" 2>/dev/null)" = "$id" ]; then
    continue
  fi
  docker save "$image" | "${ctr[@]}" images import - >/dev/null
  echo "$id" >"$stamp"
done
