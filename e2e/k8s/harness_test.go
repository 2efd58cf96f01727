// Package k8s runs drainit in pods of a real Kubernetes that the project
// builds and starts itself (make k8s-up: kubelet, kube-proxy, containerd),
// with the images make docker-images builds. `make test-k8s` runs it; set
// DRAINIT_K8S_TESTS=1 to run it by hand against a cluster that is up.
//
// Each test works in a namespace of its own, deleted when the test ends,
// pass or fail; make k8s-down removes the cluster.
package k8s

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	kit "github.com/drainit/drainit/internal/testsupport/testkit"
)

const (
	javaApp = "drainit-example-java:dev"
	testkit = "drainit-testkit:dev"
	limit   = 90 * time.Second
)

var kubectl, kubeconfig string

func TestMain(m *testing.M) {
	if os.Getenv("DRAINIT_K8S_TESTS") != "1" {
		fmt.Println("e2e/k8s: skipped: the Kubernetes tests run under make test-k8s (DRAINIT_K8S_TESTS=1)")
		os.Exit(0)
	}
	out, err := exec.Command("bash", "-c", `. ../../scripts/k8s-env.sh && echo "$K8S_BIN/kubectl $KUBECONFIG"`).Output()
	if err != nil {
		fmt.Println("e2e/k8s: cannot read scripts/k8s-env.sh:", err)
		os.Exit(1)
	}
	kubectl, kubeconfig, _ = strings.Cut(strings.TrimSpace(string(out)), " ")
	if out, err := exec.Command(kubectl, "--kubeconfig", kubeconfig, "get", "--raw", "/readyz").CombinedOutput(); err != nil {
		fmt.Printf("e2e/k8s: the cluster does not answer (make k8s-up): %s\n", bytes.TrimSpace(out))
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// cluster is one test's namespace.
type cluster struct {
	t  *testing.T
	ns string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{t: t, ns: fmt.Sprintf("drainit-test-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)}
	c.must("create", "namespace", c.ns)
	t.Cleanup(func() {
		// --wait=false: the namespace goes with its pods, and the next test
		// need not wait for that.
		c.run("delete", "namespace", c.ns, "--wait=false", "--grace-period=0", "--force")
	})
	return c
}

// run is kubectl in the test's namespace, bounded by limit.
func (c *cluster) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kubeconfig, "-n", c.ns}, args...)...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (c *cluster) must(args ...string) string {
	c.t.Helper()
	out, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// apply creates the objects of a manifest.
func (c *cluster) apply(manifest string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "-n", c.ns, "apply", "-f", "-")
	cmd.Stdin = strings.NewReader(manifest)
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("kubectl apply: %v\n%s\n%s", err, out, manifest)
	}
}

func (c *cluster) waitReady(pod string) {
	c.t.Helper()
	if out, err := c.run("wait", "--for=condition=Ready", "pod/"+pod, "--timeout=60s"); err != nil {
		describe, _ := c.run("describe", "pod", pod)
		logs, _ := c.run("logs", pod, "--all-containers")
		c.t.Fatalf("pod %s not ready: %v %s\n%s\nlogs:\n%s", pod, err, out, describe, logs)
	}
}

// podJSON is the part of a pod's status the tests read.
type podJSON struct {
	Metadata struct {
		UID                        string  `json:"uid"`
		DeletionTimestamp          *string `json:"deletionTimestamp"`
		DeletionGracePeriodSeconds *int    `json:"deletionGracePeriodSeconds"`
	} `json:"metadata"`
	Status struct {
		PodIP             string `json:"podIP"`
		HostIP            string `json:"hostIP"`
		ContainerStatuses []struct {
			Name  string `json:"name"`
			State struct {
				Terminated *struct {
					ExitCode   int    `json:"exitCode"`
					Reason     string `json:"reason"`
					FinishedAt string `json:"finishedAt"`
				} `json:"terminated"`
			} `json:"state"`
		} `json:"containerStatuses"`
	} `json:"status"`
}

func (c *cluster) pod(name string) podJSON {
	c.t.Helper()
	var p podJSON
	if err := json.Unmarshal([]byte(c.must("get", "pod", name, "-o", "json")), &p); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// pidsCgroup is the pod's pids cgroup on this node, where the kubelet sets
// podPidsLimit (the cgroupfs driver: kubepods[/QoS class]/pod<uid>).
func (c *cluster) pidsCgroup(pod string) kit.PidsCgroup {
	c.t.Helper()
	uid := c.must("get", "pod", pod, "-o", "jsonpath={.metadata.uid}")
	for _, pattern := range []string{"kubepods/pod" + uid, "kubepods/*/pod" + uid} {
		if dirs, _ := filepath.Glob(filepath.Join(kit.PidsRoot(), pattern)); len(dirs) == 1 {
			return kit.PidsCgroupAt(c.t, dirs[0])
		}
	}
	c.t.Fatalf("no pids cgroup for pod %s (uid %s) under %s", pod, uid, kit.PidsRoot())
	return kit.PidsCgroup{}
}

// watch follows a pod's updates until it is gone (or limit) and keeps
// every version seen: the last one with a terminated container says how it
// ended, which the deleted pod no longer can.
type watch struct {
	mu       sync.Mutex
	versions []podJSON
	done     chan struct{}
}

func (c *cluster) watchPod(name string) *watch {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*limit)
	cmd := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "-n", c.ns, "get", "pod", name,
		"--watch", "--output-watch-events", "-o", "json")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	w := &watch{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		dec := json.NewDecoder(bufio.NewReader(stdout))
		for {
			var ev struct {
				Type   string  `json:"type"`
				Object podJSON `json:"object"`
			}
			if dec.Decode(&ev) != nil {
				return
			}
			w.mu.Lock()
			w.versions = append(w.versions, ev.Object)
			w.mu.Unlock()
			if ev.Type == "DELETED" {
				cancel()
				return
			}
		}
	}()
	c.t.Cleanup(func() { cancel(); cmd.Wait() })
	return w
}

