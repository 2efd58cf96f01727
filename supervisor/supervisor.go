// Package supervisor owns the processes: it spawns the child, reaps every
// zombie, forwards signals, waits for the whole process tree to exit and
// SIGKILLs what outlives the stop timeout. It knows nothing of HTTP or
// registries; a drain arrives as a plain function.
package supervisor

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/signals"
	"golang.org/x/sys/unix"
)

// Config says how to run the child. Start from DefaultConfig: some zero
// values are not safe (with a Drain, a zero grace period means SIGKILL as
// soon as the drain signal arrives).
type Config struct {
	Argv []string // command and arguments; Argv[0] is looked up on PATH

	Session     bool // start the child in a new session (setsid)
	OwnGroup    bool // without Session: start it in a new process group
	SignalGroup bool // forward to the child's whole process group

	Rewrites    signals.Rewrites
	StopSignals []syscall.Signal // signals that start the drain, or the stop
	// Stop plans each stop (PlanStop): the grace period, the stop timeout,
	// the steps' budget. Without StopTimeoutGiven a forwarded stop signal
	// is followed by SIGKILL only at the grace period's end (less a
	// margin), and StopTimeout bounds the tree wait and reserves the app's
	// share of the grace period.
	Stop StopInputs
	// NoStopKill leaves a child that was forwarded a stop signal to take as
	// long as it likes, as tini and dumb-init do; the tree wait after the
	// child exits is still bounded by the stop timeout.
	NoStopKill bool
	WarnOnReap bool
	// ChildSigmask is the signal mask every child starts with: the one
	// drainit inherited, as exec would leave it (see signals.Inherited).
	ChildSigmask unix.Sigset_t

	// Drain, when set, runs on the first stop signal before it is forwarded,
	// within the grace period (measured from that signal).
	Drain   Drainer
	OnStart func(ctx context.Context, app App) // beside the child; cancelled when the drain starts
	// Deadline, when set, reads the real deadline when a stop begins (the
	// pod's, from the Kubernetes API), beside the stop: it never delays the
	// drain or the signal, and must return when its context ends
	// (deadlineRead). Its answer replans the stop (see onDeadlineRead).
	Deadline func(ctx context.Context, began time.Time) (at time.Time, from string, err error)
	// Report, when set, is told how the stop went before drainit exits,
	// within what is left of the grace period (at most reportTime).
	Report func(ctx context.Context, r StopReport)

	Log *slog.Logger
}

// DefaultConfig is drainit's own behaviour: a new session, signals to the
// whole group, SIGTERM as the stop signal, 10 s to stop within 30 s.
func DefaultConfig() Config {
	return Config{
		Session:     true,
		SignalGroup: true,
		Rewrites:    signals.Rewrites{},
		StopSignals: []syscall.Signal{unix.SIGTERM},
		Stop:        StopInputs{Grace: 30 * time.Second, GraceFrom: "the default", StopTimeout: 10 * time.Second},
		Log:         slog.Default(),
	}
}

type supervisor struct {
	cfg    Config
	log    *slog.Logger
	sigs   <-chan os.Signal
	reaper *reaper
	now    func() time.Time

	child      int
	childDone  <-chan unix.WaitStatus
	status     unix.WaitStatus
	exited     bool
	noChildren bool

	startDir   string // drainit's directory before it moved to /; the drain's commands run there
	ignoreOnce map[syscall.Signal]bool

	stop      timeline
	timer     *time.Timer // for stop.next()
	timerAt   time.Time
	drain     drainRun
	deadlines chan deadlineRead // the Deadline read's answer
	report    StopReport

	stopStart     context.CancelFunc
	droppedLogged uint64 // signals lost to a full intake pipe, as last logged
}

