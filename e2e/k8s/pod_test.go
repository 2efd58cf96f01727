package k8s

import (
	"fmt"
	"sort"
	"strings"
)

// podSpec is what the tests vary of the example app's pod: the legacy
// start.sh running the JVM, drainit as the image's ENTRYPOINT.
type podSpec struct {
	name      string
	grace     int               // terminationGracePeriodSeconds
	env       map[string]string // drainit's settings and the app's
	hostIP    bool              // HOST_IP from status.hostIP, POD_IP from status.podIP
	readiness int               // readiness probe period in seconds; 0: none
	preStop   string            // lifecycle.preStop exec command run by bash, if any
	shareProc bool              // shareProcessNamespace: drainit is not PID 1
	hardened  bool              // runAsNonRoot, a uid, no capabilities, read-only root
	args      []string          // the container's args (after the ENTRYPOINT), if not the image's
	account   string            // serviceAccountName
	image     string
}

func (p podSpec) yaml() string {
	var b strings.Builder
	image := p.image
	if image == "" {
		image = javaApp
	}
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  labels: {app: %s}\nspec:\n", p.name, p.name)
	fmt.Fprintf(&b, "  terminationGracePeriodSeconds: %d\n  dnsPolicy: Default\n  enableServiceLinks: false\n", p.grace)
	if p.shareProc {
		b.WriteString("  shareProcessNamespace: true\n")
	}
	if p.account != "" {
		fmt.Fprintf(&b, "  serviceAccountName: %s\n", p.account)
	}
	if p.hardened {
		b.WriteString("  securityContext: {runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001}\n")
	}
	fmt.Fprintf(&b, "  containers:\n  - name: app\n    image: %s\n    imagePullPolicy: Never\n", image)
	if len(p.args) > 0 {
		fmt.Fprintf(&b, "    args: [%s]\n", quoteAll(p.args))
	}
	b.WriteString("    env:\n")
	if p.hostIP {
		b.WriteString("    - {name: HOST_IP, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}\n")
		b.WriteString("    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}\n")
	}
	b.WriteString("    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}\n")
	b.WriteString("    - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}\n")
	var keys []string
	for k := range p.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "    - {name: %s, value: %q}\n", k, p.env[k])
	}
	if p.readiness > 0 {
		fmt.Fprintf(&b, "    readinessProbe:\n      httpGet: {path: /actuator/health, port: 8080}\n      periodSeconds: %d\n", p.readiness)
	}
	if p.preStop != "" {
		fmt.Fprintf(&b, "    lifecycle:\n      preStop:\n        exec: {command: [bash, -c, %q]}\n", p.preStop)
	}
	if p.hardened {
		b.WriteString("    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}\n")
		b.WriteString("    volumeMounts: [{name: tmp, mountPath: /tmp}]\n  volumes: [{name: tmp, emptyDir: {}}]\n")
	}
	return b.String()
}

func quoteAll(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	return strings.Join(quoted, ", ")
}
