#!/usr/bin/env bash
# Removes every trace of the test cluster that k8s-up.sh started: its
# processes by pid (and the pods' processes, through their shims), the
# kube-proxy, kubelet and CNI iptables chains (IPv4 and IPv6), the cni0 bridge, the pods' network
# namespaces, the kubelet's and containerd's mounts, and the state. The
# built binaries are kept (scripts/k8s-build.sh). --quiet: say nothing when
# there is nothing to remove.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/k8s-env.sh
quiet=${1:-}
chains_left() { { iptables-save; ip6tables-save; } 2>/dev/null | grep -qE '^:(KUBE|CNI)-'; }
[ -d "$K8S_STATE" ] || [ -d "$K8S_RUN" ] || chains_left || { [ "$quiet" = --quiet ] || echo "k8s-down: nothing to remove"; exit 0; }

stop() { # NAME [SIGNAL]: SIGNAL (TERM), then KILL after 5 s, by the pid k8s-up recorded
  local file=$K8S_RUN/$1.pid pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null && grep -q "$1" "/proc/$pid/cmdline" 2>/dev/null; then
    kill -"${2:-TERM}" "$pid" 2>/dev/null
    for _ in $(seq 25); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$file"
}

# The pods first: each shim of the cluster's containerd, and every process
# below it (the pods' containers), killed by pid.
stop kubelet KILL # it keeps nothing worth a graceful stop, and takes 10 s over one
ctr=(ctr --address "$K8S_CONTAINERD_SOCK" -n k8s.io)
if "${ctr[@]}" version >/dev/null 2>&1; then
  # Through containerd, so each shim exits and removes its socket.
  for id in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks delete --force "$id" >/dev/null 2>&1; done
  for id in $("${ctr[@]}" containers ls -q 2>/dev/null); do "${ctr[@]}" containers delete "$id" >/dev/null 2>&1; done
fi
shims=$(pgrep -f "containerd-shim-runc-v2 .*-address $K8S_CONTAINERD_SOCK" || true)
descend() { local p; for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do echo "$p"; descend "$p"; done; }
for shim in $shims; do
  for pid in $(descend "$shim"); do kill -KILL "$pid" 2>/dev/null; done
  kill -KILL "$shim" 2>/dev/null
done
for name in kube-proxy kube-scheduler kube-controller-manager kube-apiserver containerd etcd; do stop "$name"; done
[ -x "$K8S_BIN/kube-proxy" ] && "$K8S_BIN/kube-proxy" --cleanup >/dev/null 2>&1

# iptables: kube-proxy's, the kubelet's (IPv4 and IPv6) and the CNI
# plugins' chains, and the jumps to them.
for ipt in iptables ip6tables; do
  for table in filter nat mangle; do
    "$ipt-save" -t "$table" 2>/dev/null | grep -E '^-A .*-j (KUBE-|CNI-)' | sed 's/^-A/-D/' |
      while read -r rule; do eval "$ipt -t $table $rule" 2>/dev/null; done
    for op in -F -X; do
      for chain in $("$ipt-save" -t "$table" 2>/dev/null | sed -n 's/^:\(\(KUBE\|CNI\)-[^ ]*\) .*/\1/p'); do
        "$ipt" -t "$table" "$op" "$chain" 2>/dev/null
      done
    done
  done
done
ip link del cni0 2>/dev/null
for ns in $(ip netns list 2>/dev/null | awk '/^cni-/ {print $1}'); do ip netns del "$ns" 2>/dev/null; done

# Mounts under the state (pods' volumes, sandboxes' rootfs), deepest first.
for dir in "$K8S_STATE" "$K8S_RUN"; do
  awk -v d="$dir" '$2 ~ "^"d {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
done
rm -rf "$K8S_STATE" "$K8S_RUN"
rm -f /var/lib/cni/results/drainit-k8s-*
rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null
find /var/log/containers -maxdepth 1 -lname "$K8S_STATE/*" -delete 2>/dev/null
rmdir /var/log/containers 2>/dev/null
[ "$quiet" = --quiet ] || echo "k8s-down: removed"
