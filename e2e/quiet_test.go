package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drainit/drainit/internal/logging"
	"golang.org/x/sys/unix"
)

// listing is a registry in miniature: callers read whether the instance is
// listed, on their own refresh schedule; the drain's first step takes it out.
type listing struct{ out atomic.Bool }

func (l *listing) ServeHTTP(w http.ResponseWriter, r *http.Request) { l.out.Store(true) }

// caller sends a request every 50 ms to the app while its cached view of
// the listing says the instance is in (refreshed every refresh; 0: never,
// a stream that ignores the registry), from the address from ("" any).
type caller struct {
	last atomic.Int64 // Unix ms of the last request sent
	stop context.CancelFunc
	done sync.WaitGroup
}

func startCaller(t *testing.T, ns *netns, l *listing, url string, refresh time.Duration, keepAlive bool, from string) *caller {
	ctx, cancel := context.WithCancel(context.Background())
	c := &caller{stop: cancel}
	dialer := &net.Dialer{}
	if from != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: ns.dial(dialer), DisableKeepAlives: !keepAlive}}
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		listed, refreshed := true, time.Now()
		for deadline := time.Now().Add(limit); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(50 * time.Millisecond) {
			if refresh > 0 && time.Since(refreshed) >= refresh {
				listed, refreshed = !l.out.Load(), time.Now()
			}
			if !listed {
				continue
			}
			c.last.Store(time.Now().UnixMilli())
			if resp, err := client.Get(url); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	}()
	t.Cleanup(func() { cancel(); c.done.Wait() })
	return c
}

func (c *caller) lastSent() time.Time { return time.UnixMilli(c.last.Load()) }

// quietRun starts the JVM behind start.sh under drainit with the drain
// "take it out of the listing; quiet ...", runs the callers, sends SIGTERM
// and returns drainit, when the drain signal was sent and when the JVM got
// SIGTERM.
type quietRun struct {
	ns      *netns // the app's, drainit's and the callers' own
	app     *javaApp
	listing *listing
	url     string
	sent    time.Time
	sigterm time.Time
	stderr  string
}

func runQuiet(t *testing.T, quiet string, env []string, callers func(q *quietRun)) *quietRun {
	t.Helper()
	return runQuietAs(t, quiet, env, opts{}, nil, callers)
}

// runQuietAs is runQuiet with o for drainit and wrap in front of start.sh.
func runQuietAs(t *testing.T, quiet string, env []string, o opts, wrap []string, callers func(q *quietRun)) *quietRun {
	t.Helper()
	q := &quietRun{ns: newNetns(t), listing: &listing{}}
	o.netns = q.ns
	registry := q.ns.serve(t, q.listing)
	port := freePort(t)
	q.url = "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	env = append(env, "DRAINIT_PRESTOP=http POST "+registry+"/out; "+quiet, "DRAINIT_GRACE_PERIOD=40s",
		"DRAINIT_STOP_TIMEOUT=5s", "DRAINIT_VERBOSITY=3")
	q.app = startJavaAppWith(t, port, o, wrap, env...)
	samples := func() int { return strings.Count(q.app.stderr.String(), logging.QuietSampled) }
	before := samples()
	callers(q)
	// The callers' traffic before the stop: two of drainit's samples, so
	// that a second of it is on record.
	waitFor(t, limit, "two samples of the callers' traffic", func() bool { return samples() >= before+2 })
	q.sent = time.Now()
	q.app.signal(unix.SIGTERM)
	q.app.expectExit(143, limit)
	q.sigterm = q.app.event(t, "hook-start")
	q.stderr = q.app.stderr.String()
	return q
}

func (q *quietRun) took() time.Duration { return q.sigterm.Sub(q.sent) }

