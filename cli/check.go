package cli

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

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
	if len(args) == 2 && (args[0] == "-f" || args[0] == "--file") {
		return checkManifests(p, args[1])
	}
	s, err := p.configure(args, environ, false)
	if err == nil && len(s.argv) > 0 {
		err = usagef("check takes no command")
	}
	var plan *hooks.Plan
	if err == nil {
		plan, err = s.drainPlan(environ)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, redact.Shapes("drainit check: "+err.Error()))
		return 2
	}
	fmt.Print(plan.Secrets.String(timeline(s, plan)))
	if problem := overBudget(s, plan); problem != "" {
		fmt.Fprintf(os.Stderr, "drainit check: %s\n", problem)
		return 2
	}
	fmt.Println("ok")
	return 0
}

// timeline prints the stop plan the supervisor follows, if each step takes
// its whole budget.
func timeline(s *settings, plan *hooks.Plan) string {
	var b strings.Builder
	var names []string
	for _, sig := range s.DrainSignals {
		names = append(names, signals.Name(sig))
	}
	stop := supervisor.PlanStop(s.stopInputs(plan), time.Time{})
	fmt.Fprintf(&b, "on %s: grace period %s (%s), counted from the signal\n", strings.Join(names, " or "), stop.Grace, stop.GraceFrom)
	for _, line := range plan.Describe(stop.AppShare) {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	share := fmt.Sprintf("%s (stop timeout)", stop.AppTimeout)
	if stop.AppTimeout == 0 {
		share = fmt.Sprintf("until the kill (no stop timeout set: the grace period, less %s)", stop.Grace-stop.KillAt)
	}
	what := "forward the signal"
	if len(plan.Steps) == 0 {
		what = "forward the signal at once (no drain steps)"
	}
	kill := stop.KillFor(stop.StepsEnd)
	fmt.Fprintf(&b, "  +%-8s %s; the app has %s to exit\n", stop.StepsEnd, what, share)
	fmt.Fprintf(&b, "  +%-8s SIGKILL whatever is left, %s before the grace period ends\n", kill, stop.Grace-kill)
	return b.String()
}

// overBudget says why the steps do not fit in the grace period, or "".
func overBudget(s *settings, plan *hooks.Plan) string {
	in := s.stopInputs(plan)
	stop := supervisor.PlanStop(in, time.Time{})
	if !in.HasSteps || (!in.StepsOpen && in.Steps <= stop.AppShare) || (in.StepsOpen && stop.AppShare > 0) {
		return ""
	}
	return fmt.Sprintf("the steps (up to %s) plus the app's stop timeout (%s) need %s, but drainit kills at +%s: "+
		"raise DRAINIT_GRACE_PERIOD and the pod's terminationGracePeriodSeconds, or shorten the steps",
		in.Steps, s.StopTimeout, in.Steps+s.StopTimeout, stop.KillAt)
}

// warnIfOverBudget says at start-up that some steps will be cut short.
func warnIfOverBudget(s *settings, plan *hooks.Plan, log *slog.Logger) {
	if problem := overBudget(s, plan); problem != "" {
		log.Warn(logging.StepsOverGrace + problem)
	}
}
