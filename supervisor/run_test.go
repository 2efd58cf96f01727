package supervisor

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// These tests run the supervisor in the test process, unprivileged, with
// real short children and signals fed into its channel. The test process is
// a subreaper so that orphaned grandchildren come back to it as they would
// to drainit.
func TestMain(m *testing.M) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

const bound = 20 * time.Second

// slack is what a busy machine may add to a deadline before a test calls
// it missed: a kill or a cut that late is a bug, not load.
const slack = 2 * time.Second

// sup is one supervisor.Run under test.
type sup struct {
	t    *testing.T
	sigs chan os.Signal
	dir  string
	code chan int
}

// child is a shell script that logs the signals it traps to $DIR/log, one
// name a line, and touches $DIR/ready once its traps are set.
func startSup(t *testing.T, cfg Config, script string) *sup {
	t.Helper()
	s := &sup{t: t, sigs: make(chan os.Signal, 64), dir: t.TempDir(), code: make(chan int, 1)}
	cfg.Argv = []string{"sh", "-c", "cd " + s.dir + "\n" + script}
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() {
		code, err := Run(cfg, s.sigs)
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		s.code <- code
	}()
	t.Cleanup(func() {
		select {
		case <-s.code:
		case <-time.After(bound):
			t.Errorf("Run still running at the end of the test")
		}
	})
	return s
}

func (s *sup) send(sig syscall.Signal) { s.sigs <- sig }

func (s *sup) exitCode() int {
	s.t.Helper()
	select {
	case code := <-s.code:
		s.code <- code // for the cleanup
		return code
	case <-time.After(bound):
		s.t.Fatalf("Run did not return within %v", bound)
		return -1
	}
}

