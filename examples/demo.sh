#!/usr/bin/env bash
# make demo: the legacy start.sh + JVM, stopped the way the kubelet stops a
# container (SIGTERM to PID 1 from outside its PID namespace), first with bash
# as PID 1, then with drainit.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it uses unshare --pid for a real PID 1)"; exit 1; }
scripts/install-deps.sh
export PORT=${PORT:-18080}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
javac -d examples/legacy-java examples/legacy-java/App.java

# run_as_pid1 LABEL CMD...: starts CMD as PID 1 of a new PID namespace, waits
# for the app to answer, sends SIGTERM, and SIGKILLs after 8 s as the kubelet
# would at the end of the grace period.
run_as_pid1() {
  local label=$1; shift
  echo; echo "=== $label"
  unshare --pid --fork --mount-proc --kill-child "$@" > "$work/out" 2>&1 &
  local unshare_pid=$!
  for _ in $(seq 200); do curl -fs "http://127.0.0.1:$PORT/" >/dev/null 2>&1 && break; sleep 0.1; done
  local pid1
  pid1=$(cat /proc/$unshare_pid/task/*/children | awk '{print $1}')
  echo "app answers; sending SIGTERM to PID 1 (host pid $pid1)"
  local start=$SECONDS
  kill -TERM "$pid1"
  for _ in $(seq 80); do kill -0 $unshare_pid 2>/dev/null || break; sleep 0.1; done
  local outcome
  if kill -0 $unshare_pid 2>/dev/null; then
    echo "still running after 8 s: SIGKILL, as the kubelet would"
    kill -KILL "$pid1"
    wait $unshare_pid 2>/dev/null || true
    outcome="killed with SIGKILL"
  else
    local code=0
    wait $unshare_pid || code=$?
    outcome="exited with status $code"
  fi
  grep -v '^unshare:' "$work/out" | sed 's/^/  | /'
  echo "PID 1 $outcome, $((SECONDS - start)) s after SIGTERM"
  if grep -q "shutdown hook: done" "$work/out"; then echo "RESULT: the JVM shut down gracefully"; else echo "RESULT: the JVM never finished a graceful shutdown"; fi
}

run_as_pid1 "bash start.sh as PID 1 (no init)" examples/legacy-java/start.sh
run_as_pid1 "drainit -- start.sh" env DRAINIT_VERBOSITY=2 bin/drainit -- examples/legacy-java/start.sh
run_as_pid1 "drainit with a drain: deregister, wait 2 s, then SIGTERM" env \
  DRAINIT_PRESTOP="http POST http://127.0.0.1:$PORT/actuator/deregister; sleep 2s" DRAINIT_GRACE_PERIOD=12s DRAINIT_STOP_TIMEOUT=4s \
  bin/drainit -- examples/legacy-java/start.sh
