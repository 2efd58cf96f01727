package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/internal/proc"
	"github.com/drainit/drainit/signals"
	"golang.org/x/sys/unix"
)

const limit = 30 * time.Second

// Every signal drainit can catch reaches the child, real-time ones included.
func TestForwardsEverySignal(t *testing.T) {
	log := newSigLog(t)
	r := start(t, opts{}, testprog, "sigecho", log.path)
	log.waitReady()
	for sig := syscall.Signal(1); sig <= signals.RTMax; sig++ {
		if !signals.Forwardable(sig) || sig == unix.SIGTERM || sig == unix.SIGTSTP || sig == unix.SIGTTIN || sig == unix.SIGTTOU {
			continue
		}
		r.signal(sig)
		log.waitFor(sig)
	}
	r.signal(unix.SIGTERM)
	r.expectExit(0, limit)
}

// Not PID 1, a Go program dies of 32 and 34 (no runtime handler, default
// action); drainit catches and forwards them.
func TestReservedSignalsWhenNotPID1(t *testing.T) {
	log := newSigLog(t)
	r := start(t, opts{plain: true}, testprog, "sigecho", log.path)
	log.waitReady()
	for _, sig := range []syscall.Signal{32, 34} {
		r.signal(sig)
		log.waitFor(sig)
	}
	r.signal(unix.SIGTERM)
	r.expectExit(0, limit)
}

// A bash script that neither execs nor traps: its child still gets SIGTERM
// because drainit signals the whole process group.
func TestGroupGetsSignalThroughBash(t *testing.T) {
	log := newSigLog(t)
	sh := script(t, testprog+" sigecho "+log.path+"\necho after")
	r := start(t, opts{}, sh)
	log.waitReady()
	r.signal(unix.SIGUSR1)
	log.waitFor(unix.SIGUSR1)
	r.expectExit(128+int(unix.SIGUSR1), limit)
}

// With -c only bash gets USR1; its child hears nothing until bash is gone and
// drainit stops the rest of the tree with SIGTERM.
func TestSingleChildSignalsOnlyTheChild(t *testing.T) {
	log := newSigLog(t)
	sh := script(t, testprog+" sigecho "+log.path)
	r := start(t, opts{}, "-c", sh)
	log.waitReady()
	r.signal(unix.SIGUSR1)
	log.waitFor(unix.SIGTERM)
	r.expectExit(128+int(unix.SIGUSR1), limit)
	if log.has(unix.SIGUSR1) {
		t.Error("the grandchild got USR1 in single-child mode")
	}
}

func TestRewrites(t *testing.T) {
	for _, o := range []struct {
		name string
		env  []string
		args []string
	}{
		{"flags", nil, []string{"-r", "USR1:USR2", "--rewrite=HUP:0"}},
		{"env", []string{"DRAINIT_REWRITE=SIGUSR1:12,1:0"}, nil},
	} {
		t.Run(o.name, func(t *testing.T) {
			log := newSigLog(t)
			r := start(t, opts{env: o.env}, append(o.args, testprog, "sigecho", log.path)...)
			log.waitReady()
			r.signal(unix.SIGHUP)
			r.signal(unix.SIGUSR1)
			log.waitFor(unix.SIGUSR2)
			r.signal(unix.SIGTERM)
			r.expectExit(0, limit)
			if log.has(unix.SIGHUP) || log.has(unix.SIGUSR1) {
				t.Errorf("rewritten or dropped signal reached the child: %q", log.lines())
			}
		})
	}
}

// A child that ignores SIGTERM is killed when the stop timeout runs out.
func TestStopTimeoutKillsTheTree(t *testing.T) {
	dir := t.TempDir()
	r := start(t, opts{env: []string{"DRAINIT_STOP_TIMEOUT=1s"}}, testprog, "ignoreterm", dir)
	waitFor(t, limit, "child ready", func() bool { return exists(dir + "/ready") })
	r.signal(unix.SIGTERM)
	r.expectExit(137, limit)
	if !strings.Contains(r.stderr.String(), logging.TreeKilled) {
		t.Errorf("no warning about the kill: %s", r.stderr.String())
	}
}

// When the child exits, drainit stops the rest of the tree and waits for it:
// a grandchild with a slow graceful shutdown finishes it.
func TestWaitsForTheTreeAfterTheChildExits(t *testing.T) {
	dir := t.TempDir()
	sh := script(t, testprog+" slowterm "+dir+" 700ms &\nuntil [ -e "+dir+"/ready ]; do sleep 0.02; done\nexit 5")
	r := start(t, opts{}, sh)
	r.expectExit(5, limit)
	if !exists(dir + "/done") {
		t.Error("drainit exited before the grandchild finished its shutdown")
	}
}

