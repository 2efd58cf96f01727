package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
// real-time and standard signals, fast enough that the kernel's per-user
// signal queue fills (SigQ at its limit): its code comes through (not a 137
// from a zombie that looked alive), within 2 s of the child's exit, however
// full the queue.
func TestChildExitDuringASaturatedSignalQueue(t *testing.T) {
	for round := 0; round < 2; round++ {
		c := newCounter(t)
		r := start(t, opts{}, c.argv("RTMIN+1,USR1", "1s", "42")...)
		c.waitReady()
		peak := watchSigQ(r.pid)
		fillQueue(t, r, rtmin1)
		stop := flood(r, 5*time.Second, rtmin1, unix.SIGUSR1, unix.SIGUSR1)
		if queued, max := exitsSoonAfterTheChild(t, round, r, c, peak, stop); queued < max*9/10 {
			t.Errorf("round %d: the flood did not fill the signal queue: SigQ peaked at %d/%d", round, queued, max)
		}
	}
}

// exitsSoonAfterTheChild waits for drainit's exit under a flood (stopped
// then), which must carry the child's 42 and come within 2 s of the
// child's; it returns SigQ's peak.
func exitsSoonAfterTheChild(t *testing.T, round int, r *run, c counter, peak func() (int, int), stop func()) (queued, max int) {
	t.Helper()
	code := r.exitCode(limit)
	exited := time.Now()
	queued, max = peak()
	stop()
	if code != 42 {
		t.Fatalf("round %d: exit code %d, want the child's 42\nstderr:\n%s", round, code, r.stderr.String())
	}
	late := exited.Sub(c.exitedAt())
	t.Logf("round %d: drainit exited %v after the child; SigQ peaked at %d/%d", round, late, queued, max)
	if late > 2*time.Second {
		t.Errorf("round %d: drainit exited %v after the child, want within 2s\n%s", round, late, lastLines(r.stderr.String(), 15))
	}
	return queued, max
}

// The same with many distinct real-time signals and standard ones among
// them, from two senders for 3 s, in ten rounds: drainit exits within 2 s
// of the child every time. The child is bash with every signal of the mix
// blocked (a Go program cannot block 34, the runtime's own).
func TestChildExitDuringAFloodOfManyRealTimeSignals(t *testing.T) {
	const mix1, mix2 = "10,12,35,36,40,50,60,64", "34,37,45,55,63"
	for round := 0; round < 10; round++ {
		c := newCounter(t)
		script := `touch "$1"; sleep 1; printf %s "$(date +%s%3N)" > "$1.exit"; exit 42`
		r := start(t, opts{}, "-vvv", "--", testprog, "launch", mix1+","+mix2, "-", "bash", "-c", script, "bash", c.path)
		c.waitReady()
		peak := watchSigQ(r.pid)
		exitsSoonAfterTheChild(t, round, r, c, peak, floodLists(r, 3*time.Second, mix1, mix2))
	}
}

// fillQueue fills the kernel's signal queue for drainit's user with sig
// queued to drainit itself: drainit is stopped (from the parent namespace,
// SIGSTOP reaches a PID 1) while sends go in until SigQ is at its limit
// (kill(2) past the limit still sets the signal pending, without queueing
// it), then resumed. The queue is then as full as a flood faster than
// drainit leaves it, on a machine of any speed.
func fillQueue(t *testing.T, r *run, sig syscall.Signal) {
	t.Helper()
	if err := unix.Kill(r.pid, unix.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer unix.Kill(r.pid, unix.SIGCONT)
	waitFor(t, limit, "drainit to stop", func() bool { return procState(r.pid) == "T" })
	for i := 0; i < 1<<21; i++ {
		if err := unix.Kill(r.pid, sig); err != nil {
			t.Fatalf("queueing signal %d: %v", sig, err)
		}
		if i%1024 == 0 {
			if queued, max, ok := sigQ(r.pid); ok && queued >= max-1 {
				return
			}
		}
	}
	t.Fatal("two million signals sent and the queue is not full")
}

// flood sends each signal to drainit from a process of its own (testprog
// flood) for d, or until stopped.
func flood(r *run, d time.Duration, sigs ...syscall.Signal) (stop func()) {
	var lists []string
	for _, sig := range sigs {
		lists = append(lists, strconv.Itoa(int(sig)))
	}
	return floodLists(r, d, lists...)
}

// floodLists sends from a process of its own for each list (a comma list
// of signals, sent in turn).
func floodLists(r *run, d time.Duration, lists ...string) (stop func()) {
	var senders []*exec.Cmd
	for _, list := range lists {
		cmd := exec.Command(testprog, "flood", strconv.Itoa(r.pid), list, d.String())
		if err := cmd.Start(); err != nil {
			r.t.Fatal(err)
		}
		senders = append(senders, cmd)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			for _, cmd := range senders {
				cmd.Process.Kill()
				cmd.Wait()
			}
		})
	}
	r.t.Cleanup(stop)
	return stop
}