// Callers that refresh every 500 ms and open a connection per request: the
// drain goes on once they have been silent for the quiet time, long before
// its maximum, and not before.
func TestQuietFastCallers(t *testing.T) {
	t.Parallel() // in a network namespace of its own: see runQuietAs
	var fast *caller
	q := runQuiet(t, "quiet 1s max 20s", nil, func(q *quietRun) { fast = startCaller(t, q.ns, q.listing, q.url, 500*time.Millisecond, false, "") })
	if !strings.Contains(q.stderr, logging.QuietStopped) {
		t.Fatalf("quiet not reached:\n%s", q.stderr)
	}
	if gap := q.sigterm.Sub(fast.lastSent()); gap < time.Second-100*time.Millisecond {
		t.Errorf("the JVM got SIGTERM %v after the caller's last request, before 1s of quiet", gap)
	}
	if q.took() > 10*time.Second {
		t.Errorf("SIGTERM %v after the drain signal: the quiet was not seen early", q.took())
	}
	t.Logf("SIGTERM to the JVM %v after the drain signal\n%s", q.took().Round(time.Millisecond), q.stderr)
}

// A caller that refreshes only every 3 s, over a kept-alive connection,
// holds the drain until it too has gone quiet.
func TestQuietHeldByASlowCaller(t *testing.T) {
	t.Parallel() // in a network namespace of its own: see runQuietAs
	var slow *caller
	q := runQuiet(t, "quiet 1s max 20s", nil, func(q *quietRun) {
		startCaller(t, q.ns, q.listing, q.url, 500*time.Millisecond, false, "")
		slow = startCaller(t, q.ns, q.listing, q.url, 3*time.Second, true, "")
	})
	if gap := q.sigterm.Sub(slow.lastSent()); gap < time.Second-100*time.Millisecond {
		t.Errorf("the JVM got SIGTERM %v after the slow caller's last request, before 1s of quiet", gap)
	}
	if !strings.Contains(q.stderr, logging.QuietStopped) {
		t.Errorf("quiet not reached:\n%s", q.stderr)
	}
}

// A stream that never stops (here, a kept-alive caller that ignores the
// registry) holds the step to its maximum, which is logged.
func TestQuietStreamHeldToTheMaximum(t *testing.T) {
	t.Parallel() // in a network namespace of its own: see runQuietAs
	q := runQuiet(t, "quiet 1s max 3s", nil, func(q *quietRun) { startCaller(t, q.ns, q.listing, q.url, 0, true, "") })
	if !strings.Contains(q.stderr, logging.QuietMaxBusy) {
		t.Errorf("the maximum was not logged:\n%s", q.stderr)
	}
	if q.took() < 3*time.Second-100*time.Millisecond {
		t.Errorf("SIGTERM %v after the drain signal, before the 3s maximum", q.took())
	}
}

// Probes from HOST_IP keep coming, here every 50 ms on a kept-alive
// connection; they are not callers.
func TestQuietIgnoresProbesFromHostIP(t *testing.T) {
	t.Parallel() // in a network namespace of its own: see runQuietAs
	q := runQuiet(t, "quiet 1s max 20s", []string{"HOST=0.0.0.0", "HOST_IP=127.0.0.2"}, func(q *quietRun) {
		startCaller(t, q.ns, q.listing, q.url, 500*time.Millisecond, false, "")
		startCaller(t, q.ns, q.listing, q.url, 0, true, "127.0.0.2")
	})
	if !strings.Contains(q.stderr, logging.QuietStopped) || q.took() > 10*time.Second {
		t.Errorf("the probes held the drain (%v):\n%s", q.took(), q.stderr)
	}
}

// Where netlink is refused, /proc/net/tcp still shows new connections.
func TestQuietFromProc(t *testing.T) {
	t.Parallel() // in a network namespace of its own: see runQuietAs
	q := runQuiet(t, "quiet 1s max 20s", []string{"DRAINIT_QUIET_SOURCE=proc"}, func(q *quietRun) {
		startCaller(t, q.ns, q.listing, q.url, 500*time.Millisecond, false, "")
	})
	if !strings.Contains(q.stderr, `source=/proc/net/tcp`) || !strings.Contains(q.stderr, logging.QuietStopped) {
		t.Errorf("the /proc source did not see the callers stop:\n%s", q.stderr)
	}
}

