package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/drainit/drainit/bench/benchdata"
	"github.com/drainit/drainit/internal/testsupport/kubefixture"
	"github.com/drainit/drainit/internal/testsupport/testkit"
)

// The rolling update in a real Kubernetes (-k8s): the project's own
// cluster (make k8s-up), a Deployment of the JVM service behind its legacy
// start.sh (3 replicas, maxSurge 1, maxUnavailable 0, a readiness probe
// every 2 s), rolled with kubectl rollout restart while callers in a pod
// of the cluster send load three ways: through the Service's ClusterIP
// with a new connection per request, through it over kept-alive
// connections, and to the pods listed in a Nacos-style registry (the fake
// one, in the cluster) with caches of 1, 2 and 6 s. Each wrapper runs in a
// namespace of its own, with the env of examples/legacy-java and no
// setting about the network.
type k8sWrapper struct {
	Name      string
	command   []string
	env       map[string]string
	preStop   string // lifecycle.preStop exec, run by bash
	sleepHook int    // lifecycle.preStop sleep (KEP-3960), in seconds
	seccomp   bool   // securityContext.seccompProfile RuntimeDefault
	callers   string // "service", "registry" or "" for both
}

var drainitStart = []string{"drainit", "--", "/app/start.sh"}
var tiniStart = []string{"tini", "--", "/app/start.sh"}

var nacosSettings = map[string]string{"DRAINIT_NACOS_ADDR": "{NACOS}", "DRAINIT_NACOS_SERVICE": "demo", "DRAINIT_NACOS_PORT": "8080"}

var (
	quietOnly  = map[string]string{"DRAINIT_PRESTOP": "quiet 3s max 30s"}
	nacosQuiet = merged(nacosSettings, map[string]string{"DRAINIT_PRESTOP": "nacos; quiet 3s max 30s"})
	tomcat     = map[string]string{"SHUTDOWN_MODE": "tomcat"}
)

// The seed's hook, with curl and a shell in the image and start.sh as
// PID 1: what users run today.
const seedHook = "curl -s -X POST http://127.0.0.1:8080/actuator/deregister; sleep 30; curl -s -X POST http://127.0.0.1:8080/actuator/shutdown; sleep 5"

// The rows: callers through the Service alone (no registry), the
// registry's alone, then both at once with an app that rejects a request
// on a kept-alive connection once its shutdown began (Tomcat's way), also
// where drainit may not end the app's connections (RuntimeDefault: no
// pidfd_getfd).
var k8sWrappers = []k8sWrapper{
	{Name: "service: tini", command: tiniStart, callers: "service"},
	{Name: "service: tini + preStop sleep 5", command: tiniStart, sleepHook: 5, callers: "service"},
	{Name: "service: preStop curl, sleep 30, curl, sleep 5", command: []string{"/app/start.sh"}, preStop: seedHook, callers: "service"},
	{Name: "service: drainit, quiet", command: drainitStart, env: quietOnly, callers: "service"},
	{Name: "registry: tini + preStop sleep 5", command: tiniStart, sleepHook: 5, callers: "registry"},
	{Name: "registry: preStop curl, sleep 30, curl, sleep 5", command: []string{"/app/start.sh"}, preStop: seedHook, callers: "registry"},
	{Name: "registry: drainit, nacos + quiet", command: drainitStart, env: nacosQuiet, callers: "registry"},
	{Name: "both, tomcat-style app: tini + preStop sleep 5", command: tiniStart, sleepHook: 5, env: tomcat},
	{Name: "both, tomcat-style app: preStop curl, sleep 30, curl, sleep 5", command: []string{"/app/start.sh"}, preStop: seedHook, env: tomcat},
	{Name: "both, tomcat-style app: drainit, nacos + quiet", command: drainitStart, env: merged(nacosQuiet, tomcat)},
	{Name: "both, tomcat-style app, RuntimeDefault seccomp: drainit, nacos + quiet", command: drainitStart, env: merged(nacosQuiet, tomcat), seccomp: true},
}

