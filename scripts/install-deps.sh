#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh Debian machine (as
# root); with --bench, also the peers and tools the benchmarks compare with;
# with --docker, what the container tests need (debootstrap for the base
# image, tini for the engine's docker run --init).
set -euo pipefail
missing=()
if [ "${1:-}" = --bench ]; then
  for tool in tini:tini tini-static:tini dumb-init:dumb-init catatonit:catatonit hyperfine:hyperfine gnuplot:gnuplot-nox; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
  done
fi
if [ "${1:-}" = --docker ]; then
  for tool in debootstrap:debootstrap tini-static:tini; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
  done
fi
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v unshare >/dev/null || missing+=(util-linux)
command -v ip >/dev/null || missing+=(iproute2)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