// With no traffic before the drain, silence proves nothing: it says so and
// waits for the maximum.
func TestQuietWithTooLittleTrafficWaitsForTheMaximum(t *testing.T) {
	t.Parallel() // in a network namespace of its own: see runQuietAs
	q := runQuiet(t, "quiet 1s max 3s", nil, func(*quietRun) {})
	if !strings.Contains(q.stderr, "too little traffic before the drain") {
		t.Errorf("not said:\n%s", q.stderr)
	}
	if q.took() < 3*time.Second-100*time.Millisecond {
		t.Errorf("SIGTERM %v after the drain signal, before the 3s maximum", q.took())
	}
}

// The app drops to another user (setpriv, as gosu does) and drainit, root
// without CAP_SYS_PTRACE as in a default container, cannot read the app's
// open files: the app's port is told by its socket's owner, and the drain
// waits for the callers as it does for an app of its own user (before, it
// said the app held no listening socket and forwarded at once).
func TestQuietAppUnderAnotherUser(t *testing.T) {
	t.Parallel() // in a network namespace of its own: see runQuietAs
	openToOtherUsers(t)
	var fast *caller
	q := runQuietAs(t, "quiet 1s max 20s", nil, noPtrace, asNobody, func(q *quietRun) {
		fast = startCaller(t, q.ns, q.listing, q.url, 500*time.Millisecond, false, "")
	})
	if !strings.Contains(q.stderr, `owners="socket owner uid 65534`) || !strings.Contains(q.stderr, "a sidecar of that user would count too") {
		t.Errorf("the log does not say the app's port was told by its owner:\n%s", q.stderr)
	}
	if !strings.Contains(q.stderr, logging.QuietStopped) {
		t.Fatalf("quiet not reached:\n%s", q.stderr)
	}
	if gap := q.sigterm.Sub(fast.lastSent()); gap < time.Second-100*time.Millisecond {
		t.Errorf("the JVM got SIGTERM %v after the caller's last request, before 1s of quiet", gap)
	}
}

// serviceCaller sends a request every 20 ms over one kept-alive connection,
// as a caller through a Service does: once the app closes that connection,
// the caller reconnects through the Service, which by then routes to
// another instance (kube-proxy picks no terminating pod), here a plain
// server of its own. It counts requests that failed.
type serviceCaller struct {
	failed, toApp atomic.Int64
	lastToApp     atomic.Int64 // Unix ms
}

func startServiceCaller(t *testing.T, q *quietRun) *serviceCaller {
	c := &serviceCaller{}
	elsewhere := q.ns.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	appAddr := strings.TrimSuffix(strings.TrimPrefix(q.url, "http://"), "/")
	otherAddr := strings.TrimPrefix(elsewhere, "http://")
	var dials atomic.Int64
	dial := q.ns.dial(&net.Dialer{})
	transport := &http.Transport{MaxIdleConnsPerHost: 1, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			return dial(ctx, network, appAddr)
		}
		return dial(ctx, network, otherAddr)
	}}
	client := &http.Client{Timeout: 2 * time.Second, Transport: transport}
	ctx, cancel := context.WithCancel(context.Background())
	var done sync.WaitGroup
	done.Add(1)
	go func() {
		defer done.Done()
		for deadline := time.Now().Add(limit); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(20 * time.Millisecond) {
			resp, err := client.Get("http://service/")
			if err != nil {
				c.failed.Add(1)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.HasPrefix(string(body), "hello") { // the app's answer
				c.toApp.Add(1)
				c.lastToApp.Store(time.Now().UnixMilli())
			}
		}
	}()
	t.Cleanup(func() { cancel(); done.Wait() })
	return c
}

