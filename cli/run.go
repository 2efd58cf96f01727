// Package cli turns the command line and the environment into a run of the
// supervisor, and the outcome into an exit code.
//
// Environment variables read by drainit (flags of the same meaning win):
//
//	DRAINIT_SINGLE_CHILD   forward to the child only (default false)
//	DRAINIT_REWRITE        signal rewrites, S:R[,S:R...]
//	DRAINIT_EXPECT_STATUS  child exit codes mapped to 0, CODE[,CODE...]
//	DRAINIT_STOP_TIMEOUT   time the tree has to exit before SIGKILL (10s)
//	DRAINIT_PDEATH_SIGNAL  signal received when drainit's parent dies
//	DRAINIT_VERBOSITY      0 errors, 1 warnings (default), 2 info, 3 debug
//	DRAINIT_WARN_REAP      warn for every zombie reaped
//	DRAINIT_LOG_FORMAT     text (default) or json
//
// As tini: TINI_SUBREAPER, TINI_VERBOSITY, TINI_KILL_PROCESS_GROUP.
// As dumb-init: DUMB_INIT_SETSID, DUMB_INIT_DEBUG.
package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/drainit/drainit/supervisor"
	"golang.org/x/sys/unix"
)

// Main runs drainit with the given arguments (args[0] picks the
// personality) and returns the exit code. sigs carries every signal
// received since signals.Listen.
func Main(args []string, sigs <-chan os.Signal) int {
	p := personalityFor(args[0])
	s, err := p.configure(args[1:], environMap())
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", p.name, err)
		return p.usageExit
	}
	if s.action != "" {
		return s.perform(p)
	}
	log := newLogger(os.Stderr, s.verbosity, s.logFormat)
	if err := prepareProcess(s); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", p.name, err)
		return p.usageExit
	}
	code, err := supervisor.Run(s.supervisorConfig(log), sigs)
	var startErr *supervisor.StartError
	switch {
	case errors.As(err, &startErr):
		fmt.Fprintf(os.Stderr, "%s: cannot start %v\n", p.name, err)
		return p.execFail(startErr)
	case err != nil:
		fmt.Fprintf(os.Stderr, "%s: %v\n", p.name, err)
		return 1
	}
	return s.exitCode(code)
}

func (s *settings) perform(p personality) int {
	switch s.action {
	case "help":
		fmt.Print(p.help)
	case "version":
		fmt.Printf("drainit %s (as %s)\n", Version, p.name)
	case "license":
		fmt.Print(License)
	}
	return 0
}

// prepareProcess makes drainit able to reap orphans when it is not PID 1 and
// sets the parent-death signal.
func prepareProcess(s *settings) error {
	if os.Getpid() != 1 {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("cannot register as child subreaper: %w", err)
		}
	}
	if s.pdeath != 0 {
		if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(s.pdeath), 0, 0, 0); err != nil {
			return fmt.Errorf("cannot set the parent-death signal: %w", err)
		}
	}
	return nil
}

func (s *settings) supervisorConfig(log *slog.Logger) supervisor.Config {
	cfg := supervisor.DefaultConfig()
	cfg.Argv = s.argv
	cfg.Session = !s.singleChild
	cfg.OwnGroup = s.ownGroup
	cfg.SignalGroup = !s.singleChild || s.killGroup
	cfg.Rewrites = s.rewrites
	cfg.StopTimeout = s.stopTimeout
	cfg.WarnOnReap = s.warnOnReap
	cfg.Log = log
	return cfg
}

// newLogger writes one line per event to w, each marked as drainit's so it
// stands apart from the app's own output on the same stream.
func newLogger(w io.Writer, verbosity int, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: levelFor(verbosity)}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)).With("logger", "drainit")
	}
	return slog.New(slog.NewTextHandler(prefixWriter{w: w, prefix: "drainit: "}, opts))
}

func levelFor(verbosity int) slog.Level {
	switch {
	case verbosity <= 0:
		return slog.LevelError
	case verbosity == 1:
		return slog.LevelWarn
	case verbosity == 2:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// prefixWriter relies on slog's handlers writing each record in one Write.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	_, err := p.w.Write(append([]byte(p.prefix), b...))
	return len(b), err
}
