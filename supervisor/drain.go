package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/internal/proc"
	"github.com/drainit/drainit/signals"
	"golang.org/x/sys/unix"
)

// App is what a drain may use of the app without touching its processes:
// Spawn starts a drain command in a process group of its own through the
// reaper (the channel gets its exit code; kill signals that group, and
// only while its leader is not yet reaped), Sockets says which sockets the
// app's processes hold, and TakeSockets duplicates some of them (to end an
// idle connection).
type App = interface {
	Spawn(argv []string) (kill func(syscall.Signal), exited <-chan int, err error)
	Sockets() proc.Owners
	TakeSockets(inodes map[uint32]bool) (map[uint32]*os.File, error)
}

// Drainer takes the instance out of traffic before the app is signalled. It
// must return soon after ctx ends.
type Drainer interface {
	Drain(ctx context.Context, app App)
}

// Cut is why a drain was cut short: one of the errors below (Is works on
// it), or nil when it was not.
type Cut error

var (
	errAppShare      = errors.New("the app's share of the grace period has begun")
	errSecondSignal  = errors.New("a second stop signal arrived")
	errChildExited   = errors.New("the child exited")
	errDrainFinished = errors.New("drain finished")

	// ErrChildExited cuts a drain the app's own exit ended: nothing was
	// lost, the app went on its own.
	ErrChildExited = errChildExited
)

// drainRun is the drain under way: the signal that started it, closed done
// when the steps return, and how to stop them.
type drainRun struct {
	signal syscall.Signal
	done   chan struct{}
	cancel context.CancelCauseFunc
}

// onStopSignal starts the drain on the first stop signal; a second one
// during the drain ends it, and one with no drain to run is forwarded.
func (s *supervisor) onStopSignal(sig syscall.Signal) {
	switch {
	case s.stop.phase == draining:
		s.event(logging.SecondStop, "signal", signals.Name(sig))
		s.report.Cut = errSecondSignal
		s.endDrain(errSecondSignal)
	case s.cfg.Drain == nil || s.stop.stopBegun() || s.exited:
		s.forwardReceived(sig)
	default:
		s.startDrain(sig)
	}
}

// beginStop is the one place a stop begins, on sig, with a drain or not:
// it plans the stop from now, hands the plan to the timeline, and asks for
// the pod's real deadline beside it.
func (s *supervisor) beginStop(sig syscall.Signal, withDrain bool) StopPlan {
	in := s.cfg.Stop
	in.HasSteps = in.HasSteps && withDrain
	plan := PlanStop(in, s.now())
	s.stop.beginStop(plan, withDrain)
	s.readDeadline(plan.Began)
	s.report.Signal = signals.Name(sig)
	return plan
}

// startDrain follows the stop plan: the steps run until the app's share of
// the grace period begins at the latest, then the signal is forwarded. The
// supervisor holds that deadline itself: a step that cannot be stopped (a
// command stuck in uninterruptible sleep) must not keep the signal from the
// app.
func (s *supervisor) startDrain(sig syscall.Signal) {
	s.stopStartHooks()
	plan := s.beginStop(sig, true)
	s.drain = drainRun{signal: sig}
	s.event(logging.DrainStarted, "signal", signals.Name(sig), "grace_period", plan.Grace, "grace_from", plan.GraceFrom,
		"forward_by", plan.StepsEnd, "kill_at", plan.KillFor(plan.StepsEnd))
	if plan.AppShare <= 0 {
		s.log.Warn(logging.DrainNoTime, "grace_period", plan.Grace, "stop_timeout", s.cfg.Stop.StopTimeout)
		s.report.Cut = errAppShare
		s.endDrain(errAppShare)
		return
	}
	// No deadline on the context: the supervisor cuts the steps itself
	// (cutSteps), where the app's share begins, which a deadline read from
	// the pod may move.
	ctx, cancel := context.WithCancelCause(context.Background())
	s.drain.cancel = cancel
	s.drain.done = make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		s.cfg.Drain.Drain(ctx, appView{s})
	}(s.drain.done)
}

// endDrain stops what is left of the drain and, unless the child is gone,
// forwards the stop signal.
func (s *supervisor) endDrain(cause error) {
	if s.drain.cancel != nil {
		s.drain.cancel(cause)
	}
	s.drain.done = nil
	s.stop.endDrain()
	if !s.exited {
		s.forwardReceived(s.drain.signal)
	}
}

// event logs a phase; in a stop with a drain it is part of the timeline,
// shown at the default verbosity with the time since the drain signal (a
// stop without one stays as quiet as tini).
func (s *supervisor) event(msg string, attrs ...any) {
	if !s.stop.withDrain {
		s.log.Info(msg, attrs...)
		return
	}
	attrs = append(attrs, "at", s.stop.since(s.now()))
	s.log.Log(context.Background(), logging.LevelNotice, msg, attrs...)
}

// appView is the drain's view of the app.
type appView struct{ s *supervisor }

func (a appView) Spawn(argv []string) (func(syscall.Signal), <-chan int, error) {
	return a.s.spawn(argv)
}

// Sockets reads the sockets every process below drainit holds open, and
// whether some of those processes are hidden from it.
func (a appView) Sockets() proc.Owners {
	pids := proc.Descendants(os.Getpid())
	owners := proc.SocketOwners(pids)
	owners.Unseen = owners.Unseen || proc.Hidden(os.Getpid(), pids)
	return owners
}

// spawn runs a drain command in its own process group (a signal forwarded to
// the app's group must not reach it), with drainit's stdout and stderr.
func (s *supervisor) spawn(argv []string) (func(syscall.Signal), <-chan int, error) {
	name := argv[0]
	if strings.Contains(name, "/") && !filepath.IsAbs(name) {
		name = filepath.Join(s.startDir, name)
	}
	path, err := lookPath(name)
	if err != nil {
		return nil, nil, err
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, nil, err
	}
	defer devnull.Close()
	attr := &syscall.ProcAttr{
		Env:   os.Environ(),
		Dir:   s.startDir,
		Files: []uintptr{devnull.Fd(), 1, 2},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}
	pid, done, err := s.reaper.start(path, argv, attr)
	if errors.Is(err, unix.EAGAIN) {
		return nil, nil, fmt.Errorf("cannot fork: %w (the pids limit reached?)", err)
	}
	if err != nil {
		return nil, nil, err
	}
	codes := make(chan int, 1)
	go func() { codes <- ExitCode(<-done) }()
	kill := func(sig syscall.Signal) { s.reaper.signalGroup(pid, sig) }
	return kill, codes, nil
}

// runStartHooks runs the drain's start-up work (the Nacos re-enable) beside
// the child; it never delays the child's start.
func (s *supervisor) runStartHooks() {
	if s.cfg.OnStart == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopStart = cancel
	go s.cfg.OnStart(ctx, appView{s})
}

func (s *supervisor) stopStartHooks() {
	if s.stopStart != nil {
		s.stopStart()
	}
}
