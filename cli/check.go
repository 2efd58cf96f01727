package cli

import (
	"fmt"
	"io"
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

func (s *settings) stopPlan(plan *hooks.Plan) supervisor.StopPlan {
	return supervisor.PlanStop(s.GracePeriod, s.StopTimeout, s.stopGiven, plan.Budget())
}

// timeline prints the stop plan the supervisor follows; the kill time
// assumes the steps take all their budget.
func timeline(s *settings, plan *hooks.Plan) string {
	var b strings.Builder
	var names []string
	for _, sig := range s.DrainSignals {
		names = append(names, signals.Name(sig))
	}
	stop := s.stopPlan(plan)
	fmt.Fprintf(&b, "on %s: grace period %s, counted from the signal\n", strings.Join(names, " or "), s.GracePeriod)
	if len(plan.Steps) == 0 {
		fmt.Fprintf(&b, "  +0s       forward the signal at once (no drain steps)\n")
	}
	for _, line := range plan.Describe() {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	forward := 0 * time.Second
	if len(plan.Steps) > 0 {
		forward = stop.StepsBy
	}
	kill := stop.KillFor(forward)
	share := fmt.Sprintf("%s (stop timeout)", stop.AppTimeout)
	if stop.AppTimeout == 0 {
		share = fmt.Sprintf("until the kill (no stop timeout set: the grace period, less %s)", stop.Grace-stop.KillAt)
	}
	fmt.Fprintf(&b, "  +%-8s forward the signal; the app has %s to exit\n", forward, share)
	fmt.Fprintf(&b, "  +%-8s SIGKILL whatever is left, %s before the grace period ends\n", kill, s.GracePeriod-kill)
	return b.String()
}

func overBudget(s *settings, plan *hooks.Plan) string {
	stop := s.stopPlan(plan)
	if len(plan.Steps) == 0 || plan.Budget() <= stop.StepsBy {
		return ""
	}
	return fmt.Sprintf("the steps (up to %s) plus the app's stop timeout (%s) need %s, but drainit kills at +%s: "+
		"raise DRAINIT_GRACE_PERIOD and the pod's terminationGracePeriodSeconds, or shorten the steps",
		plan.Budget(), s.StopTimeout, plan.Budget()+s.StopTimeout, stop.KillAt)
}

// warnIfOverBudget says at start-up that some steps will be cut short.
func warnIfOverBudget(s *settings, plan *hooks.Plan, log *slog.Logger) {
	if problem := overBudget(s, plan); problem != "" {
		log.Warn("drain steps will be cut short: " + problem)
	}
}