func merged(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

const k8sGrace = 45 // terminationGracePeriodSeconds: the seed's 35 s hook fits

type k8sBench struct {
	s                   settings
	kubectl, kubeconfig string
}

func runK8s(s settings) error {
	out, err := exec.Command("bash", "-c", `. scripts/k8s-env.sh && echo "$K8S_BIN/kubectl $KUBECONFIG"`).Output()
	if err != nil {
		return fmt.Errorf("scripts/k8s-env.sh: %w", err)
	}
	b := &k8sBench{s: s}
	b.kubectl, b.kubeconfig, _ = strings.Cut(strings.TrimSpace(string(out)), " ")
	var results []benchdata.K8sResult
	for _, w := range k8sWrappers {
		if !strings.Contains(w.Name, s.only) {
			continue
		}
		for i := 1; i <= s.runs; i++ {
			rs, err := b.runOnce(w, i)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", w.Name, i, err)
			}
			for _, r := range rs {
				line, _ := json.Marshal(map[string]any{"wrapper": r.Wrapper, "callers": r.Callers, "run": r.Run, "sent": r.Sent,
					"failed": r.Failed, "failures": r.Failures, "retried": r.Retried, "pod_stop_s": r.PodStopS,
					"rollout_s": r.RolloutS, "kubelet_killed": r.KubeletKilled})
				fmt.Println(string(line))
			}
			results = append(results, rs...)
		}
	}
	return benchdata.Write(s.out, "rollout-k8s.json", benchdata.K8sRollout{Rate: s.rate, Grace: k8sGrace, Runs: s.runs, Results: results})
}

// kc runs kubectl, bounded.
func (b *k8sBench) kc(ctx context.Context, ns string, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.kubectl, append([]string{"--kubeconfig", b.kubeconfig, "-n", ns}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// runOnce rolls the Deployment once under w; one result per kind of caller.
func (b *k8sBench) runOnce(w k8sWrapper, run int) ([]benchdata.K8sResult, error) {
	ctx := context.Background()
	ns := fmt.Sprintf("drainit-bench-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	if _, err := b.kc(ctx, "default", "", "create", "namespace", ns); err != nil {
		return nil, err
	}
	defer b.kc(ctx, "default", "", "delete", "namespace", ns, "--wait=false")
	registryIP, err := b.startRegistry(ctx, ns)
	if err != nil {
		return nil, err
	}
	registry := "http://" + registryIP + ":8848"
	if _, err := b.kc(ctx, ns, appManifests(w, registry), "apply", "-f", "-"); err != nil {
		return nil, err
	}
	if _, err := b.kc(ctx, ns, "", "rollout", "status", "deployment/app", "--timeout=5m"); err != nil {
		return nil, err
	}
	clusterIP, err := b.kc(ctx, ns, "", "get", "service", "app", "-o", "jsonpath={.spec.clusterIP}")
	if err != nil {
		return nil, err
	}
	service, callersOf := "http://"+clusterIP+"/", registry
	switch w.callers {
	case "service":
		callersOf = ""
	case "registry":
		service = ""
	}
	callersIP, err := b.startCallers(ctx, ns, service, callersOf)
	if err != nil {
		return nil, err
	}
	time.Sleep(5 * time.Second) // the load settles before the rollout
	pods := b.watchPods(ns)
	start := time.Now()
	if _, err := b.kc(ctx, ns, "", "rollout", "restart", "deployment/app"); err != nil {
		return nil, err
	}
	if _, err := b.kc(ctx, ns, "", "rollout", "status", "deployment/app", "--timeout=10m"); err != nil {
		return nil, err
	}
	// The last old pod may still be terminating: wait for it, then let
	// the callers' caches catch up.
	stops, killed := pods.oldGone(3, 3*k8sGrace*time.Second)
	rollout := time.Since(start)
	time.Sleep(7 * time.Second)
	seen, err := stopCallers(callersIP)
	if err != nil {
		return nil, err
	}
	causes := pods.causes()
	var out []benchdata.K8sResult
	for _, kind := range callerKinds {
		r, ok := seen[kind]
		if !ok {
			continue
		}
		var failed int64
		for _, n := range r.Failures {
			failed += n
		}
		out = append(out, benchdata.K8sResult{Wrapper: w.Name, Callers: kind, Run: run, Sent: r.Sent, Failed: failed,
			Failures: r.Failures, Retried: r.Retried, Causes: causes, RolloutS: rollout.Seconds(), PodStopS: stops, KubeletKilled: killed})
	}
	fmt.Fprintf(os.Stderr, "k8s: %-40s run %d: rollout %.1fs, old pods gone in %v, kubelet killed: %v\n", w.Name, run, rollout.Seconds(), stops, killed)
	for _, c := range causes {
		fmt.Fprintf(os.Stderr, "k8s:   %s\n", c)
	}
	return out, nil
}

// startCallers runs the callers' pod and returns its address.
func (b *k8sBench) startCallers(ctx context.Context, ns, service, registry string) (string, error) {
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: callers}
spec:
  dnsPolicy: Default
  containers:
  - name: callers
    image: %s
    imagePullPolicy: Never
    command: [rollout, -k8s-callers, -service, %q, -registry, %q, -rate, "%d"]
    readinessProbe: {httpGet: {path: /ready, port: 9000}, periodSeconds: 1}
`, rolloutImage, service, registry, b.s.rate)
	if _, err := b.kc(ctx, ns, manifest, "apply", "-f", "-"); err != nil {
		return "", err
	}
	if _, err := b.kc(ctx, ns, "", "wait", "--for=condition=Ready", "pod/callers", "--timeout=2m"); err != nil {
		return "", err
	}
	return b.kc(ctx, ns, "", "get", "pod", "callers", "-o", "jsonpath={.status.podIP}")
}

// stopCallers ends the load and reads what each kind of caller saw.
func stopCallers(ip string) (map[string]k8sCallerResult, error) {
	client := http.Client{Timeout: time.Minute}
	resp, err := client.Get("http://" + ip + ":9000/stop")
	if err != nil {
		return nil, fmt.Errorf("stopping the callers: %w", err)
	}
	defer resp.Body.Close()
	var out map[string]k8sCallerResult
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// startRegistry runs the fake Nacos (instances expire 3 s after their
// last heartbeat) and returns its pod's address.
func (b *k8sBench) startRegistry(ctx context.Context, ns string) (string, error) {
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: registry}
spec:
  dnsPolicy: Default
  containers:
  - name: registry
    image: %s
    imagePullPolicy: Never
    command: [fakeregistryd, ":8848", "3s"]
    readinessProbe: {tcpSocket: {port: 8848}, periodSeconds: 1}
`, rolloutImage)
	if _, err := b.kc(ctx, ns, manifest, "apply", "-f", "-"); err != nil {
		return "", err
	}
	if _, err := b.kc(ctx, ns, "", "wait", "--for=condition=Ready", "pod/registry", "--timeout=2m"); err != nil {
		return "", err
	}
	return b.kc(ctx, ns, "", "get", "pod", "registry", "-o", "jsonpath={.status.podIP}")
}

