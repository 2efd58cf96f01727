#!/usr/bin/env bash
# Runs the supervisor's unit tests as an unprivileged user (nobody): they
# must not need root. Called by `make test`; a no-op when not root.
set -euo pipefail
[ "$(id -u)" = 0 ] || exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go test -c -o "$work/supervisor.test" ./supervisor
chmod 755 "$work"
chown 65534:65534 "$work"
cd "$work"
TMPDIR="$work" setpriv --reuid=65534 --regid=65534 --clear-groups ./supervisor.test -test.count=1 -test.v 2>&1 |
  grep -E '^(--- |ok|PASS|FAIL)' | sed 's/^/as nobody: /'
