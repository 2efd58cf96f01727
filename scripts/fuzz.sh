#!/usr/bin/env bash
# Runs every fuzz target for a few seconds (FUZZTIME, default 3s), so that a
# parser that crashes on outside input fails CI. The committed corpora in
# */testdata/fuzz also run as plain tests in `go test`.
set -euo pipefail
fuzztime=${FUZZTIME:-3s}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "fuzz: $pkg $target for $fuzztime"
    out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1) || { echo "$out"; exit 1; }
  done
done
