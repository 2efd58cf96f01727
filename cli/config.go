package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/drainit/drainit/internal/envconf"
	"github.com/drainit/drainit/signals"
)

// Env is every DRAINIT_* variable drainit reads, with its default. Each has a
// flag of the same meaning; the flag wins.
type Env struct {
	SingleChild  bool          `env:"DRAINIT_SINGLE_CHILD"`
	Rewrite      []string      `env:"DRAINIT_REWRITE"`
	ExpectStatus []string      `env:"DRAINIT_EXPECT_STATUS"`
	StopTimeout  time.Duration `env:"DRAINIT_STOP_TIMEOUT" envDefault:"10s"`
	PdeathSignal string        `env:"DRAINIT_PDEATH_SIGNAL"`
	Verbosity    int           `env:"DRAINIT_VERBOSITY" envDefault:"1"`
	WarnOnReap   bool          `env:"DRAINIT_WARN_REAP"`
	LogFormat    string        `env:"DRAINIT_LOG_FORMAT" envDefault:"text"`

	Prestop      string        `env:"DRAINIT_PRESTOP"`
	DrainSignals string        `env:"DRAINIT_DRAIN_SIGNALS" envDefault:"TERM"`
	GracePeriod  time.Duration `env:"DRAINIT_GRACE_PERIOD" envDefault:"30s"`
	StepTimeout  time.Duration `env:"DRAINIT_STEP_TIMEOUT" envDefault:"5s"`
}

// settings is the checked configuration that the run uses.
type settings struct {
	argv        []string
	singleChild bool
	ownGroup    bool // tini: the child gets a process group of its own
	killGroup   bool // tini -g: signal that group, not just the child
	rewrites    signals.Rewrites
	expect      map[int]bool
	stopTimeout time.Duration
	pdeath      syscall.Signal
	verbosity   int
	warnOnReap  bool
	logFormat   string
	action      string // help, version or license instead of a run

	prestop      string
	prestopFrom  string // the flag or variable it came from, for errors
	drainSignals []syscall.Signal
	gracePeriod  time.Duration
	stepTimeout  time.Duration
}

// usageError is a bad flag, variable or value: reported on one line before
// any child starts.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// loadEnv reads the DRAINIT_* variables from environ.
func loadEnv(environ map[string]string) (*settings, error) {
	var e Env
	if err := envconf.Parse(&e, environ); err != nil {
		return nil, &usageError{msg: err.Error()}
	}
	s := &settings{
		prestopFrom: "DRAINIT_PRESTOP",
		singleChild: e.SingleChild,
		rewrites:    signals.Rewrites{},
		expect:      map[int]bool{},
		verbosity:   e.Verbosity,
		warnOnReap:  e.WarnOnReap,
	}
	checks := []struct {
		key   string
		value string
		apply func(string) error
	}{
		{"DRAINIT_REWRITE", strings.Join(e.Rewrite, ","), s.addRewrites},
		{"DRAINIT_EXPECT_STATUS", strings.Join(e.ExpectStatus, ","), s.addExpects},
		{"DRAINIT_STOP_TIMEOUT", environ["DRAINIT_STOP_TIMEOUT"], func(string) error { return setNonNegative(&s.stopTimeout, e.StopTimeout) }},
		{"DRAINIT_PDEATH_SIGNAL", e.PdeathSignal, s.setPdeath},
		{"DRAINIT_VERBOSITY", strconv.Itoa(e.Verbosity), func(string) error { return s.setVerbosity(e.Verbosity) }},
		{"DRAINIT_LOG_FORMAT", e.LogFormat, s.setLogFormat},
		{"DRAINIT_PRESTOP", e.Prestop, func(v string) error { s.prestop = v; return nil }},
		{"DRAINIT_DRAIN_SIGNALS", e.DrainSignals, s.setDrainSignals},
		{"DRAINIT_GRACE_PERIOD", environ["DRAINIT_GRACE_PERIOD"], func(string) error { return setPositive(&s.gracePeriod, e.GracePeriod) }},
		{"DRAINIT_STEP_TIMEOUT", environ["DRAINIT_STEP_TIMEOUT"], func(string) error { return setPositive(&s.stepTimeout, e.StepTimeout) }},
	}
	for _, c := range checks {
		if err := c.apply(c.value); err != nil {
			return nil, usagef("%s=%q: %v", c.key, c.value, err)
		}
	}
	return s, nil
}

func (s *settings) addRewrites(list string) error {
	for _, item := range splitList(list) {
		if err := s.rewrites.Add(item); err != nil {
			return err
		}
	}
	return nil
}

func (s *settings) addExpects(list string) error {
	for _, item := range splitList(list) {
		code, err := strconv.Atoi(item)
		if err != nil || code < 0 || code > 255 {
			return fmt.Errorf("exit status %q is not a number from 0 to 255", item)
		}
		s.expect[code] = true
	}
	return nil
}

func setNonNegative(dst *time.Duration, d time.Duration) error {
	if d < 0 {
		return errors.New("must not be negative")
	}
	*dst = d
	return nil
}

func (s *settings) setPdeath(name string) error {
	if name == "" {
		s.pdeath = 0
		return nil
	}
	sig, err := signals.Parse(name)
	s.pdeath = sig
	return err
}

func (s *settings) setVerbosity(v int) error {
	if v < 0 {
		return errors.New("must not be negative")
	}
	s.verbosity = v
	return nil
}

func (s *settings) setLogFormat(format string) error {
	if format != "text" && format != "json" {
		return errors.New("want text or json")
	}
	s.logFormat = format
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
	if s.expect[code] {
		return 0
	}
	return code
}

// do records an action (help, version, license) that replaces the run.
func (s *settings) do(action string) func(string) error {
	return func(string) error { s.action = action; return nil }
}

func (s *settings) setDrainSignals(list string) error {
	sigs, err := signals.ParseList(list)
	if err == nil && len(sigs) == 0 {
		err = errors.New("want at least one signal")
	}
	s.drainSignals = sigs
	return err
}

func setPositive(dst *time.Duration, d time.Duration) error {
	if d <= 0 {
		return errors.New("must be more than zero")
	}
	*dst = d
	return nil
}

// durationFlag parses a flag's duration into dst with check.
func durationFlag(dst *time.Duration, check func(*time.Duration, time.Duration) error) func(string) error {
	return func(value string) error {
		d, err := time.ParseDuration(value)
		if err != nil {
			return errors.New("not a duration (like 10s or 1m30s)")
		}
		return check(dst, d)
	}
}
