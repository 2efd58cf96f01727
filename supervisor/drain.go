package supervisor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/internal/proc"
	"github.com/drainit/drainit/signals"
)

// App is what a drain may use of the app without touching its processes:
// Spawn starts a drain command through the reaper (the channel gets its
// exit code), Sockets says which sockets the app's processes hold.
type App = interface {
	Spawn(argv []string) (pid int, exited <-chan int, err error)
	Sockets() proc.Owners
}

// Drainer takes the instance out of traffic before the app is signalled. It
// must return soon after ctx ends.
type Drainer interface {
	Drain(ctx context.Context, app App)
}

var (
	errAppShare     = errors.New("the app's share of the grace period has begun")
	errSecondSignal = errors.New("a second stop signal arrived")
	errChildExited  = errors.New("the child exited")
)

type drainState int

const (
	notDraining drainState = iota
	draining
	drained
)

type drain struct {
	state   drainState
	signal  syscall.Signal
	began   time.Time
	done    chan struct{}
	cancel  context.CancelCauseFunc
	overdue *time.Timer // the steps' deadline, held by the supervisor
}

// onStopSignal starts the drain on the first stop signal; a second one, or
// one that arrives with no drain configured, is forwarded at once.
func (s *supervisor) onStopSignal(sig syscall.Signal) {
	switch {
	case s.cfg.Drain == nil || s.drain.state == drained || s.exited:
		s.forwardReceived(sig)
	case s.drain.state == notDraining:
		s.startDrain(sig)
	default:
		s.event("second stop signal: skipping the rest of the drain", "signal", signals.Name(sig))
		s.endDrain(errSecondSignal)
	}
}

// startDrain follows the stop plan: the steps run until StepsBy at the
// latest, then the signal is forwarded; SIGKILL comes at KillAt. The
// supervisor holds the steps' deadline itself: a step that cannot be
// stopped (a command stuck in uninterruptible sleep) must not keep the
// signal from the app.
func (s *supervisor) startDrain(sig syscall.Signal) {
	s.stopStartHooks()
	plan := s.stopPlan()
	s.drain = drain{state: draining, signal: sig, began: time.Now(), done: make(chan struct{})}
	s.armKill(plan.KillAt)
	s.event("drain started", "signal", signals.Name(sig), "grace_period", plan.Grace, "steps_budget", plan.StepsBy, "kill_at", plan.KillAt)
	if plan.StepsBy <= 0 {
		s.log.Warn("no time left for drain steps: the stop timeout fills the grace period", "grace_period", plan.Grace, "stop_timeout", s.cfg.StopTimeout)
		s.endDrain(errAppShare)
		return
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	ctx, stopDeadline := context.WithDeadlineCause(ctx, s.drain.began.Add(plan.StepsBy), errAppShare)
	s.drain.cancel = cancel
	s.drain.overdue = time.NewTimer(plan.StepsBy + drainOverdue)
	go func(done chan struct{}) {
		defer close(done)
		defer stopDeadline()
		s.cfg.Drain.Drain(ctx, appView{s})
	}(s.drain.done)
}

// drainOverdue is how long past their deadline the steps may take to
// return before the signal is forwarded without them.
const drainOverdue = 500 * time.Millisecond

// stopPlan is the plan with room for any steps: each step ends at its own
// timeout first, and the drain as a whole ends when the app's share begins.
func (s *supervisor) stopPlan() StopPlan {
	return PlanStop(s.cfg.GracePeriod, s.cfg.StopTimeout, s.cfg.StopTimeoutGiven, s.cfg.GracePeriod)
}

func (s *supervisor) overdueC() <-chan time.Time {
	if s.drain.state != draining || s.drain.overdue == nil {
		return nil
	}
	return s.drain.overdue.C
}

func (s *supervisor) onDrainOverdue() {
	s.log.Warn("drain steps did not stop at their deadline; forwarding the signal without them",
		"at", time.Since(s.drain.began).Round(time.Millisecond))
	s.endDrain(errAppShare)
}

// endDrain stops what is left of the drain and, unless the child is gone,
// forwards the stop signal.
func (s *supervisor) endDrain(cause error) {
	if s.drain.cancel != nil {
		s.drain.cancel(cause)
	}
	s.drain.state, s.drain.done = drained, nil
	if s.drain.overdue != nil {
		s.drain.overdue.Stop()
	}
	if !s.exited {
		s.forwardReceived(s.drain.signal)
		s.event("stop signal forwarded", "signal", signals.Name(s.cfg.Rewrites.Apply(s.drain.signal)), "stop_timeout", s.cfg.StopTimeout)
	}
}

func (s *supervisor) onDrainDone() {
	s.endDrain(errors.New("drain finished"))
}

// event logs a phase; during a drain it is part of the timeline, shown at
// the default verbosity with the time since the drain signal.
func (s *supervisor) event(msg string, attrs ...any) {
	if s.drain.state == notDraining {
		s.log.Info(msg, attrs...)
		return
	}
	attrs = append(attrs, "at", time.Since(s.drain.began).Round(time.Millisecond))
	s.log.Log(context.Background(), logging.LevelNotice, msg, attrs...)
}

// appView is the drain's view of the app.
type appView struct{ s *supervisor }

func (a appView) Spawn(argv []string) (int, <-chan int, error) { return a.s.spawn(argv) }

// Sockets reads the sockets every process below drainit holds open.
func (a appView) Sockets() proc.Owners { return proc.SocketOwners(proc.Descendants(os.Getpid())) }

// spawn runs a drain command in its own process group (a signal forwarded to
// the app's group must not reach it), with drainit's stdout and stderr.
func (s *supervisor) spawn(argv []string) (int, <-chan int, error) {
	name := argv[0]
	if strings.Contains(name, "/") && !filepath.IsAbs(name) {
		name = filepath.Join(s.startDir, name)
	}
	path, err := lookPath(name)
	if err != nil {
		return 0, nil, err
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, nil, err
	}
	defer devnull.Close()
	attr := &syscall.ProcAttr{
		Env:   os.Environ(),
		Dir:   s.startDir,
		Files: []uintptr{devnull.Fd(), 1, 2},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}
	pid, done, err := s.reaper.start(path, argv, attr)
	if err != nil {
		return 0, nil, err
	}
	codes := make(chan int, 1)
	go func() { codes <- ExitCode(<-done) }()
	return pid, codes, nil
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