// watchSigQ samples the SigQ line of pid's status (the signals queued for
// its user, and the limit) until the returned function is called, which
// gives the peak.
func watchSigQ(pid int) (peak func() (queued, limit int)) {
	done := make(chan struct{})
	var mu sync.Mutex
	var top, max int
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
			q, m, ok := sigQ(pid)
			mu.Lock()
			if ok && q > top {
				top, max = q, m
			}
			mu.Unlock()
		}
	}()
	var once sync.Once
	return func() (int, int) {
		once.Do(func() { close(done) })
		mu.Lock()
		defer mu.Unlock()
		return top, max
	}
}

func sigQ(pid int) (queued, limit int, ok bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, found := strings.CutPrefix(line, "SigQ:"); found {
			q, l, _ := strings.Cut(strings.TrimSpace(rest), "/")
			queued, err1 := strconv.Atoi(q)
			limit, err2 := strconv.Atoi(l)
			return queued, limit, err1 == nil && err2 == nil
		}
	}
	return 0, 0, false
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

// With stderr stalled at -vvv the supervisor is stuck on a log write; a
// flood of a handled signal (HUP) then fills the intake pipe. What the
// handler could not record is counted and said once, with the count, once
// stderr drains: never lost in silence. A SIGTERM that finds the pipe full
// still stops the child: the signal is kept, if not each delivery.
func TestIntakePipeLossesAreCountedAndSaid(t *testing.T) {
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close(); wr.Close() })
	// The child ignores HUP: each forwarded one is discarded by the kernel.
	r := start(t, opts{setup: func(cmd *exec.Cmd) { cmd.Stderr = wr }}, "-vvv", "--", testprog, "launch", "-", "HUP", "sleep", "600")
	// Until the child has exec'd, drainit also holds both ends of the pipe
	// that reports an exec failure.
	waitFor(t, limit, "the child to exec sleep", func() bool {
		kids := childrenOf(r.pid)
		return len(kids) > 0 && strings.HasPrefix(readFile(t, fmt.Sprintf("/proc/%d/cmdline", kids[0])), "sleep\x00")
	})
	full := intakePipeFull(t, r, wr)
	// Each record is one delivery to drainit, and ~87,000 fill the pipe:
	// 3–9 s on a busy 2-core machine, and once over 30 s.
	stop := flood(r, 3*limit, unix.SIGHUP, unix.SIGHUP)
	waitFor(t, 3*limit, "the intake pipe to fill", full)
	more := time.Now() // past full, every delivery is one the handler cannot record
	waitFor(t, limit, "half a second more of the flood", func() bool { return time.Since(more) > 500*time.Millisecond })
	r.signal(unix.SIGTERM)
	waitFor(t, limit, "half a second more of the flood", func() bool { return time.Since(more) > time.Second })
	if !full() {
		t.Fatal("the intake pipe had room when SIGTERM came: the test proves nothing")
	}
	stop()
	var log syncBuffer
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := rd.Read(buf)
			if err != nil {
				return
			}
			log.Write(buf[:n])
		}
	}()
	waitFor(t, limit, "the losses to be said", func() bool { return strings.Contains(log.String(), "signals lost") })
	line := regexp.MustCompile(`signals lost: [^\n]* lost=(\d+) pipe_records=(\d+)`).FindStringSubmatch(log.String())
	if line == nil {
		t.Fatalf("no count in the line:\n%s", lastLines(log.String(), 5))
	}
	t.Logf("%s signals lost with a pipe of %s records", line[1], line[2])
	r.expectExit(128+int(unix.SIGTERM), limit)
}

// intakePipeFull finds drainit's intake pipe (a pipe it holds both ends
// of, not the one its stderr goes to) and returns whether it is full: its
// bytes, read with FIONREAD through /proc/PID/fd, fill 99% of it and have
// not grown for 300 ms of the flood (how much of each page 12-byte records
// can use depends on how the reads left it).
func intakePipeFull(t *testing.T, r *run, stderr *os.File) func() bool {
	t.Helper()
	var st unix.Stat_t
	unix.Fstat(int(stderr.Fd()), &st)
	skip := fmt.Sprintf("pipe:[%d]", st.Ino)
	dir := fmt.Sprintf("/proc/%d/fd", r.pid)
	entries, _ := os.ReadDir(dir)
	seen := map[string]string{}
	for _, e := range entries {
		link, _ := os.Readlink(dir + "/" + e.Name())
		if !strings.HasPrefix(link, "pipe:") || link == skip {
			continue
		}
		if _, twice := seen[link]; !twice {
			seen[link] = dir + "/" + e.Name()
			continue
		}
		f, err := os.OpenFile(seen[link], os.O_RDONLY|unix.O_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		size, _ := unix.FcntlInt(f.Fd(), unix.F_GETPIPE_SZ, 0)
		last, since := -1, time.Now()
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("the intake pipe held %d of %d bytes, unchanged for %v", last, size, time.Since(since))
			}
		})
		return func() bool {
			n, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCINQ) // FIONREAD
			if err != nil || n != last {
				last, since = n, time.Now()
				return false
			}
			return n >= size*99/100 && time.Since(since) > 300*time.Millisecond
		}
	}
	t.Fatalf("no intake pipe among drainit's descriptors %v", seen)
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
