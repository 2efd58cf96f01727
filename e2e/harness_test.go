// Package e2e runs the real drainit binary as PID 1 of a real PID namespace
// (unshare, as root) and as a subreaper, with real children.
//
// Two kinds of test: those that read or load what the machine shares run
// alone, one after another (the storms fill root's signal queue, the
// zombie floods and the timing checks want the CPU); those that only wait
// on servers and processes of their own call t.Parallel and run together
// after them (go test -parallel, see the Makefile). The quiet tests are of
// the second kind because each runs in a network namespace of its own,
// whose counters no other test moves.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/drainit/drainit/internal/testsupport/pidns"
	"github.com/drainit/drainit/internal/testsupport/testkit"
	"golang.org/x/sys/unix"
)

var (
	binDir   string // drainit, its tini and dumb-init symlinks, testprog
	drainit  string
	testprog string
)

func TestMain(m *testing.M) {
	resetInheritedSignals()
	dir, err := os.MkdirTemp("", "drainit-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := buildAndRun(m, dir)
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildAndRun(m *testing.M, dir string) int {
	binDir = dir
	drainit = filepath.Join(dir, "drainit")
	testprog = filepath.Join(dir, "testprog")
	builds := [][]string{
		{"go", "build", "-trimpath", "-ldflags=-E github.com/drainit/drainit/signals.entry", "-o", drainit, ".."},
		{"go", "build", "-o", testprog, "../internal/testsupport/testprog"},
	}
	// DRAINIT_E2E_BINARY runs the suite against another build of drainit:
	// an older one, or one for another architecture under qemu-user.
	if bin := os.Getenv("DRAINIT_E2E_BINARY"); bin != "" {
		builds[0] = []string{"cp", bin, drainit}
	}
	for _, b := range builds {
		cmd := exec.Command(b[0], b[1:]...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "%v: %v\n%s", b, err, out)
			return 1
		}
	}
	for _, name := range []string{"tini", "dumb-init"} {
		if err := os.Symlink("drainit", filepath.Join(dir, name)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}

// resetInheritedSignals gives the signals the suite sends their default
// handlers back in the test process, and so in every drainit it starts.
// GNU make leaves 32 and 33 ignored for what it runs, nohup HUP, a shell's
// background job INT and QUIT; drainit passes an ignored signal on as
// ignored (as exec would), and the Go runtime leaves a signal it found
// ignored so; a container runtime starts PID 1 with the defaults tested
// here.
func resetInheritedSignals() {
	var dfl [4]uint64                 // struct sigaction: SIG_DFL, no flags, no restorer, no mask
	reset := []syscall.Signal{32, 34} // the runtime never handles these two
	for _, sig := range []syscall.Signal{unix.SIGHUP, unix.SIGINT, unix.SIGQUIT} {
		if signal.Ignored(sig) { // else the runtime's handler, which exec resets
			reset = append(reset, sig)
		}
	}
	for _, sig := range reset {
		unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	}
}

// run is one drainit process under test.
type run struct {
	t      *testing.T
	p      *pidns.Proc
	pid    int // drainit's pid as seen from the test
	stdout syncBuffer
	stderr syncBuffer
}

type opts struct {
	env   []string // added to the test's environment
	name  string   // drainit (default), tini or dumb-init
	plain bool     // run as a subreaper, not as PID 1 of a new namespace
	via   []string // a launcher that execs drainit, e.g. testprog launch
	netns *netns   // a network namespace to start in; nil: the machine's
	setup func(*exec.Cmd)
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare --pid")
	}
}

// start runs drainit with args; it is killed, with everything below it, when
// the test ends.
func start(t *testing.T, o opts, args ...string) *run {
	t.Helper()
	if o.name == "" {
		o.name = "drainit"
	}
	argv := append(append(slices.Clone(o.via), filepath.Join(binDir, o.name)), args...)
	var cmd *exec.Cmd
	if o.plain {
		cmd = exec.Command(argv[0], argv[1:]...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	} else {
		needRoot(t)
		cmd = pidns.Command(argv...)
	}
	o.netns.enter(t, cmd)
	r := &run{t: t}
	cmd.Env = append(os.Environ(), o.env...)
	cmd.Stdout, cmd.Stderr = &r.stdout, &r.stderr
	cmd.WaitDelay = 5 * time.Second // a leaked grandchild must not hold Wait on the pipes
	if o.setup != nil {
		o.setup(cmd)
	}
	var err error
	if o.plain {
		r.p, err = pidns.StartHere(cmd)
	} else {
		r.p, err = pidns.Start(cmd, 10*time.Second)
	}
	if err != nil {
		t.Fatal(err)
	}
	r.pid = r.p.PID1
	t.Cleanup(r.kill)
	return r
}

func (r *run) exited() bool { return r.p.Done() }

// kill ends drainit and everything it started. In a namespace, SIGKILL to
// its init takes the whole namespace; outside, the tree is killed by pid.
func (r *run) kill() {
	if r.exited() {
		return
	}
	if r.pid > 0 {
		for _, pid := range descendants(r.pid) {
			unix.Kill(pid, unix.SIGKILL)
		}
	}
	r.p.Kill()
}

func (r *run) signal(sig syscall.Signal) {
	r.t.Helper()
	if err := r.p.Signal(sig); err != nil {
		r.t.Fatalf("kill %d %v: %v", r.pid, sig, err)
	}
}

// exitCode waits up to limit for drainit to exit.
func (r *run) exitCode(limit time.Duration) int {
	r.t.Helper()
	select {
	case <-r.p.Exited:
		return r.p.ExitCode()
	case <-time.After(limit):
		r.t.Fatalf("drainit still running after %v\nstderr:\n%s", limit, r.stderr.String())
		return -1
	}
}

// expectExit fails unless drainit exits with want within limit.
func (r *run) expectExit(want int, limit time.Duration) {
	r.t.Helper()
	if got := r.exitCode(limit); got != want {
		r.t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", got, want, r.stdout.String(), r.stderr.String())
	}
}

// waitFor polls cond until it holds or limit passes.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	testkit.Poll(t, limit, 20*time.Millisecond, what, cond)
}

func childrenOf(pid int) []int { return pidns.Children(pid) }

func descendants(pid int) []int {
	var out []int
	for _, c := range childrenOf(pid) {
		out = append(out, c)
		out = append(out, descendants(c)...)
	}
	return out
}

// procState returns the state letter of pid (R, S, T, Z...), or "" if gone.
func procState(pid int) string {
	if st := pidns.State(pid); st != 0 {
		return string(st)
	}
	return ""
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, _ := os.ReadFile(path)
	return string(data)
}

// script writes an executable bash script into a temp dir.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "script.sh")
	if err := os.WriteFile(path, []byte("#!/bin/bash\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// sigLog is the file a "testprog sigecho" child appends to.
type sigLog struct {
	t    *testing.T
	path string
}

func newSigLog(t *testing.T) sigLog {
	return sigLog{t: t, path: filepath.Join(t.TempDir(), "signals.log")}
}

func (l sigLog) lines() []string {
	return strings.Split(strings.TrimSpace(readFile(l.t, l.path)), "\n")
}

func (l sigLog) waitReady() string {
	l.t.Helper()
	waitFor(l.t, 10*time.Second, "sigecho to start", func() bool {
		return strings.HasPrefix(readFile(l.t, l.path), "ready")
	})
	return l.lines()[0]
}

func (l sigLog) has(sig syscall.Signal) bool {
	for _, line := range l.lines()[1:] {
		if line == strconv.Itoa(int(sig)) {
			return true
		}
	}
	return false
}

func (l sigLog) waitFor(sig syscall.Signal) {
	l.t.Helper()
	waitFor(l.t, 10*time.Second, fmt.Sprintf("the child to get signal %d", sig), func() bool { return l.has(sig) })
}

// syncBuffer lets a test read drainit's output while it is still running.
type syncBuffer struct{ testkit.SyncBuffer }

func (b *syncBuffer) Len() int { return len(b.String()) }