// terminated waits for the pod to go and returns how its container ended:
// the exit code and the reason the kubelet gave.
func (w *watch) terminated(t *testing.T, container string) (code int, reason string) {
	t.Helper()
	select {
	case <-w.done:
	case <-time.After(2 * limit):
		t.Fatal("the pod was not deleted in time")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.versions) - 1; i >= 0; i-- {
		for _, s := range w.versions[i].Status.ContainerStatuses {
			if s.Name == container && s.State.Terminated != nil {
				return s.State.Terminated.ExitCode, s.State.Terminated.Reason
			}
		}
	}
	t.Fatalf("no terminated state of %s seen in %d versions of the pod", container, len(w.versions))
	return 0, ""
}

// logs follows a container's output from its start until it ends: the
// kubelet's log of a deleted pod goes with it.
type logs struct {
	kit.SyncBuffer
	done chan struct{}
}

func (c *cluster) follow(pod, container string) *logs {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*limit)
	cmd := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "-n", c.ns, "logs", "-f", pod, "-c", container)
	l := &logs{done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = l, l
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() { cmd.Wait(); close(l.done) }()
	c.t.Cleanup(func() { cancel(); <-l.done })
	return l
}

// waitLog waits until the output holds want.
func (l *logs) waitLog(t *testing.T, want string) {
	t.Helper()
	waitFor(t, limit, fmt.Sprintf("%q in the logs", want), func() bool { return strings.Contains(l.String(), want) })
}

// ended waits for the log stream to end (the container has gone).
func (l *logs) ended(t *testing.T) string {
	t.Helper()
	select {
	case <-l.done:
	case <-time.After(2 * limit):
		t.Fatal("the container's log never ended")
	}
	return l.String()
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	kit.Poll(t, limit, 100*time.Millisecond, what, cond)
}

// expect fails for each of want that text lacks.
func expect(t *testing.T, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("lacks %q:\n%s", w, text)
		}
	}
}
