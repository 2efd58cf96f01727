package k8s

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/internal/testsupport/kubefixture"
)

// The drain the tests give the example app: deregister through the app's
// own endpoint, give callers 2 s, then SIGTERM.
func drainEnv(extra ...string) map[string]string {
	env := map[string]string{
		"DRAINIT_PRESTOP":      "http POST http://127.0.0.1:8080/actuator/deregister; sleep 2s",
		"DRAINIT_GRACE_PERIOD": "30",
		"DRAINIT_STOP_TIMEOUT": "10s",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// kubectl delete pod, as a rolling update does it: the kubelet sends
// SIGTERM to drainit, which drains, forwards SIGTERM to start.sh's process
// group; the JVM runs its shutdown hook to the end and the container exits
// 143 by itself, long before the kubelet's SIGKILL.
func TestDeletePodDrainsAndTheJVMFinishes(t *testing.T) {
	c := newCluster(t)
	c.apply(podSpec{name: "app", grace: 30, env: drainEnv(), readiness: 2}.yaml())
	c.waitReady("app")
	logs := c.follow("app", "app")
	logs.waitLog(t, "listening on")
	w := c.watchPod("app")
	start := time.Now()
	c.must("delete", "pod", "app", "--wait=false")
	code, reason := w.terminated(t, "app")
	took := time.Since(start)
	out := logs.ended(t)
	expect(t, out, logging.DrainStarted, `step="http POST`, "deregistered", logging.StopForwarded, "shutdown hook: done", "process tree gone")
	if code != 143 {
		t.Errorf("the container ended with %d (%s), want 143: the app's own exit on SIGTERM, not a kill\n%s", code, reason, out)
	}
	if took > 20*time.Second {
		t.Errorf("the pod took %v to go", took)
	}
	t.Logf("deleted to gone in %v; exit %d (%s)", took.Round(time.Millisecond), code, reason)
}

// A lifecycle.preStop hook beside drainit: the kubelet runs it first and
// counts the grace period from its start; drainit gets SIGTERM only after
// it, and with DRAINIT_GRACE_PERIOD set to what is left, still drains and
// stops the app in time.
func TestPreStopHookBesideDrainit(t *testing.T) {
	c := newCluster(t)
	c.apply(podSpec{name: "app", grace: 20, env: drainEnv("DRAINIT_GRACE_PERIOD", "17"),
		preStop: "echo prestop > /proc/1/fd/1; sleep 3"}.yaml())
	c.waitReady("app")
	logs := c.follow("app", "app")
	logs.waitLog(t, "listening on")
	w := c.watchPod("app")
	c.must("delete", "pod", "app", "--wait=false")
	code, _ := w.terminated(t, "app")
	out := logs.ended(t)
	expect(t, out, "prestop", logging.DrainStarted, logging.StopForwarded, "shutdown hook: done")
	if strings.Index(out, "prestop") > strings.Index(out, logging.DrainStarted) {
		t.Errorf("drainit got SIGTERM before the preStop hook ran:\n%s", out)
	}
	if code != 143 {
		t.Errorf("exit %d, want 143\n%s", code, out)
	}
}

// callerPod sends a request a second... every 50 ms to target's port 8080
// from a pod of its own (so from a pod address, as callers do), a new
// connection each time, and prints a line for each answer.
func callerPod(name, target string) string {
	return podSpec{name: name, grace: 0, image: testkit, args: []string{"bash", "-c",
		`while :; do exec 3<>/dev/tcp/` + target + `/8080 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && cat <&3 >/dev/null && echo ok; exec 3<&-; sleep 0.05; done`}}.yaml()
}

// Readiness probes keep coming from the node during termination (every
// second here), from the bridge's address on this cluster, not from
// status.hostIP. With its Role, drainit reads the probes from its pod at
// the stop and lets them pass, with no network setting: quiet sees the
// caller (a pod) stop. Without the Role the pod is not read, which the log
// says, and the probes, counted as callers, hold the step to its maximum.
func TestQuietTellsTheKubeletsProbesFromCallers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		role    bool
		stopped bool
	}{{"with its Role", true, true}, {"without", false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t)
			if tc.role {
				c.apply(rbac)
			}
			env := drainEnv("DRAINIT_PRESTOP", "quiet 2s max 8s")
			c.apply(podSpec{name: "app", grace: 30, env: env, readiness: 1}.yaml())
			c.waitReady("app")
			logs := c.follow("app", "app")
			c.apply(callerPod("caller", c.pod("app").Status.PodIP))
			c.waitReady("caller")
			calls := c.follow("caller", "app")
			// Callers busy for a few of drainit's samples before the stop.
			waitFor(t, limit, "60 answers to the caller", func() bool { return strings.Count(calls.String(), "ok") >= 60 })
			c.must("delete", "pod", "caller", "--grace-period=0", "--force")
			w := c.watchPod("app")
			c.must("delete", "pod", "app", "--wait=false")
			w.terminated(t, "app")
			out := logs.ended(t)
			if tc.stopped {
				expect(t, out, logging.QuietStopped, `probes="from 10.244.0.1`)
			} else {
				expect(t, out, logging.QuietNoPod, "quiet: maximum reached")
			}
		})
	}
}

