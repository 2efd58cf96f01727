package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/caarlos0/env/v10"
	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/signals"
	"github.com/drainit/drainit/supervisor"
)

// personality is how drainit behaves under a given name. Invoked through a
// symlink named tini or dumb-init it takes that tool's flags, variables,
// defaults and exit codes, so an image can switch by replacing the binary.
type personality struct {
	name      string
	usageExit int
	permute   bool
	help      string
	options   func(s *settings) []option
	readEnv   func(s *settings, environ map[string]string) error
	execFail  func(*supervisor.StartError) int
	voice     *logging.Voice                      // the peer's words for its users' logs; nil for drainit's
	startFail func(*supervisor.StartError) string // the peer's line for a command that cannot run
}

func personalityFor(argv0 string) personality {
	switch filepath.Base(argv0) {
	case "tini", "tini-static":
		return tini
	case "dumb-init":
		return dumbInit
	}
	return drainit
}

// shellExecFail is what a shell (and tini) answers when a command cannot run.
func shellExecFail(err *supervisor.StartError) int {
	if err.NotFound() {
		return 127
	}
	return 126
}

var drainit = personality{
	name:      "drainit",
	usageExit: 2,
	help:      drainitHelp,
	options:   drainitOptions,
	readEnv:   func(*settings, map[string]string) error { return nil },
	execFail:  shellExecFail,
}

func drainitOptions(s *settings) []option {
	return []option{
		{short: 'c', long: "single-child", set: func(string) error { s.SingleChild = true; return nil }},
		{short: 'r', long: "rewrite", arg: true, set: s.addRewrites},
		{short: 'e', long: "expect-status", arg: true, set: s.addExpects},
		{short: 't', long: "stop-timeout", arg: true, set: s.setStopTimeout},
		{short: 'p', long: "pdeath-signal", arg: true, set: s.setPdeath},
		{short: 'v', long: "verbose", set: func(string) error { s.Verbosity++; return nil }},
		{short: 'w', long: "warn-reap", set: func(string) error { s.WarnOnReap = true; return nil }},
		{long: "log-format", arg: true, set: s.setLogFormat},
		{long: "prestop", arg: true, set: func(v string) error { s.Prestop, s.prestopFrom = v, "--prestop"; return nil }},
		{long: "drain-signals", arg: true, set: s.setDrainSignals},
		{long: "grace-period", arg: true, set: s.setGracePeriod},
		{long: "step-timeout", arg: true, set: durationFlag(&s.StepTimeout, positive)},
		{short: 'h', long: "help", set: s.do("help")},
		{short: 'V', long: "version", set: s.do("version")},
	}
}

var tini = personality{
	name:      "tini",
	usageExit: 1,
	permute:   true,
	help:      tiniHelp,
	options:   tiniOptions,
	readEnv:   tiniEnv,
	execFail:  shellExecFail,
	voice: &logging.Voice{Prefix: logging.TiniPrefix, Words: logging.Words{
		logging.ZombieReaped: func(a map[string]slog.Value) string {
			return fmt.Sprintf("Reaped zombie process with pid=%d", a["pid"].Int64())
		},
		logging.ChildStarted: func(a map[string]slog.Value) string {
			return fmt.Sprintf("Spawned child process '%s' with pid '%d'", a["command"].String(), a["pid"].Int64())
		},
		logging.Starting: func(map[string]slog.Value) string { return "" }, // tini says nothing of itself
	}},
}

func tiniOptions(s *settings) []option {
	return []option{
		{short: 's', set: func(string) error { return nil }}, // drainit is always a subreaper
		{short: 'p', arg: true, set: s.setPdeath},
		{short: 'v', set: func(string) error { s.Verbosity++; return nil }},
		{short: 'w', set: func(string) error { s.WarnOnReap = true; return nil }},
		{short: 'g', set: func(string) error { s.killGroup = true; return nil }},
		{short: 'e', arg: true, set: s.addExpects},
		{short: 'l', set: s.do("license")},
		{short: 'h', set: s.do("help")},
		{long: "version", set: s.do("version")},
	}
}

