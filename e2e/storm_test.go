package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const rtmin1 = syscall.Signal(35) // SIGRTMIN+1 as the C library numbers it

// counter is a "testprog sigcount" child, started through launch with the
// counted signals blocked.
type counter struct {
	t    *testing.T
	path string
}

func newCounter(t *testing.T) counter {
	return counter{t: t, path: filepath.Join(t.TempDir(), "counts")}
}

// argv runs sigcount with block (a comma list) blocked; extra is AFTER CODE.
func (c counter) argv(block string, extra ...string) []string {
	return append([]string{testprog, "launch", block, "-", testprog, "sigcount", c.path}, extra...)
}

func (c counter) waitReady() {
	c.t.Helper()
	waitFor(c.t, 10*time.Second, "sigcount to start", func() bool { return exists(c.path) })
}

func (c counter) count(sig syscall.Signal) int {
	for _, line := range strings.Split(readFile(c.t, c.path), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == strconv.Itoa(int(sig)) {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// exitedAt is when the child exited (sigcount with AFTER), or zero.
func (c counter) exitedAt() time.Time {
	ms, err := strconv.ParseInt(readFile(c.t, c.path+".exit"), 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// The kernel queues real-time signals, one delivery per send: each of 1000
// sent back to back reaches the child, as through tini.
func TestQueuedRealTimeSignalsArriveOneByOne(t *testing.T) {
	c := newCounter(t)
	r := start(t, opts{}, c.argv("RTMIN+1")...)
	c.waitReady()
	const sends = 1000
	for i := 0; i < sends; i++ {
		r.signal(rtmin1)
	}
	waitFor(t, 20*time.Second, "1000 deliveries", func() bool { return c.count(rtmin1) >= sends })
	if got := c.count(rtmin1); got != sends {
		t.Errorf("the child got SIGRTMIN+1 %d times, want %d", got, sends)
	}
	r.signal(unix.SIGTERM)
	r.expectExit(128+int(unix.SIGTERM), limit)
}

// The child's exit is noticed while two senders flood drainit with
// real-time and standard signals: its code comes through (not a 137 from a
// zombie that looked alive), and drainit exits before the storm ends.
func TestChildExitDuringASignalStorm(t *testing.T) {
	for round := 0; round < 3; round++ {
		c := newCounter(t)
		r := start(t, opts{}, c.argv("RTMIN+1,USR1", "1s", "42")...)
		c.waitReady()
		stop := flood(r, rtmin1, unix.SIGUSR1)
		code := r.exitCode(limit)
		exited := time.Now()
		stop()
		if code != 42 {
			t.Fatalf("round %d: exit code %d, want the child's 42\nstderr:\n%s", round, code, r.stderr.String())
		}
		late := exited.Sub(c.exitedAt())
		t.Logf("round %d: drainit exited %v after the child", round, late)
		if late > 5*time.Second {
			t.Errorf("round %d: drainit noticed the child's exit %v late", round, late)
		}
	}
}

// flood sends the signals to drainit from one goroutine each until stopped
// or for 20 s at most.
func flood(r *run, sigs ...syscall.Signal) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, sig := range sigs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			deadline := time.Now().Add(20 * time.Second)
			for time.Now().Before(deadline) {
				select {
				case <-done:
					return
				default:
				}
				if r.p.Signal(sig) != nil {
					return
				}
			}
		}()
	}
	return func() { close(done); wg.Wait() }
}

// A stderr that nobody reads for a while (a stalled log collector) blocks
// drainit's log writes; the child's exit in that time is still noticed once
// the reader comes back, with no SIGCHLD sent by hand.
func TestStalledStderrDoesNotLoseTheChild(t *testing.T) {
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close(); wr.Close() })
	c := newCounter(t)
	args := append([]string{"-vvv", "--"}, c.argv("RTMIN+1", "500ms", "42")...)
	r := start(t, opts{setup: func(cmd *exec.Cmd) { cmd.Stderr = wr }}, args...)
	c.waitReady()
	for i := 0; i < 2000; i++ { // queued, and each is logged at -vvv: the pipe fills
		r.signal(rtmin1)
	}
	waitFor(t, limit, "the child to exit", func() bool { return !c.exitedAt().IsZero() })
	if r.exited() {
		t.Fatalf("drainit exited (code %d) while its log writes should have been blocked", r.p.ExitCode())
	}
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := rd.Read(buf); err != nil {
				return
			}
		}
	}()
	r.expectExit(42, limit)
}