// Run starts the child, supervises it and its descendants until all are gone,
// and returns the child's exit code. sigs must carry every signal drainit
// receives (see signals.Listen). A *StartError means no child was started.
func Run(cfg Config, sigs <-chan os.Signal) (int, error) {
	if len(cfg.Argv) == 0 {
		return 0, errors.New("no command given")
	}
	s := &supervisor{
		cfg:        cfg,
		log:        cfg.Log,
		sigs:       sigs,
		reaper:     useReaper(cfg.Log, cfg.WarnOnReap, cfg.ChildSigmask),
		now:        time.Now,
		ignoreOnce: map[syscall.Signal]bool{},
		stop:       timeline{stopTimeout: cfg.Stop.StopTimeout, noStopKill: cfg.NoStopKill},
	}
	reserveThreads()
	if err := s.start(); err != nil {
		return 0, err
	}
	s.runStartHooks()
	defer s.stopStartHooks()
	s.loop()
	return ExitCode(s.status), nil
}

func (s *supervisor) loop() {
	for !s.done() {
		select {
		case sig := <-s.sigs:
			s.onSignal(sig.(syscall.Signal))
		case ws := <-s.childDone:
			s.onChildExit(ws)
		case <-s.reaper.changed:
			s.noChildren = s.reaper.noneLeft.Load()
		case <-s.timerC():
			s.onDeadline()
		case <-s.drain.done:
			s.endDrain(errDrainFinished)
		case r := <-s.deadlines:
			s.onDeadlineRead(r)
		}
		s.rearm()
	}
	if s.stop.withDrain {
		s.event(logging.TreeGone, "status", ExitCode(s.status))
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	s.sendReport()
	s.noteDropped()
	s.logDropped()
}

func (s *supervisor) done() bool {
	return s.stop.phase == gaveUp || (s.exited && s.noChildren)
}

// rearm sets the one timer to the timeline's next deadline.
func (s *supervisor) rearm() {
	at, act := s.stop.next()
	if act == noAction {
		at = time.Time{}
	}
	if at.Equal(s.timerAt) {
		return
	}
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.timerAt = at
	if !at.IsZero() {
		s.timer = time.NewTimer(max(at.Sub(s.now()), 0))
	}
}

func (s *supervisor) timerC() <-chan time.Time {
	if s.timer == nil {
		return nil
	}
	return s.timer.C
}

func (s *supervisor) onDeadline() {
	s.timer, s.timerAt = nil, time.Time{}
	_, act := s.stop.next()
	switch act {
	case cutSteps:
		s.stop.cutSteps()
		s.report.Cut = errAppShare
		if s.drain.cancel != nil {
			s.drain.cancel(errAppShare)
		}
	case forwardNow:
		s.log.Warn(logging.DrainOverdue, "at", s.stop.since(s.now()))
		s.endDrain(errAppShare)
	case killTree:
		n := signalTree(unix.SIGKILL)
		attrs := []any{"processes", n}
		if s.stop.withDrain {
			attrs = append(attrs, "at", s.stop.since(s.now()))
		}
		s.log.Warn(logging.TreeKilled, attrs...)
		s.stop.kill(s.now())
		s.report.Killed = n
		s.report.KilledAt = s.stop.since(s.now())
	case giveUp:
		s.log.Error(logging.GaveUp, "waited", killGrace)
		s.stop.giveUp()
		if !s.exited {
			s.status = unix.WaitStatus(unix.SIGKILL)
		}
	}
}

func (s *supervisor) onChildExit(ws unix.WaitStatus) {
	s.status, s.exited = ws, true
	s.childDone = nil
	s.stop.exited(s.now())
	s.noChildren = s.reaper.noneLeft.Load()
	s.event(logging.ChildExited, "pid", s.child, "status", ExitCode(ws))
	if s.stop.phase == draining {
		s.report.Cut = errChildExited
		s.endDrain(errChildExited)
	}
	if s.noChildren {
		return
	}
	n := signalTree(unix.SIGTERM)
	s.event(logging.TreeWait, "processes", n, "signal", "SIGTERM", "kill_in", s.killIn())
}

// killIn is how long until the planned SIGKILL, or 0 when none is planned.
func (s *supervisor) killIn() time.Duration {
	at, act := s.stop.next()
	if act != killTree {
		return 0
	}
	return at.Sub(s.now()).Round(time.Millisecond)
}
