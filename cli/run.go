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
//	DRAINIT_PRESTOP        drain steps run before the stop signal is forwarded
//	DRAINIT_DRAIN_SIGNALS  signals that start the drain (TERM)
//	DRAINIT_GRACE_PERIOD   the pod's grace period, from the drain signal (30s)
//	DRAINIT_STEP_TIMEOUT   the longest one drain step may take (5s)
//	DRAINIT_NACOS_*, DRAINIT_EUREKA_*, DRAINIT_CONSUL_*  registry steps (see hooks)
//	DRAINIT_QUIET_IGNORE   quiet step: peers or local ports that are not callers
//	DRAINIT_QUIET_SOURCE   quiet step: netlink or proc (default: netlink, else proc)
//	DRAINIT_QUIET_OPENS    quiet step: count the namespace's PassiveOpens (true)
//	HOST_IP                quiet step: the node's address, whose probes are not callers
//
// As tini: TINI_SUBREAPER, TINI_VERBOSITY, TINI_KILL_PROCESS_GROUP.
// As dumb-init: DUMB_INIT_SETSID, DUMB_INIT_DEBUG.
package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/drainit/drainit/hooks"
	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/internal/redact"
	"github.com/drainit/drainit/signals"
	"github.com/drainit/drainit/supervisor"
	"golang.org/x/sys/unix"
)

// Main runs drainit with the given arguments (args[0] picks the
// personality) and returns the exit code. sigs carries every signal
// received since signals.Listen.
func Main(args []string, sigs <-chan os.Signal) int {
	p := personalityFor(args[0])
	environ := environMap()
	if p.name == "drainit" && len(args) > 1 && args[1] == "check" {
		return check(p, args[2:], environ)
	}
	code, err := run(p, args[1:], environ, sigs)
	if err != nil {
		fmt.Fprintln(os.Stderr, redact.String(p.errorLine(err)))
		return p.exitFor(err)
	}
	return code
}

func (p personality) errorLine(err error) string {
	var start *supervisor.StartError
	if p.startFail != nil && errors.As(err, &start) {
		return p.startFail(start)
	}
	return p.name + ": " + err.Error()
}

// exitFor is the one place an error becomes an exit code.
func (p personality) exitFor(err error) int {
	var usage *usageError
	var start *supervisor.StartError
	switch {
	case errors.As(err, &usage):
		return p.usageExit
	case errors.As(err, &start):
		return p.execFail(start)
	}
	return 1
}

func run(p personality, args []string, environ map[string]string, sigs <-chan os.Signal) (int, error) {
	s, err := p.configure(args, environ, true)
	if err != nil {
		return 0, err
	}
	if s.action != "" {
		return s.perform(p), nil
	}
	log := logging.New(os.Stderr, s.Verbosity, s.LogFormat)
	if p.voice != nil && s.LogFormat == "text" {
		log = logging.NewVoice(os.Stderr, s.Verbosity, *p.voice)
	}
	plan, err := s.drainPlan(environ, log)
	if err != nil {
		return 0, err
	}
	if err := prepareProcess(s); err != nil {
		return 0, err
	}
	cfg := s.supervisorConfig(log)
	cfg.Stop = s.stopInputs(plan)
	if len(plan.Steps) > 0 {
		cfg.Drain, cfg.OnStart = plan, plan.Start
		warnIfOverBudget(s, plan, log)
	}
	code, err := supervisor.Run(cfg, sigs)
	if err != nil {
		return 0, err
	}
	return s.exitCode(code), nil
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
	if s.PdeathSignal != 0 {
		if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(s.PdeathSignal), 0, 0, 0); err != nil {
			return fmt.Errorf("cannot set the parent-death signal: %w", err)
		}
	}
	return nil
}

func (s *settings) supervisorConfig(log *slog.Logger) supervisor.Config {
	cfg := supervisor.DefaultConfig()
	cfg.Argv = s.argv
	cfg.Session = !s.SingleChild
	cfg.OwnGroup = s.ownGroup
	cfg.SignalGroup = !s.SingleChild || s.killGroup
	cfg.Rewrites = s.Rewrite
	cfg.StopSignals = s.DrainSignals
	cfg.WarnOnReap = s.WarnOnReap
	cfg.NoStopKill = s.noStopKill
	cfg.ChildSigmask = signals.Inherited().Mask
	cfg.Log = log
	return cfg
}

// drainPlan parses the drain steps; a bad one is a usage error.
func (s *settings) drainPlan(environ map[string]string, log *slog.Logger) (*hooks.Plan, error) {
	plan, err := hooks.Parse(s.Prestop, environ, s.StepTimeout, log)
	if err != nil {
		return nil, usagef("%s: %v", s.prestopFrom, err)
	}
	return plan, nil
}