// A leftover that ignores SIGTERM is killed after the stop timeout and the
// child's status is kept.
func TestKillsLeftoversAfterTheChildExits(t *testing.T) {
	dir := t.TempDir()
	sh := script(t, testprog+" ignoreterm "+dir+" &\nuntil [ -e "+dir+"/ready ]; do sleep 0.02; done\nexit 6")
	r := start(t, opts{env: []string{"DRAINIT_STOP_TIMEOUT=1s"}}, sh)
	waitFor(t, limit, "the leftover to start", func() bool { return exists(dir + "/ready") })
	leftover, _ := strconv.Atoi(readFile(t, dir+"/ready"))
	r.expectExit(6, limit)
	exited := time.Now()
	// Its pid was in drainit's namespace; gone from there once drainit is.
	term := termTime(t, dir)
	if waited := exited.Sub(term); waited < time.Second-10*time.Millisecond {
		t.Errorf("drainit exited %v after the leftover's SIGTERM, want the 1s stop timeout first", waited)
	}
	if !strings.Contains(r.stderr.String(), logging.TreeKilled) {
		t.Errorf("the leftover (pid %d in the namespace) was not killed by drainit:\n%s", leftover, r.stderr.String())
	}
}

// Not PID 1: drainit is a subreaper, so the orphan of its child comes back to
// it, and it still waits for it.
func TestSubreaperWaitsForOrphans(t *testing.T) {
	dir := t.TempDir()
	sh := script(t, "( "+testprog+" slowterm "+dir+" 300ms & )\nuntil [ -e "+dir+"/ready ]; do sleep 0.02; done\nexit 3")
	r := start(t, opts{plain: true}, sh)
	r.expectExit(3, limit)
	if !exists(dir + "/done") {
		t.Error("drainit exited before the orphan finished")
	}
}

// Thousands of orphans exiting while the child exits: the child's status is
// never lost to the reaper.
func TestZombieFloodKeepsTheStatus(t *testing.T) {
	for i := 0; i < 5; i++ {
		r := start(t, opts{}, testprog, "orphans", "1000", "7")
		r.expectExit(7, limit)
	}
}

// After a flood of orphans no zombie is left in the namespace.
func TestZombieFloodLeavesNoZombie(t *testing.T) {
	sh := script(t, testprog+" orphans 3000 0\n"+testprog+" zombies 20s")
	r := start(t, opts{}, sh)
	r.expectExit(0, limit)
	if !strings.Contains(r.stdout.String(), "no zombies") {
		t.Errorf("stdout: %s", r.stdout.String())
	}
}

// The child starts with the signal mask and ignored signals drainit
// inherited, as exec would leave them, and nothing of drainit's own (default
// handlers for the rest); and with drainit's environment, directory and
// stdio untouched.
func TestChildStartState(t *testing.T) {
	dir := t.TempDir()
	launcher := []string{testprog, "launch", "USR1,TERM,RTMIN+2", "HUP,USR2,SEGV"}
	for _, o := range []opts{{via: launcher}, {via: launcher, plain: true}} {
		// cat itself, not a shell (dash clears the mask it was given) nor
		// grep (it catches SIGSEGV).
		r := start(t, o, "--", "cat", "/proc/self/status")
		r.expectExit(0, limit)
		status := r.stdout.String()
		// USR1 (10), TERM (15) and RTMIN+2 (36) blocked; HUP (1), SEGV (11,
		// the runtime's own: through the launcher) and USR2 (12) ignored.
		for _, field := range []string{"SigBlk:\t0000000800004200", "SigIgn:\t0000000000000c01"} {
			if !strings.Contains(status, field) {
				t.Errorf("plain=%v: child status lacks %q:\n%s", o.plain, field, status)
			}
		}
	}

	envOut := filepath.Join(dir, "env")
	r := start(t, opts{plain: true, env: []string{"DRAINIT_TEST_VALUE=a b=c"}, setup: func(c *exec.Cmd) { c.Dir = dir }},
		"--", "sh", "-c", "echo \"$DRAINIT_TEST_VALUE\" > env; /bin/pwd >> env; exec readlink /proc/self/fd/1 /proc/$PPID/fd/1")
	r.expectExit(0, limit)
	got := strings.Split(strings.TrimSpace(readFile(t, envOut)), "\n")
	if len(got) != 2 || got[0] != "a b=c" || got[1] != dir {
		t.Errorf("child saw env and dir %q", got)
	}
	// The child writes to drainit's own stdout, not to a pipe of drainit's.
	links := strings.Fields(r.stdout.String())
	if len(links) != 2 || links[0] != links[1] {
		t.Errorf("child stdout and drainit stdout differ: %q", links)
	}
}

