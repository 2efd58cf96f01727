#!/usr/bin/env bash
# Brings up a single-node Kubernetes on this machine for drainit's tests and
# benches: etcd, the control plane, a containerd of the cluster's own (beside
# Docker's), the kubelet and kube-proxy (iptables), a bridge CNI network. No
# CoreDNS: tests address pods and Services by IP. Needs root.
#
# Binaries: scripts/k8s-build.sh (from the Go module proxy, kept across
# runs); etcd, containerd, runc, the CNI plugins and conntrack from Debian's
# packages. Images: those make docker-images builds, plus a pause image,
# imported into the cluster's containerd without a registry.
#
# State lives in $K8S_STATE and $K8S_RUN; scripts/k8s-down.sh removes every
# trace. Kubeconfig: $K8S_STATE/pki/admin.kubeconfig (scripts/k8s-env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/k8s-env.sh
start=$SECONDS

if [ -f "$K8S_RUN/up" ] && bin_kubectl=$K8S_BIN/kubectl && "$bin_kubectl" get --raw /readyz >/dev/null 2>&1; then
  echo "k8s-up: the cluster is already up (make k8s-down removes it)"
  exit 0
fi
scripts/k8s-down.sh --quiet

need=()
for tool in etcd:etcd-server containerd:containerd runc:runc conntrack:conntrack openssl:openssl iptables:iptables; do
  command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
if [ ${#need[@]} -gt 0 ]; then
  echo "k8s-up: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
scripts/k8s-build.sh

NODE_IP=${DRAINIT_K8S_NODE_IP:-$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')}
[ -n "$NODE_IP" ] || { echo "k8s-up: cannot tell this node's address (set DRAINIT_K8S_NODE_IP)" >&2; exit 1; }
mkdir -p "$K8S_STATE"/{pki,logs,etcd,kubelet,containerd,cni/net.d,cni/networks,pod-logs} "$K8S_RUN"
echo "$NODE_IP" >"$K8S_STATE/node-ip"
PKI=$K8S_STATE/pki
LOGS=$K8S_STATE/logs

# --- PKI -------------------------------------------------------------------
cert() { # name subject [extensions]
  local name=$1 subj=$2 ext=${3:-}
  openssl genrsa -out "$PKI/$name.key" 2048 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  if [ -n "$ext" ]; then
    printf '%s\n' "$ext" >"$PKI/$name.ext"
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
      -days 30 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  else
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
      -days 30 -out "$PKI/$name.crt" 2>/dev/null
  fi
}
kubeconfig() { # name user-cert
  local name=$1 user=$2
  cat >"$PKI/$name.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: drainit
  cluster: {certificate-authority: $PKI/ca.crt, server: "https://127.0.0.1:6443"}
users:
- name: $name
  user: {client-certificate: $PKI/$user.crt, client-key: $PKI/$user.key}
contexts:
- name: drainit
  context: {cluster: drainit, user: $name}
current-context: drainit
EOF
}
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 30 -subj /CN=drainit-k8s-ca 2>/dev/null
cert apiserver /CN=kube-apiserver "subjectAltName=IP:10.96.0.1,IP:127.0.0.1,IP:$NODE_IP,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth"
cert admin "/O=system:masters/CN=drainit-admin" "extendedKeyUsage=clientAuth"
cert apiserver-kubelet "/O=system:masters/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth"
cert kubelet "/O=system:nodes/CN=system:node:$K8S_NODE" "extendedKeyUsage=clientAuth"
openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
kubeconfig admin admin
kubeconfig kubelet kubelet

# daemon NAME CMD...: runs CMD in the background, its log in $LOGS/NAME.log
# and its pid in $K8S_RUN/NAME.pid (k8s-down stops it by that pid).
daemon() {
  local name=$1
  shift
  setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$K8S_RUN/$name.pid"
}

# wait_for WHAT SECONDS CMD...: polls CMD every 0.2 s.
wait_for() {
  local what=$1 limit=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "k8s-up: $what not ready after ${limit}s; logs in $LOGS" >&2
      exit 1
    fi
    sleep 0.2
  done
}

# --- etcd and the control plane ---------------------------------------------
daemon etcd etcd --name drainit --data-dir "$K8S_STATE/etcd" --unsafe-no-fsync \
  --listen-client-urls http://127.0.0.1:23790 --advertise-client-urls http://127.0.0.1:23790 \
  --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
  --initial-cluster drainit=http://127.0.0.1:23800
daemon kube-apiserver "$K8S_BIN/kube-apiserver" --etcd-servers=http://127.0.0.1:23790 \
  --advertise-address="$NODE_IP" --secure-port=6443 --bind-address=0.0.0.0 \
  --service-cluster-ip-range=10.96.0.0/16 --authorization-mode=Node,RBAC --allow-privileged=true \
  --client-ca-file="$PKI/ca.crt" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --kubelet-client-certificate="$PKI/apiserver-kubelet.crt" --kubelet-client-key="$PKI/apiserver-kubelet.key" \
  --kubelet-preferred-address-types=InternalIP,Hostname \
  --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$PKI/sa.pub" \
  --service-account-signing-key-file="$PKI/sa.key" --enable-priority-and-fairness=false
wait_for "kube-apiserver" 60 "$K8S_BIN/kubectl" get --raw /readyz
daemon kube-controller-manager "$K8S_BIN/kube-controller-manager" --kubeconfig="$PKI/admin.kubeconfig" \
  --controllers='*' --root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/sa.key" \
  --leader-elect=false --allocate-node-cidrs=false --bind-address=127.0.0.1 \
  --use-service-account-credentials=false
daemon kube-scheduler "$K8S_BIN/kube-scheduler" --kubeconfig="$PKI/admin.kubeconfig" --leader-elect=false \
  --bind-address=127.0.0.1

# --- containerd, CNI ---------------------------------------------------------
cat >"$K8S_STATE/containerd/config.toml" <<EOF
version = 2
root = "$K8S_STATE/containerd/root"
state = "$K8S_RUN/containerd"
[grpc]
  address = "$K8S_CONTAINERD_SOCK"
[ttrpc]
  address = "$K8S_CONTAINERD_SOCK.ttrpc"
[debug]
  address = "$K8S_RUN/containerd-debug.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/drainit-pause:1"
  # Root on these machines lacks CAP_SYS_RESOURCE: without this every
  # sandbox fails (runc cannot raise its oom_score_adj).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$K8S_RUN/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$K8S_STATE/cni/net.d"
EOF
cat >"$K8S_STATE/cni/net.d/10-drainit.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "drainit-k8s", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": "$K8S_STATE/cni/networks"}},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  {"type": "firewall"}
]}
EOF
daemon containerd containerd --config "$K8S_STATE/containerd/config.toml"
wait_for "containerd" 30 ctr --address "$K8S_CONTAINERD_SOCK" version
scripts/k8s-images.sh