// appManifests is the Deployment under w, its Service, and the Role that
// lets drainit read its pod and post Events.
func appManifests(w k8sWrapper, registry string) string {
	env := merged(map[string]string{"PORT": "8080", "HOST": "0.0.0.0", "CLASSES": "/app", "NACOS_ADDR": registry,
		"SERVICE": "demo", "BEAT_MS": "500", "WORK_MS": "20", "DRAINIT_GRACE_PERIOD": fmt.Sprint(k8sGrace)}, w.env)
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  replicas: 3
  selector: {matchLabels: {app: app}}
  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata: {labels: {app: app}}
    spec:
      terminationGracePeriodSeconds: %d
      dnsPolicy: Default
      enableServiceLinks: false
      containers:
      - name: app
        image: %s
        imagePullPolicy: Never
        command: [%s]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 2}
        env:
        - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
        - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
`, k8sGrace, rolloutImage, quoted(w.command))
	var keys []string
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "        - {name: %s, value: %q}\n", k, strings.ReplaceAll(env[k], "{NACOS}", registry))
	}
	switch {
	case w.preStop != "":
		fmt.Fprintf(&b, "        lifecycle: {preStop: {exec: {command: [bash, -c, %q]}}}\n", w.preStop)
	case w.sleepHook > 0:
		fmt.Fprintf(&b, "        lifecycle: {preStop: {sleep: {seconds: %d}}}\n", w.sleepHook)
	}
	if w.seccomp {
		b.WriteString("        securityContext: {seccompProfile: {type: RuntimeDefault}}\n")
	}
	b.WriteString(`---
apiVersion: v1
kind: Service
metadata: {name: app}
spec:
  selector: {app: app}
  ports: [{port: 80, targetPort: 8080}]