// deleteAndWait deletes the pod as a rolling update does and returns how
// its container ended and its whole log.
func (c *cluster) deleteAndWait(pod string, logs *logs, args ...string) (code int, reason, out string) {
	c.t.Helper()
	w := c.watchPod(pod)
	c.must(append([]string{"delete", "pod", pod, "--wait=false"}, args...)...)
	code, reason = w.terminated(c.t, "app")
	return code, reason, logs.ended(c.t)
}

// shareProcessNamespace: the pause process is PID 1 and drainit an
// ordinary process that registers as the child subreaper; the drain, the
// forward and the tree wait work as before.
func TestSharedProcessNamespace(t *testing.T) {
	c := newCluster(t)
	c.apply(podSpec{name: "app", grace: 30, env: drainEnv("DRAINIT_VERBOSITY", "2"), shareProc: true}.yaml())
	c.waitReady("app")
	if pid1 := c.must("exec", "app", "--", "cat", "/proc/1/cmdline"); !strings.Contains(pid1, "pause") {
		t.Fatalf("PID 1 of the pod is %q, not the pause process", pid1)
	}
	logs := c.follow("app", "app")
	logs.waitLog(t, "listening on")
	code, _, out := c.deleteAndWait("app", logs)
	expect(t, out, logging.DrainStarted, logging.StopForwarded, "shutdown hook: done", "process tree gone")
	if code != 143 {
		t.Errorf("exit %d, want 143\n%s", code, out)
	}
}

// A hardened pod: not root, no capabilities, a read-only root, no
// privilege escalation. drainit needs none of them to drain, read the
// socket table for quiet, forward and wait.
func TestHardenedSecurityContext(t *testing.T) {
	c := newCluster(t)
	env := drainEnv("DRAINIT_PRESTOP", "http POST http://127.0.0.1:8080/actuator/deregister; quiet 1s max 3s")
	c.apply(podSpec{name: "app", grace: 30, env: env, hardened: true}.yaml())
	c.waitReady("app")
	logs := c.follow("app", "app")
	logs.waitLog(t, "listening on")
	if id := c.must("exec", "app", "--", "id", "-u"); id != "10001" {
		t.Fatalf("the pod runs as %q", id)
	}
	code, _, out := c.deleteAndWait("app", logs)
	expect(t, out, "deregistered", `msg="quiet: watching the app's inbound traffic" source="netlink sock_diag"`, logging.StopForwarded, "shutdown hook: done")
	if code != 143 {
		t.Errorf("exit %d, want 143\n%s", code, out)
	}
}