// Once the child runs, drainit holds no reference to the directory it was
// started in, as dumb-init does; the child and the drain's commands keep it.
func TestMovesToRootOnceTheChildRuns(t *testing.T) {
	dir := t.TempDir()
	r := start(t, opts{env: []string{"DRAINIT_PRESTOP=exec sh -c 'pwd > drain-dir'"}, setup: func(c *exec.Cmd) { c.Dir = dir }},
		"--", "sh", "-c", "touch ready; while :; do sleep 0.05; done")
	waitFor(t, limit, "the child to start", func() bool { return exists(dir + "/ready") })
	child := childrenOf(r.pid)[0]
	if got, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", r.pid)); got != "/" {
		t.Errorf("drainit's directory is %q, want /", got)
	}
	if got, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", child)); got != dir {
		t.Errorf("the child's directory is %q, want %q", got, dir)
	}
	r.signal(unix.SIGTERM)
	r.expectExit(143, limit)
	if got := strings.TrimSpace(readFile(t, dir+"/drain-dir")); got != dir {
		t.Errorf("the drain's command ran in %q, want %q", got, dir)
	}
}

// Invoked as tini or dumb-init, drainit does not SIGKILL a child that takes
// longer than the stop timeout to act on a forwarded SIGTERM.
func TestPersonalitiesNeverKillAfterAForwardedStop(t *testing.T) {
	for _, name := range []string{"tini", "dumb-init"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			r := start(t, opts{name: name, env: []string{"DRAINIT_STOP_TIMEOUT=500ms"}}, testprog, "slowterm", dir, "1500ms")
			waitFor(t, limit, "the app to start", func() bool { return exists(dir + "/ready") })
			r.signal(unix.SIGTERM)
			r.expectExit(0, limit)
			if !exists(dir + "/done") {
				t.Error("the app was killed before it finished its shutdown")
			}
		})
	}
}

// drainit's own writes to a stderr whose reader has gone raise SIGPIPE in
// drainit: that is neither forwarded to the app nor logged (a log line
// would raise another), so drainit does not spin; a SIGPIPE that another
// process sends is forwarded.
func TestBrokenStderrDoesNotSpin(t *testing.T) {
	log := newSigLog(t)
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	rd.Close()
	t.Cleanup(func() { wr.Close() })
	r := start(t, opts{setup: func(c *exec.Cmd) { c.Stderr = wr }}, "-vvv", "--", testprog, "sigecho", log.path)
	log.waitReady()
	const sends = 50
	for i := 0; i < sends; i++ {
		r.signal(unix.SIGUSR1)            // each is logged at -vvv, into the broken pipe
		time.Sleep(20 * time.Millisecond) // paces the sender; waits on nothing
	}
	r.signal(unix.SIGUSR2)
	log.waitFor(unix.SIGUSR2)
	if log.has(unix.SIGPIPE) {
		t.Error("drainit forwarded its own SIGPIPE to the app")
	}
	st, _ := proc.ReadStat(r.pid)
	if st.CPU > 30 { // clock ticks of 10 ms: a spin takes about all of the second
		t.Errorf("drainit used %d ticks of CPU in about %v of signals", st.CPU, sends*20*time.Millisecond)
	}
	r.signal(unix.SIGPIPE)
	log.waitFor(unix.SIGPIPE)
	r.signal(unix.SIGTERM)
	r.expectExit(0, limit)
}

// A plain go build has no drainit entry point, and says so.
func TestVersionSaysWhichBuild(t *testing.T) {
	plain := filepath.Join(t.TempDir(), "drainit-plain")
	build := exec.Command("go", "build", "-o", plain, "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for bin, want := range map[string]string{drainit: "with drainit's entry point", plain: "a plain go build, without drainit's entry point"} {
		out, err := exec.Command(bin, "--version").Output()
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("%s --version: %q, %v; want %q", filepath.Base(bin), out, err, want)
		}
	}
}
