package supervisor

import (
	"context"
	"time"

	"github.com/drainit/drainit/internal/logging"
)

// deadlineTime bounds the read of the real deadline.
const deadlineTime = time.Second

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
