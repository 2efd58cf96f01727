package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/drainit/drainit/hooks"
	"github.com/drainit/drainit/internal/envconf"
	"github.com/drainit/drainit/signals"
	"github.com/drainit/drainit/supervisor"
)

// variables is every DRAINIT_* variable drainit reads, with its default. Each has a
// flag of the same meaning; the flag wins.
type variables struct {
	SingleChild  bool             `env:"DRAINIT_SINGLE_CHILD"`
	Rewrite      signals.Rewrites `env:"DRAINIT_REWRITE"`
	ExpectStatus statusSet        `env:"DRAINIT_EXPECT_STATUS"`
	StopTimeout  time.Duration    `env:"DRAINIT_STOP_TIMEOUT" envDefault:"10s"`
	PdeathSignal signals.One      `env:"DRAINIT_PDEATH_SIGNAL"`
	Verbosity    int              `env:"DRAINIT_VERBOSITY" envDefault:"1"`
	WarnOnReap   bool             `env:"DRAINIT_WARN_REAP"`
	LogFormat    string           `env:"DRAINIT_LOG_FORMAT" envDefault:"text"`

	Prestop      string        `env:"DRAINIT_PRESTOP"`
	DrainSignals signals.List  `env:"DRAINIT_DRAIN_SIGNALS" envDefault:"TERM"`
	GracePeriod  time.Duration `env:"DRAINIT_GRACE_PERIOD" envDefault:"30s"`
	StepTimeout  time.Duration `env:"DRAINIT_STEP_TIMEOUT" envDefault:"5s"`
	// In a pod: read the real deadline from it when the stop begins, and
	// post the drain as Events on it (see package kube).
	Kubernetes bool `env:"DRAINIT_KUBERNETES" envDefault:"true"`
}

// settings is the checked configuration that the run uses: the variables,
// then the flags over them.
type settings struct {
	variables
	argv        []string
	ownGroup    bool   // tini: the child gets a process group of its own
	killGroup   bool   // tini -g: signal that group, not just the child
	noStopKill  bool   // tini, dumb-init: a forwarded stop signal arms no SIGKILL
	stopGiven   bool   // the stop timeout was set, by flag or variable
	graceFrom   string // the flag or variable the grace period came from, or "the default"
	graceGiven  bool   // set by the user (a flag or variable), not the default
	action      string // help, version or license instead of a run
	prestopFrom string // the flag or variable the steps came from, for errors
}

// statusSet is the exit codes that -e maps to 0.
type statusSet map[int]bool

// UnmarshalText reads a comma-separated list of codes, for the environment.
func (set *statusSet) UnmarshalText(text []byte) error {
	*set = statusSet{}
	for _, item := range splitList(string(text)) {
		if err := set.add(item); err != nil {
			return err
		}
	}
	return nil
}

func (set statusSet) add(item string) error {
	code, err := strconv.Atoi(item)
	if err != nil || code < 0 || code > 255 {
		return fmt.Errorf("exit status %q is not a number from 0 to 255", item)
	}
	set[code] = true
	return nil
}

// usageError is a bad flag, variable or value: reported on one line before
// any child starts.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// loadEnv reads the DRAINIT_* variables from environ and checks the values
// that parse but cannot be used.
func loadEnv(environ map[string]string) (*settings, error) {
	s := &settings{prestopFrom: "DRAINIT_PRESTOP", stopGiven: environ["DRAINIT_STOP_TIMEOUT"] != "", graceFrom: "the default"}
	if environ["DRAINIT_GRACE_PERIOD"] != "" {
		s.graceFrom, s.graceGiven = "DRAINIT_GRACE_PERIOD", true
	}
	if err := envconf.Parse(&s.variables, environ); err != nil {
		return nil, &usageError{msg: err.Error()}
	}
	if s.Rewrite == nil {
		s.Rewrite = signals.Rewrites{}
	}
	if s.ExpectStatus == nil {
		s.ExpectStatus = statusSet{}
	}
	checks := []struct {
		key string
		err error
	}{
		{"DRAINIT_STOP_TIMEOUT", nonNegative(s.StopTimeout)},
		{"DRAINIT_VERBOSITY", checkVerbosity(s.Verbosity)},
		{"DRAINIT_LOG_FORMAT", checkLogFormat(s.LogFormat)},
		{"DRAINIT_DRAIN_SIGNALS", s.checkDrainSignals()},
		{"DRAINIT_GRACE_PERIOD", positive(s.GracePeriod)},
		{"DRAINIT_STEP_TIMEOUT", positive(s.StepTimeout)},
	}
	for _, c := range checks {
		if c.err != nil {
			return nil, usagef("%s=%q: %v", c.key, environ[c.key], c.err)
		}
	}
	return s, nil
}