---
`)
	b.WriteString(kubefixture.RBAC)
	return b.String()
}

func quoted(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(out, ", ")
}

// podWatch follows the namespace's pods: when each got its
// deletionTimestamp and went, and how its container ended.
type podWatch struct {
	mu      sync.Mutex
	deleted map[string]time.Time // when the deletion was first seen
	gone    map[string]time.Time
	killed  map[string]bool // exit 137 at the grace period's end: the kubelet's SIGKILL
	cancel  context.CancelFunc

	logsCmd []string                       // kubectl ... logs -f, less the pod's name
	logs    map[string]*testkit.SyncBuffer // each deleted pod's log, followed from its deletion
	follows sync.WaitGroup
}

func (b *k8sBench) watchPods(ns string) *podWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &podWatch{deleted: map[string]time.Time{}, gone: map[string]time.Time{}, killed: map[string]bool{}, cancel: cancel,
		logsCmd: []string{b.kubectl, "--kubeconfig", b.kubeconfig, "-n", ns, "logs", "-f", "--tail=-1"}, logs: map[string]*testkit.SyncBuffer{}}
	cmd := exec.CommandContext(ctx, b.kubectl, "--kubeconfig", b.kubeconfig, "-n", ns, "get", "pods", "-l", "app=app",
		"--watch", "--output-watch-events", "-o", "json")
	stdout, _ := cmd.StdoutPipe()
	if cmd.Start() != nil {
		return w
	}
	go func() {
		defer cmd.Wait()
		dec := json.NewDecoder(bufio.NewReader(stdout))
		for {
			var ev struct {
				Type   string  `json:"type"`
				Object podInfo `json:"object"`
			}
			if dec.Decode(&ev) != nil {
				return
			}
			w.note(ev.Type, ev.Object)
		}
	}()
	return w
}

type podInfo struct {
	Metadata struct {
		Name              string     `json:"name"`
		DeletionTimestamp *time.Time `json:"deletionTimestamp"`
	} `json:"metadata"`
	Status struct {
		ContainerStatuses []struct {
			State struct {
				Terminated *struct {
					ExitCode   int       `json:"exitCode"`
					FinishedAt time.Time `json:"finishedAt"`
				} `json:"terminated"`
			} `json:"state"`
		} `json:"containerStatuses"`
	} `json:"status"`
}

func (w *podWatch) note(kind string, p podInfo) {
	w.mu.Lock()
	defer w.mu.Unlock()
	name := p.Metadata.Name
	if p.Metadata.DeletionTimestamp != nil {
		if _, seen := w.deleted[name]; !seen {
			w.deleted[name] = time.Now()
			w.follow(name)
		}
		for _, s := range p.Status.ContainerStatuses {
			// The kubelet's SIGKILL: 137 at the grace period's end, which
			// the deletionTimestamp marks.
			if t := s.State.Terminated; t != nil && t.ExitCode == 137 && !t.FinishedAt.Before(p.Metadata.DeletionTimestamp.Add(-2*time.Second)) {
				w.killed[name] = true
			}
		}
	}
	if kind == "DELETED" {
		w.gone[name] = time.Now()
	}
}

// follow reads a deleted pod's log until its container ends: drainit's
// lines say why its drain took what it took.
func (w *podWatch) follow(name string) {
	buf := &testkit.SyncBuffer{}
	w.logs[name] = buf
	w.follows.Add(1)
	go func() {
		defer w.follows.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 3*k8sGrace*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, w.logsCmd[0], append(w.logsCmd[1:], name)...)
		cmd.Stdout = buf
		cmd.Run()
	}()
}

// causes are, for each old pod, drainit's lines that end its steps (none
// under another init), read from its log.
func (w *podWatch) causes() []string {
	w.follows.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for name, buf := range w.logs {
		if dir := os.Getenv("ROLLOUT_LOGS"); dir != "" { // every old pod's whole log, for a closer look
			os.WriteFile(filepath.Join(dir, name+".log"), []byte(buf.String()), 0o644)
		}
		for _, line := range strings.Split(buf.String(), "\n") {
			if strings.Contains(line, `msg="quiet: `) && !strings.Contains(line, "watching") || strings.Contains(line, `msg="drain step done"`) {
				out = append(out, name+": "+line[strings.Index(line, "msg="):])
			}
		}
	}
	sort.Strings(out)
	return out
}

// oldGone waits until n deleted pods have gone (or limit), stops the watch,
// and returns each one's time from deletion to gone and whether the
// kubelet had to kill any.
func (w *podWatch) oldGone(n int, limit time.Duration) ([]float64, bool) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		gone := len(w.gone)
		w.mu.Unlock()
		if gone >= n {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	w.cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	var stops []float64
	killed := false
	for name, at := range w.gone {
		if del, ok := w.deleted[name]; ok {
			stops = append(stops, at.Sub(del).Round(100*time.Millisecond).Seconds())
		}
		killed = killed || w.killed[name]
	}
	sort.Float64s(stops)
	return stops, killed
}
