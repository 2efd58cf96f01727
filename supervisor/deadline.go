package supervisor

import (
	"context"
	"time"

	"github.com/drainit/drainit/internal/logging"
)

// deadlineTime bounds the read of the real deadline; reportTime the report
// at the end (never past the grace period's end, less a margin).
const (
	deadlineTime = time.Second
	reportTime   = 200 * time.Millisecond
)

type deadlineRead struct {
	at   time.Time
	from string
	err  error
}

// readDeadline asks for the real deadline beside the stop that began at
// began: the drain and the signal go on meanwhile.
func (s *supervisor) readDeadline(began time.Time) {
	if s.cfg.Deadline == nil {
		return
	}
	s.deadlines = make(chan deadlineRead, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadlineTime)
		defer cancel()
		at, from, err := s.cfg.Deadline(ctx, began)
		s.deadlines <- deadlineRead{at, from, err}
	}()
}

// onDeadlineRead replans the stop against the deadline read: the kubelet's
// SIGKILL comes then whatever drainit planned, so an earlier one always
// wins; a later one replaces the grace period only if the user did not set
// it. A failed read keeps the plan and says why, once.
func (s *supervisor) onDeadlineRead(r deadlineRead) {
	s.deadlines = nil
	plan := s.stop.plan
	if r.err != nil {
		s.event(logging.DeadlineKept, "grace_period", plan.Grace, "grace_from", plan.GraceFrom, "reason", r.err.Error())
		return
	}
	grace := r.at.Sub(plan.Began)
	if grace >= plan.Grace && s.cfg.Stop.GraceGiven {
		s.event(logging.DeadlineLater, "grace_period", plan.Grace, "grace_from", plan.GraceFrom, "pod_allows", grace.Round(time.Millisecond))
		return
	}
	in := s.cfg.Stop
	in.Grace, in.GraceFrom = max(grace, 0), r.from
	in.HasSteps = in.HasSteps && s.stop.withDrain
	replanned := PlanStop(in, plan.Began)
	s.stop.replan(replanned)
	s.report.Plan = s.stop.plan
	s.event(logging.DeadlineRead, "grace_period", replanned.Grace.Round(time.Millisecond), "grace_from", replanned.GraceFrom,
		"forward_by", replanned.StepsEnd.Round(time.Millisecond), "kill_at", s.killAtPlanned())
}

// killAtPlanned is when the SIGKILL comes as things stand, from the stop's
// start; 0 when none is due.
func (s *supervisor) killAtPlanned() time.Duration {
	at, act := s.stop.next()
	if act == killTree {
		return at.Sub(s.stop.plan.Began).Round(time.Millisecond)
	}
	return s.stop.plan.KillFor(s.stop.plan.StepsEnd).Round(time.Millisecond)
}

// StopReport is how a stop went, for whoever tells it (Events).
type StopReport struct {
	Plan       StopPlan
	Signal     string        // the stop signal
	Drained    bool          // a drain ran
	Cut        string        // why the drain was cut short, if it was
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