# --- the node ------------------------------------------------------------------
cat >"$K8S_STATE/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
containerRuntimeEndpoint: unix://$K8S_CONTAINERD_SOCK
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
clusterDomain: cluster.local
evictionHard: {nodefs.available: "1%", imagefs.available: "1%", memory.available: "100Mi"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
podLogsDir: $K8S_STATE/pod-logs
# The pod's pids limit, threads included, as a hardened cluster sets it;
# the tests fill it from inside a pod.
podPidsLimit: ${DRAINIT_K8S_POD_PIDS:-300}
readOnlyPort: 0
resolvConf: /etc/resolv.conf
serializeImagePulls: false
EOF
daemon kubelet "$K8S_BIN/kubelet" --config="$K8S_STATE/kubelet/config.yaml" \
  --kubeconfig="$PKI/kubelet.kubeconfig" --hostname-override="$K8S_NODE" --node-ip="$NODE_IP" \
  --root-dir="$K8S_STATE/kubelet" --v=1
cat >"$K8S_STATE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: 10.244.0.0/16
hostnameOverride: $K8S_NODE
clientConnection: {kubeconfig: $PKI/admin.kubeconfig}
conntrack: {maxPerCore: 0, min: 0}
EOF
daemon kube-proxy "$K8S_BIN/kube-proxy" --config="$K8S_STATE/kube-proxy.yaml"

wait_for "the node" 90 sh -c "'$K8S_BIN/kubectl' get node '$K8S_NODE' -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
wait_for "the default service account" 60 "$K8S_BIN/kubectl" get serviceaccount default
touch "$K8S_RUN/up"
echo "k8s-up: node $K8S_NODE ($NODE_IP) ready in $((SECONDS - start)) s; KUBECONFIG=$KUBECONFIG"