func (s *settings) addRewrites(list string) error {
	for _, item := range splitList(list) {
		if err := s.Rewrite.Add(item); err != nil {
			return err
		}
	}
	return nil
}

func (s *settings) addExpects(list string) error {
	for _, item := range splitList(list) {
		if err := s.ExpectStatus.add(item); err != nil {
			return err
		}
	}
	return nil
}

func nonNegative(d time.Duration) error {
	if d < 0 {
		return errors.New("must not be negative")
	}
	return nil
}

func (s *settings) setPdeath(name string) error {
	return s.PdeathSignal.UnmarshalText([]byte(name))
}

func checkVerbosity(v int) error {
	if v < 0 {
		return errors.New("must not be negative")
	}
	return nil
}

func checkLogFormat(format string) error {
	if format != "text" && format != "json" {
		return errors.New("want text or json")
	}
	return nil
}

// setLogFormat is --log-format.
func (s *settings) setLogFormat(format string) error {
	if err := checkLogFormat(format); err != nil {
		return err
	}
	s.LogFormat = format
	return nil
}

func splitList(list string) []string {
	var out []string
	for _, item := range strings.Split(list, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// exitCode applies the -e mappings to the child's exit code.
func (s *settings) exitCode(code int) int {
	if s.ExpectStatus[code] {
		return 0
	}
	return code
}

// do records an action (help, version, license) that replaces the run.
func (s *settings) do(action string) func(string) error {
	return func(string) error { s.action = action; return nil }
}

func (s *settings) setDrainSignals(list string) error {
	if err := s.DrainSignals.UnmarshalText([]byte(list)); err != nil {
		return err
	}
	return s.checkDrainSignals()
}

func (s *settings) checkDrainSignals() error {
	if len(s.DrainSignals) == 0 {
		return errors.New("want at least one signal")
	}
	for _, sig := range s.DrainSignals {
		if !signals.Forwardable(sig) {
			return fmt.Errorf("%s can never start a drain: drainit cannot catch or forward it", signals.Name(sig))
		}
	}
	return nil
}

func positive(d time.Duration) error {
	if d <= 0 {
		return errors.New("must be more than zero")
	}
	return nil
}

// setStopTimeout is -t: an explicit stop timeout.
func (s *settings) setStopTimeout(value string) error {
	s.stopGiven = true
	return durationFlag(&s.StopTimeout, nonNegative)(value)
}

// durationFlag parses a flag's duration into dst, if check passes it.
func durationFlag(dst *time.Duration, check func(time.Duration) error) func(string) error {
	return func(value string) error {
		d, err := envconf.ParseDuration(value)
		if err != nil {
			return errors.New("not " + envconf.DurationForm)
		}
		if err := check(d); err != nil {
			return err
		}
		*dst = d
		return nil
	}
}

// setGracePeriod is --grace-period.
func (s *settings) setGracePeriod(value string) error {
	s.graceFrom, s.graceGiven = "--grace-period", true
	return durationFlag(&s.GracePeriod, positive)(value)
}

// stopInputs is what the run plans each stop from (supervisor.PlanStop,
// when the stop begins); check prints the plan from the very same.
func (s *settings) stopInputs(plan *hooks.Plan) supervisor.StopInputs {
	steps, open := plan.Budget()
	return supervisor.StopInputs{Grace: s.GracePeriod, GraceFrom: s.graceFrom, GraceGiven: s.graceGiven, StopTimeout: s.StopTimeout,
		StopTimeoutGiven: s.stopGiven, Steps: steps, StepsOpen: open, HasSteps: len(plan.Steps) > 0}
}

// configure builds the settings from the environment, then the flags.
func (p personality) configure(args []string, environ map[string]string, needCommand bool) (*settings, error) {
	s, err := loadEnv(environ)
	if err != nil {
		return nil, err
	}
	if err := p.readEnv(s, environ); err != nil {
		return nil, err
	}
	// glibc's getopt stops at the first operand when POSIXLY_CORRECT is set
	// at all, and tini's users rely on it (tini -e 3 sh -c 'exit 3').
	_, posix := environ["POSIXLY_CORRECT"]
	argv, err := parser{opts: p.options(s), permute: p.permute && !posix}.parse(args)
	if err != nil {
		return nil, usagef("%v", err)
	}
	if needCommand && s.action == "" && len(argv) == 0 {
		return nil, usagef("no command given (usage: %s [OPTIONS] [--] COMMAND [ARG...])", p.name)
	}
	s.argv = argv
	return s, nil
}