// The app drops to another user (setpriv, as gosu does) while drainit
// stays root without CAP_SYS_PTRACE (containerd's default capabilities):
// drainit cannot read the app's open files, finds its port by the socket's
// owner, and waits for the callers to stop.
func TestQuietWhenTheAppRunsAsAnotherUser(t *testing.T) {
	c := newCluster(t)
	env := drainEnv("DRAINIT_PRESTOP", "quiet 2s max 20s")
	c.apply(podSpec{name: "app", grace: 30, env: env,
		args: []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/app/start.sh"}}.yaml())
	c.waitReady("app")
	logs := c.follow("app", "app")
	logs.waitLog(t, "listening on")
	c.apply(callerPod("caller", c.pod("app").Status.PodIP))
	c.waitReady("caller")
	calls := c.follow("caller", "app")
	waitFor(t, limit, "60 answers to the caller", func() bool { return strings.Count(calls.String(), "ok") >= 60 })
	c.must("delete", "pod", "caller", "--grace-period=0", "--force")
	code, _, out := c.deleteAndWait("app", logs)
	expect(t, out, `owners="socket owner uid 65534`, logging.QuietStopped, "shutdown hook: done")
	if code != 143 {
		t.Errorf("exit %d, want 143\n%s", code, out)
	}
}

// The pod's pids limit (the kubelet's podPidsLimit, 300 here, threads
// included) filled from inside by kubectl exec, as an operator or a fork
// storm would: drainit needs no new thread for the drain, the forward and
// the tree wait, and the container's exit code is the child's.
func TestPodPidsLimitReachedByTheApp(t *testing.T) {
	c := newCluster(t)
	env := drainEnv("DRAINIT_PRESTOP", "http POST http://127.0.0.1:8080/actuator/deregister; quiet 1s max 2s", "DRAINIT_STOP_TIMEOUT", "5s")
	c.apply(podSpec{name: "app", grace: 30, env: env}.yaml())
	c.waitReady("app")
	logs := c.follow("app", "app")
	logs.waitLog(t, "listening on")
	// Sleeps until the kernel refuses a fork; bash then gives up and exits,
	// freeing a pid, and a kubectl exec (which joins the cgroup without a
	// fork) tops the pod up to the limit.
	go c.run("exec", "app", "--", "bash", "-c", "while sleep 600 & do :; done 2>/dev/null")
	pids := c.pidsCgroup("app")
	waitFor(t, limit, "the pod's pids limit to be reached", func() bool {
		return pids.Filled(func() { go c.run("exec", "app", "--", "sleep", "600") })
	})
	code, _, out := c.deleteAndWait("app", logs)
	expect(t, out, `step="http POST`, logging.StopForwarded)
	if strings.Contains(out, "newosproc") || code != 143 {
		t.Errorf("exit %d, want the child's 143\n%s", code, out)
	}
}

const rbac = kubefixture.RBAC

// kubectl delete --grace-period=5 on a pod whose spec (and
// DRAINIT_GRACE_PERIOD) says 60, during a 30 s drain: the kubelet's SIGKILL
// comes at 5 s. Allowed to read its pod, drainit reads the real deadline
// when the stop begins, cuts the drain, forwards SIGTERM and its own SIGKILL
// would land before the kubelet's: the app's hook runs and the container
// exits 143, and the log says where the 5 s came from. Without the
// permission it says why it kept its 60 s, and the kubelet kills it: 137.
func TestShorterGracePeriodFromThePod(t *testing.T) {
	for _, allowed := range []bool{true, false} {
		t.Run(map[bool]string{true: "allowed to read its pod", false: "not allowed"}[allowed], func(t *testing.T) {
			c := newCluster(t)
			if allowed {
				c.apply(rbac)
			}
			env := drainEnv("DRAINIT_PRESTOP", "sleep 30s", "DRAINIT_GRACE_PERIOD", "60", "DRAINIT_STOP_TIMEOUT", "2s",
				"SHUTDOWN_DRAIN_SECONDS", "1")
			c.apply(podSpec{name: "app", grace: 60, env: env}.yaml())
			c.waitReady("app")
			logs := c.follow("app", "app")
			logs.waitLog(t, "listening on")
			start := time.Now()
			code, reason, out := c.deleteAndWait("app", logs, "--grace-period=5")
			took := time.Since(start)
			if !allowed {
				expect(t, out, "deadline not read from the pod", "cannot get resource")
				t.Logf("without the permission: exit %d (%s) after %v: the kubelet killed it", code, reason, took.Round(time.Millisecond))
				return
			}
			expect(t, out, "deadline read from the pod", "deleted with a 5s grace period", logging.StopForwarded, "shutdown hook: done")
			if code != 143 {
				t.Errorf("exit %d (%s), want 143: the app's own exit, not the kubelet's SIGKILL\n%s", code, reason, out)
			}
			if took > 7*time.Second {
				t.Errorf("the pod took %v to go with a 5 s grace period", took)
			}
		})
	}
}

// The stop told as Events on the pod: kubectl describe pod shows how the
// drain went, and a Warning when drainit had to SIGKILL. Where the pod may
// not post events, nothing is shown and the stop is the same.
func TestDrainAsEvents(t *testing.T) {
	c := newCluster(t)
	c.apply(rbac)
	c.apply(podSpec{name: "app", grace: 30, env: drainEnv()}.yaml())
	// A child that ignores SIGTERM: drainit's SIGKILL comes at the stop
	// timeout.
	c.apply(podSpec{name: "stubborn", grace: 30, env: drainEnv("DRAINIT_STOP_TIMEOUT", "2s", "DRAINIT_PRESTOP", "sleep 1s"),
		args: []string{"bash", "-c", "trap '' TERM; touch /tmp/ready; while :; do sleep 0.2; done"}}.yaml())
	c.waitReady("app")
	c.waitReady("stubborn")
	for _, pod := range []string{"app", "stubborn"} {
		logs := c.follow(pod, "app")
		if pod == "app" {
			logs.waitLog(t, "listening on")
		}
		c.must("delete", "pod", pod, "--wait=true", "--timeout=60s")
	}
	events := c.must("get", "events", "-o", "custom-columns=OBJ:.involvedObject.name,TYPE:.type,REASON:.reason,MSG:.message", "--field-selector", "source=drainit")
	expect(t, events, "app", "Draining", "Drained", "drain of 2 step(s): http POST", "Stopped", "SIGTERM forwarded at +", "the app exited 143",
		"stubborn", "Warning", "Killed", "drainit sent SIGKILL")
	t.Logf("events:\n%s", events)
}

// A stop that leaves the pod in place (SIGTERM to the container's PID 1,
// as a failed liveness probe's restart does): kubectl describe pod shows
// the drain as it began, how its steps went and how the app stopped, and
// a second stop counts up the same Events instead of adding objects.
func TestDescribePodShowsTheStop(t *testing.T) {
	c := newCluster(t)
	c.apply(rbac)
	c.apply(podSpec{name: "restarted", grace: 30, env: drainEnv()}.yaml())
	c.waitReady("restarted")
	for round := 1; round <= 2; round++ {
		c.must("exec", "restarted", "-c", "app", "--", "bash", "-c", "kill -TERM 1")
		waitFor(t, 60*time.Second, "the container to restart", func() bool {
			out, _ := c.run("get", "pod", "restarted", "-o", "jsonpath={.status.containerStatuses[0].restartCount}")
			return out == strconv.Itoa(round)
		})
		c.waitReady("restarted")
	}
	describe := c.must("describe", "pod", "restarted")
	expect(t, describe, "Draining", "drain of 2 step(s)", "Drained", "Stopped", "SIGTERM forwarded at +", "the app exited 143")
	events := c.must("get", "events", "--field-selector", "source=drainit,involvedObject.name=restarted", "-o", "custom-columns=REASON:.reason,COUNT:.count")
	for _, reason := range []string{"Draining", "Drained", "Stopped"} {
		if n := strings.Count(events, reason+" "); n != 1 {
			t.Errorf("%d Events %s after two stops, want one counted twice:\n%s", n, reason, events)
		}
	}
	expect(t, events, "2")
	t.Logf("kubectl describe pod restarted:\n%s", describe[strings.Index(describe, "Events:"):])
}