func (s *sup) waitFile(name string) {
	s.t.Helper()
	deadline := time.Now().Add(bound)
	for !fileExists(filepath.Join(s.dir, name)) {
		if time.Now().After(deadline) {
			s.t.Fatalf("no %s after %v", name, bound)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *sup) log() string {
	data, _ := os.ReadFile(filepath.Join(s.dir, "log"))
	return strings.Join(strings.Fields(string(data)), " ")
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// traps logs TERM and USR1; TERM exits 143, USR2 exits 9. The loop's sleep
// is in the same process group and dies of forwarded signals, which lets
// the shell run its trap at once.
const traps = `trap 'echo TERM >> log; exit 143' TERM
trap 'echo USR1 >> log' USR1
trap 'echo USR2 >> log; exit 9' USR2
touch ready
while [ ! -e go ]; do sleep 0.05; done
exit 5`

// stubDrain stands in for the drain steps: it runs until released or until
// the supervisor cancels it, and records why it ended.
type stubDrain struct {
	started chan struct{}
	release chan struct{}
	cause   chan error
}

func newStubDrain() *stubDrain {
	return &stubDrain{started: make(chan struct{}), release: make(chan struct{}), cause: make(chan error, 1)}
}

func (d *stubDrain) Drain(ctx context.Context, _ App) {
	close(d.started)
	select {
	case <-ctx.Done():
		d.cause <- context.Cause(ctx)
	case <-d.release:
		d.cause <- nil
	}
}

func (d *stubDrain) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-d.started:
	case <-time.After(bound):
		t.Fatal("the drain never started")
	}
}

func (d *stubDrain) endedBy(t *testing.T) error {
	t.Helper()
	select {
	case err := <-d.cause:
		return err
	case <-time.After(bound):
		t.Fatal("the drain never ended")
		return nil
	}
}

func drainConfig(d Drainer) Config {
	cfg := DefaultConfig()
	cfg.Drain = d
	cfg.Stop = StopInputs{Grace: time.Minute, StopTimeout: 5 * time.Second, HasSteps: true, StepsOpen: true}
	return cfg
}

func TestRunReturnsTheChildsCode(t *testing.T) {
	s := startSup(t, DefaultConfig(), "exit 3")
	if code := s.exitCode(); code != 3 {
		t.Errorf("code %d, want 3", code)
	}
}

func TestRunReportsASignalDeathAs128PlusN(t *testing.T) {
	s := startSup(t, DefaultConfig(), "kill -USR2 $$")
	if code := s.exitCode(); code != 128+int(unix.SIGUSR2) {
		t.Errorf("code %d, want %d", code, 128+int(unix.SIGUSR2))
	}
}

func TestRunForwardsASignal(t *testing.T) {
	s := startSup(t, DefaultConfig(), traps)
	s.waitFile("ready")
	s.send(unix.SIGUSR2)
	if code := s.exitCode(); code != 9 {
		t.Errorf("code %d, want 9 (the child's USR2 trap)", code)
	}
}

func TestRunAppliesRewrites(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Rewrites = map[syscall.Signal]syscall.Signal{unix.SIGUSR1: 0, unix.SIGHUP: unix.SIGUSR2}
	s := startSup(t, cfg, traps)
	s.waitFile("ready")
	s.send(unix.SIGUSR1)
	s.send(unix.SIGHUP)
	if code := s.exitCode(); code != 9 {
		t.Errorf("code %d, want 9 (HUP rewritten to USR2)", code)
	}
	if got := s.log(); got != "USR2" {
		t.Errorf("child saw %q, want only USR2 (USR1 dropped)", got)
	}
}

// The stop signal waits for the drain: a signal sent after it is forwarded
// first, and the stop signal only once the drain ends.
func TestDrainHoldsTheStopSignalUntilItEnds(t *testing.T) {
	d := newStubDrain()
	s := startSup(t, drainConfig(d), traps)
	s.waitFile("ready")
	s.send(unix.SIGTERM)
	d.waitStarted(t)
	s.send(unix.SIGUSR1)
	waitFor(t, func() bool { return s.log() == "USR1" }, "the child to log USR1 before any TERM")
	close(d.release)
	if err := d.endedBy(t); err != nil {
		t.Errorf("drain ended by %v, want its own return", err)
	}
	if code := s.exitCode(); code != 143 {
		t.Errorf("code %d, want 143", code)
	}
	if got := s.log(); got != "USR1 TERM" {
		t.Errorf("child saw %q, want USR1 then TERM", got)
	}
}

func TestSecondStopSignalEndsTheDrain(t *testing.T) {
	d := newStubDrain()
	s := startSup(t, drainConfig(d), traps)
	s.waitFile("ready")
	s.send(unix.SIGTERM)
	d.waitStarted(t)
	s.send(unix.SIGTERM)
	if err := d.endedBy(t); !errors.Is(err, errSecondSignal) {
		t.Errorf("drain ended by %v, want %v", err, errSecondSignal)
	}
	if code := s.exitCode(); code != 143 {
		t.Errorf("code %d, want 143", code)
	}
}

func TestChildExitingMidDrainEndsIt(t *testing.T) {
	d := newStubDrain()
	s := startSup(t, drainConfig(d), traps)
	s.waitFile("ready")
	s.send(unix.SIGTERM)
	d.waitStarted(t)
	os.WriteFile(filepath.Join(s.dir, "go"), nil, 0o644)
	if err := d.endedBy(t); !errors.Is(err, errChildExited) {
		t.Errorf("drain ended by %v, want %v", err, errChildExited)
	}
	if code := s.exitCode(); code != 5 {
		t.Errorf("code %d, want the child's own 5", code)
	}
	if got := s.log(); got != "" {
		t.Errorf("child saw %q, want no signal", got)
	}
}

// A stop timeout that fills the grace period leaves the steps nothing: the
// drain is skipped and the signal forwarded at once.
func TestZeroStepsBudgetSkipsTheDrain(t *testing.T) {
	d := newStubDrain()
	cfg := drainConfig(d)
	cfg.Stop.Grace, cfg.Stop.StopTimeout = 5*time.Second, 5*time.Second
	s := startSup(t, cfg, traps)
	s.waitFile("ready")
	s.send(unix.SIGTERM)
	if code := s.exitCode(); code != 143 {
		t.Errorf("code %d, want 143", code)
	}
	select {
	case <-d.started:
		t.Error("the drain ran with no time left for it")
	default:
	}
}

// The steps get what the grace period leaves after the kill margin and the
// stop timeout; then the supervisor cancels them and forwards.
func TestDrainIsCutAtItsBudget(t *testing.T) {
	d := newStubDrain()
	cfg := drainConfig(d)
	cfg.Stop.Grace, cfg.Stop.StopTimeout = 2*time.Second, time.Second // kill at 1.6s, steps until 0.6s
	s := startSup(t, cfg, traps)
	s.waitFile("ready")
	sent := time.Now()
	s.send(unix.SIGTERM)
	if err := d.endedBy(t); !errors.Is(err, errAppShare) {
		t.Errorf("drain ended by %v, want %v", err, errAppShare)
	}
	if took := time.Since(sent); took < 600*time.Millisecond || took > 600*time.Millisecond+slack {
		t.Errorf("drain cut after %v, want its 600ms budget (and at most %v more)", took, slack)
	}
	if code := s.exitCode(); code != 143 {
		t.Errorf("code %d, want 143", code)
	}
}

func TestStopTimeoutKillsAChildThatIgnoresTERM(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Stop.StopTimeout, cfg.Stop.StopTimeoutGiven = 300*time.Millisecond, true
	s := startSup(t, cfg, "trap '' TERM\ntouch ready\nwhile :; do sleep 0.05; done")
	s.waitFile("ready")
	sent := time.Now()
	s.send(unix.SIGTERM)
	if code := s.exitCode(); code != 137 {
		t.Errorf("code %d, want 137", code)
	}
	if took := time.Since(sent); took < 300*time.Millisecond || took > 300*time.Millisecond+slack {
		t.Errorf("killed after %v, want the 300ms stop timeout (and at most %v more)", took, slack)
	}
}

// Once the child exits, the rest of the tree gets SIGTERM and is waited for.
func TestTreeIsWaitedForAfterTheChildExits(t *testing.T) {
	grandchild := `( trap 'sleep 0.3; touch done; exit 0' TERM; touch ready; while :; do sleep 0.05; done ) &
while [ ! -e ready ]; do sleep 0.01; done
exit 4`
	s := startSup(t, DefaultConfig(), grandchild)
	if code := s.exitCode(); code != 4 {
		t.Errorf("code %d, want 4", code)
	}
	if !fileExists(filepath.Join(s.dir, "done")) {
		t.Error("Run returned before the grandchild finished its shutdown")
	}
}

func TestStartHooksAreCancelledWhenTheDrainStarts(t *testing.T) {
	d := newStubDrain()
	cfg := drainConfig(d)
	startCtx := make(chan context.Context, 1)
	cfg.OnStart = func(ctx context.Context, _ App) { startCtx <- ctx }
	s := startSup(t, cfg, traps)
	s.waitFile("ready")
	ctx := <-startCtx
	if ctx.Err() != nil {
		t.Fatal("start hooks cancelled before any signal")
	}
	s.send(unix.SIGTERM)
	d.waitStarted(t)
	if ctx.Err() == nil {
		t.Error("start hooks still running once the drain started")
	}
	close(d.release)
	s.exitCode()
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// With no stop timeout set, a forwarded stop signal is followed by SIGKILL
// only shortly before the grace period ends: the app gets all the time the
// kubelet would give it, not the default stop timeout.
func TestWithoutAStopTimeoutTheKillWaitsForTheGraceEnd(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Stop.StopTimeout = 200 * time.Millisecond // the tree wait's bound, not the app's
	cfg.Stop.Grace = 2 * time.Second              // kill at 1.6s
	s := startSup(t, cfg, "trap '' TERM\ntouch ready\nwhile :; do sleep 0.05; done")
	s.waitFile("ready")
	sent := time.Now()
	s.send(unix.SIGTERM)
	if code := s.exitCode(); code != 137 {
		t.Errorf("code %d, want 137", code)
	}
	if took := time.Since(sent); took < 1600*time.Millisecond || took > 1600*time.Millisecond+slack {
		t.Errorf("killed after %v, want the grace period's end less its margin, 1.6s (and at most %v more)", took, slack)
	}
}

// stuckDrain never returns, whatever its context says: a step stuck where
// no signal reaches it.
type stuckDrain struct{ block chan struct{} }

func (d stuckDrain) Drain(context.Context, App) { <-d.block }

// The supervisor holds the steps' deadline itself: a drain that does not
// return still lets the stop signal through, soon after its budget.
func TestAStuckDrainDoesNotKeepTheSignalFromTheApp(t *testing.T) {
	d := stuckDrain{block: make(chan struct{})}
	t.Cleanup(func() { close(d.block) })
	cfg := DefaultConfig()
	cfg.Drain = d
	cfg.Stop = StopInputs{Grace: 3 * time.Second, StopTimeout: time.Second, HasSteps: true, StepsOpen: true} // kill at 2.4s, steps until 1.4s
	s := startSup(t, cfg, "trap 'exit 7' TERM\ntouch ready\nwhile :; do sleep 0.05; done")
	s.waitFile("ready")
	s.send(unix.SIGTERM)
	if code := s.exitCode(); code != 7 {
		t.Errorf("code %d, want 7: the app's own exit on SIGTERM, not a kill", code)
	}
}
