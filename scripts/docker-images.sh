#!/usr/bin/env bash
# Builds, from nothing but Debian's packages and this repository, every image
# the container tests and examples use (no image is pulled):
#   drainit-base-jdk:dev       Debian bookworm (debootstrap, minbase) with bash
#                              OpenJDK 17, tini, dumb-init and curl (for the
#                              preStop hooks users write); rebuilt only when
#                              its recipe changes
#   drainit:dev                drainit alone, FROM scratch, at /drainit
#   drainit-example-java:dev   examples/legacy-java/Dockerfile on the local base
#   drainit-testkit:dev        drainit (also as tini, dumb-init), testprog and
#                              the fake registry on the local base
#   drainit-rollout:dev        the rollout bench's service, callers and registry,
#                              with drainit and the real tini and dumb-init
# Every image carries the label drainit.test=1. Needs root and a Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."
base=drainit-base-jdk:dev
suite=bookworm
packages=openjdk-17-jdk-headless,tini,dumb-init,curl
recipe="$suite minbase $packages"
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}

build_base() {
  if [ "$(docker image inspect -f '{{index .Config.Labels "drainit.recipe"}}' "$base" 2>/dev/null)" = "$recipe" ]; then
    return
  fi
  command -v debootstrap >/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  local root
  root=$(mktemp -d)
  trap 'rm -rf "$root"' RETURN
  echo "docker-images: debootstrap $suite with $packages (about a minute or two)"
  debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >"$root.log" 2>&1 ||
    { tail -20 "$root.log"; exit 1; }
  rm -f "$root.log"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    --change "LABEL drainit.recipe=\"$recipe\" drainit.test=1" - "$base" >/dev/null
}

# context_of FILES...: a build context holding only FILES.
context_of() {
  local dir
  dir=$(mktemp -d)
  cp "$@" "$dir"/
  echo "$dir"
}

build_base
ctx=$(context_of bin/drainit)
docker build -q --label drainit.test=1 -f docker/drainit.Dockerfile -t drainit:dev "$ctx" >/dev/null
rm -rf "$ctx"
docker build -q --label drainit.test=1 -f examples/legacy-java/Dockerfile \
  --build-arg JDK_IMAGE="$base" --build-arg JRE_IMAGE="$base" -t drainit-example-java:dev . >/dev/null
ctx=$(context_of bin/drainit bin/testprog bin/fakeregistryd)
docker build -q --label drainit.test=1 -f docker/testkit.Dockerfile --build-arg BASE_IMAGE="$base" \
  -t drainit-testkit:dev "$ctx" >/dev/null
rm -rf "$ctx"
ctx=$(context_of bin/drainit bin/fakeregistryd bin/rollout bench/rollout/service/Service.java bench/rollout/service/start.sh)
docker build -q --label drainit.test=1 -f docker/rollout.Dockerfile --build-arg BASE_IMAGE="$base" \
  -t drainit-rollout:dev "$ctx" >/dev/null
rm -rf "$ctx"
docker image ls --filter label=drainit.test=1 --format '{{.Repository}}:{{.Tag}} {{.Size}}'
