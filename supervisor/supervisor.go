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

	"github.com/drainit/drainit/signals"
	"golang.org/x/sys/unix"
)

// Config says how to run the child. Start from DefaultConfig: some zero
// values are not safe (with a Drain, a zero GracePeriod means SIGKILL as soon
// as the drain signal arrives).
type Config struct {
	Argv []string // command and arguments; Argv[0] is looked up on PATH

	Session     bool // start the child in a new session (setsid)
	OwnGroup    bool // without Session: start it in a new process group
	SignalGroup bool // forward to the child's whole process group

	Rewrites    signals.Rewrites
	StopSignals []syscall.Signal // signals that start the drain, or the stop
	StopTimeout time.Duration    // how long the tree may take to exit once told to
	// StopTimeoutGiven: the user set StopTimeout. Otherwise a forwarded stop
	// signal is followed by SIGKILL only at the grace period's end (minus a
	// margin), and StopTimeout bounds the tree wait and reserves the app's
	// share of the grace period.
	StopTimeoutGiven bool
	// NoStopKill leaves a child that was forwarded a stop signal to take as
	// long as it likes, as tini and dumb-init do; the tree wait after the
	// child exits is still bounded by StopTimeout.
	NoStopKill bool
	WarnOnReap bool
	// ChildSigmask is the signal mask every child starts with: the one
	// drainit inherited, as exec would leave it (see signals.Inherited).
	ChildSigmask unix.Sigset_t

	// Drain, when set, runs on the first stop signal before it is forwarded,
	// within GracePeriod (measured from that signal).
	Drain       Drainer
	GracePeriod time.Duration
	OnStart     func(ctx context.Context, app App) // beside the child; cancelled when the drain starts

	Log *slog.Logger
}

// DefaultConfig is drainit's own behaviour: a new session, signals to the
// whole group, SIGTERM as the stop signal, 10 s to stop.
func DefaultConfig() Config {
	return Config{
		Session:     true,
		SignalGroup: true,
		Rewrites:    signals.Rewrites{},
		StopSignals: []syscall.Signal{unix.SIGTERM},
		StopTimeout: 10 * time.Second,
		GracePeriod: 30 * time.Second,
		Log:         slog.Default(),
	}
}

// killGrace bounds the wait for processes already sent SIGKILL (one stuck in
// uninterruptible sleep must not hold drainit forever).
const killGrace = 5 * time.Second

type supervisor struct {
	cfg    Config
	log    *slog.Logger
	sigs   <-chan os.Signal
	reaper *reaper

	child      int
	childDone  <-chan unix.WaitStatus
	status     unix.WaitStatus
	exited     bool
	noChildren bool

	startDir   string // drainit's directory before it moved to /; the drain's commands run there
	ignoreOnce map[syscall.Signal]bool
	killAt     time.Time
	killTimer  *time.Timer
	killed     bool
	gaveUp     bool

	droppedLogged uint64 // signals lost to a full intake pipe, as last logged

	drain     drain
	stopStart context.CancelFunc
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
		reaper:     newReaper(cfg.Log, cfg.WarnOnReap, cfg.ChildSigmask),
		ignoreOnce: map[syscall.Signal]bool{},
	}
	reserveThreads()
	if err := s.start(); err != nil {
		return 0, err
	}
	go s.reaper.watch()
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
		case <-s.killC():
			s.onKillTimer()
		case <-s.drain.done:
			s.onDrainDone()
		case <-s.overdueC():
			s.onDrainOverdue()
		}
	}
	if s.drain.state != notDraining {
		s.event("process tree gone; exiting", "status", ExitCode(s.status))
	}
	if s.killTimer != nil {
		s.killTimer.Stop()
	}
	s.noteDropped()
	s.logDropped()
}

func (s *supervisor) done() bool {
	return s.gaveUp || (s.exited && s.noChildren)
}

func (s *supervisor) onChildExit(ws unix.WaitStatus) {
	s.status, s.exited = ws, true
	s.childDone = nil
	s.noChildren = s.reaper.noneLeft.Load()
	s.event("child exited", "pid", s.child, "status", ExitCode(ws))
	if s.drain.state == draining {
		s.endDrain(errChildExited)
	}
	if s.noChildren {
		return
	}
	n := signalTree(unix.SIGTERM)
	s.event("waiting for the rest of the process tree", "processes", n, "signal", "SIGTERM")
	s.armKill(s.cfg.StopTimeout)
}

// armKill schedules the SIGKILL of the tree; an earlier deadline wins.
func (s *supervisor) armKill(after time.Duration) {
	at := time.Now().Add(after)
	if s.killTimer != nil && !at.Before(s.killAt) {
		return
	}
	if s.killTimer != nil {
		s.killTimer.Stop()
	}
	s.killAt = at
	s.killTimer = time.NewTimer(after)
}

func (s *supervisor) killC() <-chan time.Time {
	if s.killTimer == nil {
		return nil
	}
	return s.killTimer.C
}

func (s *supervisor) onKillTimer() {
	s.killTimer = nil
	if s.killed {
		s.log.Error("processes still alive after SIGKILL; exiting anyway", "waited", killGrace)
		s.gaveUp = true
		if !s.exited {
			s.status = unix.WaitStatus(unix.SIGKILL)
		}
		return
	}
	n := signalTree(unix.SIGKILL)
	attrs := []any{"processes", n, "stop_timeout", s.cfg.StopTimeout}
	if s.drain.state != notDraining {
		attrs = append(attrs, "at", time.Since(s.drain.began).Round(time.Millisecond))
	}
	s.log.Warn("time is up; killed the process tree", attrs...)
	s.killed = true
	s.armKill(killGrace)
}
