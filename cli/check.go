package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/drainit/drainit/hooks"
	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/internal/redact"
	"github.com/drainit/drainit/signals"
	"github.com/drainit/drainit/supervisor"
)

// check validates the configuration without starting anything and prints
// the planned timeline against the grace period. Exit 0 when it fits, 2 when
// something is wrong.
func check(p personality, args []string, environ map[string]string) int {
	s, err := p.configure(args, environ, false)
	if err == nil && len(s.argv) > 0 {
		err = usagef("check takes no command")
	}
	var plan *hooks.Plan
	if err == nil {
		plan, err = s.drainPlan(environ, logging.New(io.Discard, 0, "text"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, redact.String("drainit check: "+err.Error()))
		return 2
	}
	fmt.Print(redact.String(timeline(s, plan)))
	if problem := overBudget(s, plan); problem != "" {
		fmt.Fprintf(os.Stderr, "drainit check: %s\n", problem)
		return 2
	}
	fmt.Println("ok")
	return 0
}

func timeline(s *settings, plan *hooks.Plan) string {
	var b strings.Builder
	var names []string
	for _, sig := range s.DrainSignals {
		names = append(names, signals.Name(sig))
	}
	killAt := s.GracePeriod - supervisor.KillMargin(s.GracePeriod)
	fmt.Fprintf(&b, "on %s: grace period %s, counted from the signal\n", strings.Join(names, " or "), s.GracePeriod)
	if len(plan.Steps) == 0 {
		fmt.Fprintf(&b, "  +0s       forward the signal at once (no drain steps)\n")
	}
	for _, line := range plan.Describe() {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	forwardAt := min(plan.Budget(), max(killAt-s.StopTimeout, 0))
	fmt.Fprintf(&b, "  +%-8s forward the signal; the app has %s (stop timeout) to exit\n", forwardAt, s.StopTimeout)
	fmt.Fprintf(&b, "  +%-8s SIGKILL whatever is left, %s before the grace period ends\n", killAt, s.GracePeriod-killAt)
	return b.String()
}

func overBudget(s *settings, plan *hooks.Plan) string {
	killAt := s.GracePeriod - supervisor.KillMargin(s.GracePeriod)
	need := plan.Budget() + s.StopTimeout
	if len(plan.Steps) == 0 || need <= killAt {
		return ""
	}
	return fmt.Sprintf("the steps (up to %s) plus the app's stop timeout (%s) need %s, but drainit kills at +%s: "+
		"raise DRAINIT_GRACE_PERIOD and the pod's terminationGracePeriodSeconds, or shorten the steps", plan.Budget(), s.StopTimeout, need, killAt)
}

// warnIfOverBudget says at start-up that some steps will be cut short.
func warnIfOverBudget(s *settings, plan *hooks.Plan, log *slog.Logger) {
	if problem := overBudget(s, plan); problem != "" {
		log.Warn("drain steps will be cut short: " + problem)
	}
}
