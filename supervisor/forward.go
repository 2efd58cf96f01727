package supervisor

import (
	"os"
	"slices"
	"syscall"

	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/signals"
	"golang.org/x/sys/unix"
)

func (s *supervisor) onSignal(sig syscall.Signal) {
	s.noteDropped()
	switch {
	case s.ignoreOnce[sig]:
		delete(s.ignoreOnce, sig)
		s.log.Debug(logging.TerminalHandOff, "signal", signals.Name(sig))
	case !signals.Forwardable(sig):
		s.log.Debug(logging.SignalNotForwarded, "signal", signals.Name(sig))
	case isJobControl(sig):
		s.suspend(sig)
	case slices.Contains(s.cfg.StopSignals, sig):
		s.onStopSignal(sig)
	default:
		s.forwardReceived(sig)
	}
}

// forwardReceived forwards sig as rewritten. A stop signal forwarded
// begins the stop if no drain did (its plan then counts from now) and
// starts the app's time.
func (s *supervisor) forwardReceived(sig syscall.Signal) {
	to := s.cfg.Rewrites.Apply(sig)
	if to == 0 {
		s.log.Debug(logging.SignalRewrittenOff, "signal", signals.Name(sig))
		return
	}
	s.forward(to)
	if !slices.Contains(s.cfg.StopSignals, sig) {
		return
	}
	if !s.stop.stopBegun() {
		s.beginStop(sig, false)
	}
	if s.stop.forwarded.IsZero() {
		s.stop.forward(s.now())
		s.event(logging.StopForwarded, "signal", signals.Name(to), "kill_in", s.killIn())
	}
}

func isJobControl(sig syscall.Signal) bool {
	return sig == unix.SIGTSTP || sig == unix.SIGTTIN || sig == unix.SIGTTOU
}

// suspend handles Ctrl-Z as dumb-init does: the child is stopped (with
// SIGSTOP in session mode, where nothing else would stop an orphaned
// group), then drainit stops itself so the shell above sees it suspended.
// The kernel ignores the self-stop when drainit is PID 1.
func (s *supervisor) suspend(sig syscall.Signal) {
	to, rewritten := s.cfg.Rewrites[sig]
	if !rewritten {
		to = sig
		if s.cfg.Session {
			to = unix.SIGSTOP
		}
	}
	if to == 0 {
		return
	}
	s.forward(to)
	unix.Kill(os.Getpid(), unix.SIGSTOP)
}

// forward sends sig to the child, or to its process group. Once the child is
// reaped its pid may be reused, so only the group (which keeps the number
// reserved while any member lives) is still signalled.
func (s *supervisor) forward(sig syscall.Signal) {
	target := s.child
	switch {
	case s.cfg.SignalGroup:
		target = -s.child
	case s.exited:
		s.log.Debug(logging.ChildGoneNotForwarded, "signal", signals.Name(sig))
		return
	}
	err := unix.Kill(target, sig)
	s.log.Debug(logging.SignalForwarded, "signal", signals.Name(sig), "pid", target, "err", err)
}

// noteDropped logs, once, that the intake lost signals to a full pipe (see
// signals.Dropped); logDropped at exit gives the total if more were lost.
func (s *supervisor) noteDropped() {
	if s.droppedLogged == 0 {
		if n := signals.Dropped(); n > 0 {
			s.droppedLogged = n
			s.log.Warn(logging.SignalsLost, "lost", n, "pipe_records", signals.IntakeCapacity())
		}
	}
}

func (s *supervisor) logDropped() {
	if n := signals.Dropped(); n > s.droppedLogged && s.droppedLogged > 0 {
		s.log.Warn(logging.SignalsLostInAll, "lost", n)
	}
}
