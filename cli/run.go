// Package cli turns the command line and the environment into a run of the
// supervisor, and the outcome into an exit code.
//
// Every flag and environment variable is described once for users, in
// drainit --help (help.go), and in the README; a test holds both against
// the variables' struct tags and their defaults (settings_test.go).
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
		// A drain step's error is masked with its secrets when parsed.
		fmt.Fprintln(os.Stderr, redact.Shapes(p.errorLine(err)))
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
	plan, err := s.drainPlan(environ)
	if err != nil {
		return 0, err
	}
	log := logging.New(os.Stderr, s.Verbosity, s.LogFormat, plan.Secrets)
	if p.voice != nil && s.LogFormat == "text" {
		log = logging.NewVoice(os.Stderr, s.Verbosity, *p.voice, plan.Secrets)
	}
	plan.Log = log
	log.Debug(logging.Starting, "version", Version, "as", p.name, "build", buildKind())
	if err := prepareProcess(s); err != nil {
		return 0, err
	}
	cfg := s.supervisorConfig(log)
	cfg.Stop = s.stopInputs(plan)
	newPodHooks(s, environ, plan, log).wire(&cfg)
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
		fmt.Printf("drainit %s (as %s; %s)\n", Version, p.name, buildKind())
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

// buildKind says whether drainit runs with its own entry point (make build,
// a release) or was built plainly (go build, go install), which keeps some
// inherited signal state from the child (see the README).
func buildKind() string {
	if signals.Inherited().Exact {
		return "with drainit's entry point"
	}
	return "a plain go build, without drainit's entry point: build with make build to pass every inherited blocked or ignored signal on"
}

// drainPlan parses the drain steps; a bad one is a usage error.
func (s *settings) drainPlan(environ map[string]string) (*hooks.Plan, error) {
	plan, err := hooks.Parse(s.Prestop, environ, s.StepTimeout)
	if err != nil {
		return nil, usagef("%s: %v", s.prestopFrom, err)
	}
	return plan, nil
}
