# Sourced by the k8s-* scripts: where the test cluster's binaries and state
# live. Binaries are kept across runs (rebuilt only when the version
# changes); state is removed by k8s-down.
K8S_VERSION=${K8S_VERSION:-v1.34.4}
K8S_CACHE=${DRAINIT_CACHE:-/var/cache/drainit}/k8s
K8S_BIN=$K8S_CACHE/$K8S_VERSION/bin
K8S_STATE=${DRAINIT_K8S_STATE:-/var/lib/drainit-k8s}
K8S_RUN=/run/drainit-k8s
K8S_NODE=${DRAINIT_K8S_NODE:-drainit-node}
K8S_CONTAINERD_SOCK=$K8S_RUN/containerd.sock
KUBECONFIG=$K8S_STATE/pki/admin.kubeconfig
export KUBECONFIG