// tiniEnv follows tini: TINI_KILL_PROCESS_GROUP counts when set at all,
// TINI_SUBREAPER is accepted (drainit always registers), TINI_VERBOSITY sets
// the level. tini signals only its direct child by default.
func tiniEnv(s *settings, environ map[string]string) error {
	s.SingleChild, s.ownGroup, s.noStopKill = true, true, true
	if _, ok := environ["TINI_KILL_PROCESS_GROUP"]; ok {
		s.killGroup = true
	}
	if v, ok := environ["TINI_VERBOSITY"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return usagef("TINI_VERBOSITY=%q: not a whole number", v)
		}
		s.Verbosity = n
	}
	return nil
}

var dumbInit = personality{
	name:      "dumb-init",
	usageExit: 1,
	help:      dumbInitHelp,
	options:   dumbInitOptions,
	readEnv:   dumbInitEnv,
	execFail:  func(*supervisor.StartError) int { return 2 },
	voice:     &dumbInitVoice,
	startFail: func(err *supervisor.StartError) string {
		return fmt.Sprintf("[dumb-init] %s: %s", err.Command, strerror(err))
	},
}

// dumbInitVoice is dumb-init's debug output (dumb-init.c, DEBUG()): its
// own lines only, prefixed "[dumb-init] ".
var dumbInitVoice = logging.Voice{
	Prefix: func(slog.Level) string { return "[dumb-init] " },
	Quiet:  func(level slog.Level) bool { return level < slog.LevelWarn },
	Words: logging.Words{
		logging.ChildStarted: func(a map[string]slog.Value) string {
			return fmt.Sprintf("Child spawned with PID %d.", a["pid"].Int64())
		},
		logging.ZombieReaped: func(a map[string]slog.Value) string {
			return childExitLine(a)
		},
		logging.ChildExited: func(a map[string]slog.Value) string {
			return childExitLine(a) + "\n" + fmt.Sprintf("[dumb-init] Child exited with status %d. Goodbye.", a["status"].Int64())
		},
		logging.SignalForwarded: func(a map[string]slog.Value) string {
			return fmt.Sprintf("Forwarded signal %d to children.", signum(a["signal"]))
		},
		logging.SignalRewrittenOff: func(a map[string]slog.Value) string {
			return fmt.Sprintf("Not forwarding signal %d to children (ignored).", signum(a["signal"]))
		},
		logging.TerminalHandOff: func(a map[string]slog.Value) string {
			return fmt.Sprintf("Ignoring tty hand-off signal %d.", signum(a["signal"]))
		},
	},
}

func childExitLine(a map[string]slog.Value) string {
	if code := a["status"].Int64(); code > 128 {
		return fmt.Sprintf("A child with PID %d was terminated by signal %d.", a["pid"].Int64(), code-128)
	}
	return fmt.Sprintf("A child with PID %d exited with exit status %d.", a["pid"].Int64(), a["status"].Int64())
}

func signum(name slog.Value) int {
	sig, _ := signals.Parse(name.String())
	return int(sig)
}

// strerror words an exec failure as the C library does.
func strerror(err *supervisor.StartError) string {
	var errno syscall.Errno
	switch {
	case err.NotFound():
		return "No such file or directory"
	case errors.As(err, &errno):
		return errnoText(errno)
	}
	return err.Err.Error()
}

// errnoText capitalises Go's errno text to the C library's ("permission
// denied" becomes "Permission denied").
func errnoText(errno syscall.Errno) string {
	text := errno.Error()
	return strings.ToUpper(text[:1]) + text[1:]
}

func dumbInitOptions(s *settings) []option {
	return []option{
		{short: 'c', long: "single-child", set: func(string) error { s.SingleChild = true; return nil }},
		{short: 'r', long: "rewrite", arg: true, set: s.addRewrites},
		{short: 'v', long: "verbose", set: func(string) error { s.Verbosity = 3; return nil }},
		{short: 'V', long: "version", set: s.do("version")},
		{short: 'h', long: "help", set: s.do("help")},
	}
}

// dumbInitEnv follows dumb-init: DUMB_INIT_SETSID=0 means single-child mode,
// DUMB_INIT_DEBUG=1 means verbose.
func dumbInitEnv(s *settings, environ map[string]string) error {
	s.noStopKill = true
	if environ["DUMB_INIT_SETSID"] == "0" {
		s.SingleChild = true
	}
	if environ["DUMB_INIT_DEBUG"] == "1" {
		s.Verbosity = 3
	}
	return nil
}

func environMap() map[string]string {
	return env.ToMap(os.Environ())
}
