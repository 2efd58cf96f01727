package supervisor

import (
	"context"
	"time"

	"github.com/drainit/drainit/internal/logging"
)

// reportTime bounds the report at the end (never past the grace period's
// end, less a margin): the container's exit waits for it.
const reportTime = 200 * time.Millisecond

// StopReport is how a stop went, for whoever tells it (Events).
type StopReport struct {
	Plan       StopPlan
	Signal     string        // the stop signal
	Drained    bool          // a drain ran
	Cut        Cut           // why the drain was cut short; nil when it was not
	Forwarded  time.Duration // when the signal was forwarded; 0 and !ForwardOK when it was not
	ForwardOK  bool
	ChildExit  int // the child's exit code
	ExitedAt   time.Duration
	Killed     int // processes sent SIGKILL; 0 when none
	KilledAt   time.Duration
	GaveUp     bool
	TreeGoneAt time.Duration
}

// sendReport tells Report how the stop went, bounded by what is left of
// the grace period: drainit must be gone before the kubelet's SIGKILL.
func (s *supervisor) sendReport() {
	if s.cfg.Report == nil || !s.stop.stopBegun() {
		return
	}
	now := s.now()
	r := s.report
	r.Plan, r.Drained, r.GaveUp = s.stop.plan, s.stop.withDrain, s.stop.phase == gaveUp
	r.ChildExit, r.TreeGoneAt = ExitCode(s.status), s.stop.since(now)
	if !s.stop.forwarded.IsZero() {
		r.Forwarded, r.ForwardOK = s.stop.forwarded.Sub(r.Plan.Began).Round(time.Millisecond), true
	}
	if !s.stop.childExit.IsZero() {
		r.ExitedAt = s.stop.childExit.Sub(r.Plan.Began).Round(time.Millisecond)
	}
	left := r.Plan.Began.Add(r.Plan.Grace).Sub(now) - 200*time.Millisecond
	if left <= 0 {
		s.log.Debug(logging.ReportSkipped, "at", r.TreeGoneAt)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(left, reportTime))
	defer cancel()
	s.cfg.Report(ctx, r)
}