// A caller through a Service keeps its kept-alive connection to the app
// for ever (kube-proxy leaves established connections alone): quiet ends
// it while it is idle, the caller moves to another instance, and the step
// ends after the quiet time, not at its maximum, with no request lost.
func TestQuietEndsAServiceCallersKeptAliveConnection(t *testing.T) {
	t.Parallel() // in a network namespace of its own: see runQuietAs
	var svc *serviceCaller
	q := runQuiet(t, "quiet 1s max 20s", nil, func(q *quietRun) {
		startCaller(t, q.ns, q.listing, q.url, 500*time.Millisecond, false, "")
		svc = startServiceCaller(t, q)
	})
	if !strings.Contains(q.stderr, logging.QuietStopped) || q.took() > 10*time.Second {
		t.Fatalf("the kept-alive connection held the drain (%v):\n%s", q.took(), q.stderr)
	}
	if !strings.Contains(q.stderr, `kept_alive="ended when idle" connections_ended=`) || strings.Contains(q.stderr, "connections_ended=0") {
		t.Errorf("the log does not say the connection was ended:\n%s", q.stderr)
	}
	if svc.toApp.Load() == 0 {
		t.Fatal("the service caller never reached the app")
	}
	if n := svc.failed.Load(); n > 0 {
		t.Errorf("%d of the service caller's requests failed", n)
	}
	if gap := q.sigterm.Sub(time.UnixMilli(svc.lastToApp.Load())); gap < time.Second-100*time.Millisecond {
		t.Errorf("the JVM got SIGTERM %v after the service caller's last request to it", gap)
	}
}

// Where drainit may not take the app's sockets (the app under another user
// and no CAP_SYS_PTRACE, as under a pod's RuntimeDefault seccomp profile),
// the kept-alive connection holds the step to its maximum, as before, and
// the log says why.
func TestQuietCannotEndConnectionsSaysSo(t *testing.T) {
	t.Parallel() // in a network namespace of its own: see runQuietAs
	openToOtherUsers(t)
	q := runQuietAs(t, "quiet 1s max 3s", nil, noPtrace, asNobody, func(q *quietRun) { startServiceCaller(t, q) })
	for _, want := range []string{logging.QuietCannotEnd, "permission denied", logging.QuietMaxBusy, `kept_alive="could not be ended`} {
		if !strings.Contains(q.stderr, want) {
			t.Errorf("the log does not say %q:\n%s", want, q.stderr)
		}
	}
	if q.took() < 3*time.Second-100*time.Millisecond {
		t.Errorf("SIGTERM %v after the drain signal, before the 3s maximum", q.took())
	}
}

// With /proc mounted hidepid=2 (its gid not root's) and the app under
// another user, drainit
// (root without CAP_SYS_PTRACE) cannot see the app's processes: it watches
// every listening socket of the namespace and says so, and still waits
// for the callers (before, it said the app held no listening socket, "no
// callers", and forwarded at once).
func TestQuietAppHiddenByHidepid(t *testing.T) {
	t.Parallel() // in a network namespace of its own: see runQuietAs
	openToOtherUsers(t)
	hidden := opts{via: []string{"sh", "-c", `mount -o remount,hidepid=2,gid=4242 /proc && exec "$@"`, "sh", "setpriv", "--bounding-set=-sys_ptrace"}}
	var fast *caller
	q := runQuietAs(t, "quiet 1s max 20s", nil, hidden, asNobody, func(q *quietRun) {
		fast = startCaller(t, q.ns, q.listing, q.url, 500*time.Millisecond, false, "")
	})
	if !strings.Contains(q.stderr, "every listening socket of the namespace") {
		t.Errorf("the log does not say which sockets were taken and why:\n%s", q.stderr)
	}
	if !strings.Contains(q.stderr, logging.QuietStopped) {
		t.Fatalf("quiet not reached:\n%s", q.stderr)
	}
	if gap := q.sigterm.Sub(fast.lastSent()); gap < time.Second-100*time.Millisecond {
		t.Errorf("the JVM got SIGTERM %v after the caller's last request, before 1s of quiet", gap)
	}
}

// The app as another user, and drainit root without CAP_SYS_PTRACE (as in
// a default container): it cannot read the app's open files.
var (
	asNobody = []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}
	noPtrace = opts{via: []string{"setpriv", "--bounding-set=-sys_ptrace"}}
)

// openToOtherUsers lets another user run drainit's binaries and the app.
func openToOtherUsers(t *testing.T) {
	for _, dir := range []string{binDir, filepath.Dir(exampleApp(t))} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}
