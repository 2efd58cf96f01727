package supervisor

import (
	"time"
)

// The stop timeline has one home: StopPlan is computed once, when the stop
// begins, by PlanStop (drainit check prints the same function's answer for
// the same inputs); timeline holds it with what has happened since, in one
// phase, and next says what comes next and when. The supervisor keeps a
// single timer, for that deadline.

// StopInputs is what a stop is planned from.
type StopInputs struct {
	Grace      time.Duration // the grace period, counted from the stop's start
	GraceFrom  string        // where it came from, for the log and check
	GraceGiven bool          // set by the user: a deadline read later may shorten it, never lengthen it
	// StopTimeout is the app's share of the grace period, which the steps
	// may not eat, and the time the rest of the tree has once the child
	// has exited. Given (set by the user), it also bounds the app's time
	// after the forward.
	StopTimeout      time.Duration
	StopTimeoutGiven bool
	Steps            time.Duration // the drain steps' budgets, added up
	StepsOpen        bool          // a step runs until the drain's own end (quiet with no max)
	HasSteps         bool
}

// StopPlan is when drainit acts, counted from the stop's start (Began).
type StopPlan struct {
	Began     time.Time
	Grace     time.Duration // the kubelet SIGKILLs at its end
	GraceFrom string
	// AppShare is when the app's share of the grace period begins: the
	// steps are cut there, whatever they are doing, and the signal is
	// forwarded. StepsEnd is when the steps end if each takes its whole
	// budget: the forward comes then at the latest. Both are 0 without
	// steps: the signal is forwarded at once.
	AppShare, StepsEnd time.Duration
	// KillAt is drainit's own SIGKILL of whatever is left at the latest,
	// killMargin before the grace period ends, so its last lines and exit
	// code get out before the kubelet's.
	KillAt time.Duration
	// AppTimeout, when set (an explicit stop timeout), brings the SIGKILL
	// that long after the forward if that is earlier.
	AppTimeout time.Duration
}

// PlanStop plans a stop that begins at began.
func PlanStop(in StopInputs, began time.Time) StopPlan {
	p := StopPlan{Began: began, Grace: in.Grace, GraceFrom: in.GraceFrom, KillAt: in.Grace - killMargin(in.Grace)}
	if in.HasSteps {
		p.AppShare = max(p.KillAt-in.StopTimeout, 0)
		p.StepsEnd = p.AppShare
		if !in.StepsOpen {
			p.StepsEnd = min(in.Steps, p.AppShare)
		}
	}
	if in.StopTimeoutGiven {
		p.AppTimeout = in.StopTimeout
	}
	return p
}

// KillFor is when the SIGKILL comes if the signal is forwarded at forward.
func (p StopPlan) KillFor(forward time.Duration) time.Duration {
	if p.AppTimeout > 0 {
		return min(forward+p.AppTimeout, p.KillAt)
	}
	return p.KillAt
}

// killMargin is how long before the end of the grace period drainit sends
// its own SIGKILL.
func killMargin(grace time.Duration) time.Duration {
	return min(time.Second, grace/5)
}

// Not every step obeys its context at once: drainOverdue is how long past
// the app's share the steps may take to return before the signal is
// forwarded without them. killGrace bounds the wait for processes already
// sent SIGKILL (one stuck in uninterruptible sleep must not hold drainit
// forever).
const (
	drainOverdue = 500 * time.Millisecond
	killGrace    = 5 * time.Second
)

// phase is where the stop is.
type phase int

const (
	running  phase = iota // no stop yet (the child may have exited: the tree wait)
	draining              // the drain steps run
	stopping              // the stop signal was forwarded, or the drain ended with the child gone
	killing               // the tree was sent SIGKILL
	gaveUp                // processes outlived SIGKILL by killGrace: drainit exits anyway
)

func (p phase) String() string {
	return [...]string{"running", "draining", "stopping", "killing", "gave up"}[p]
}

// action is what the supervisor does at a deadline.
type action int

const (
	noAction   action = iota
	cutSteps          // the app's share has begun: stop the steps
	forwardNow        // the steps overran their cut: forward without them
	killTree          // SIGKILL what is left
	giveUp            // exit with processes still there
)

// timeline is the stop's plan and what has happened.
type timeline struct {
	stopTimeout time.Duration // the tree's time once the child has exited
	noStopKill  bool          // tini, dumb-init: a forwarded stop arms no SIGKILL

	phase     phase
	plan      StopPlan // zero until a stop begins
	withDrain bool
	cut       bool // the steps were told to stop
	forwarded time.Time
	childExit time.Time
	killed    time.Time
}

func (t *timeline) stopBegun() bool { return !t.plan.Began.IsZero() }

// since is the time from the stop's start, for the log.
func (t *timeline) since(now time.Time) time.Duration {
	return now.Sub(t.plan.Began).Round(time.Millisecond)
}

func (t *timeline) beginStop(p StopPlan, withDrain bool) {
	t.plan, t.withDrain = p, withDrain
	t.phase = stopping
	if withDrain {
		t.phase = draining
	}
}

// replan takes a plan for the same stop from a later reading of the
// deadline (the pod's); what has happened stands.
func (t *timeline) replan(p StopPlan) {
	p.Began = t.plan.Began
	t.plan = p
}

func (t *timeline) forward(now time.Time) {
	t.phase, t.forwarded = stopping, now
}

// cutSteps: the steps were told to stop at the app's share.
func (t *timeline) cutSteps() { t.cut = true }

// giveUp: processes outlived drainit's SIGKILL; drainit exits.
func (t *timeline) giveUp() { t.phase = gaveUp }

func (t *timeline) endDrain() {
	if t.phase == draining {
		t.phase = stopping
	}
}

func (t *timeline) exited(now time.Time) { t.childExit = now }

func (t *timeline) kill(now time.Time) { t.phase, t.killed = killing, now }

// next is the next deadline and what to do then; noAction when nothing is
// due (the app has as long as it takes).
func (t *timeline) next() (time.Time, action) {
	switch t.phase {
	case draining:
		if !t.cut {
			return t.plan.Began.Add(t.plan.AppShare), cutSteps
		}
		return t.plan.Began.Add(t.plan.AppShare + drainOverdue), forwardNow
	case killing:
		return t.killed.Add(killGrace), giveUp
	case gaveUp:
		return time.Time{}, noAction
	}
	var kill time.Time
	// tini and dumb-init never kill an app slow to act on a forwarded stop
	// signal; a drain of drainit's own keeps to the grace period.
	if t.stopBegun() && (t.withDrain || !t.noStopKill || !t.childExit.IsZero()) {
		at := t.plan.KillAt
		if !t.forwarded.IsZero() {
			at = t.plan.KillFor(t.forwarded.Sub(t.plan.Began))
		}
		kill = t.plan.Began.Add(at)
	}
	if !t.childExit.IsZero() {
		kill = earliest(kill, t.childExit.Add(t.stopTimeout))
	}
	if kill.IsZero() {
		return time.Time{}, noAction
	}
	return kill, killTree
}

// earliest of two times, a zero one being none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
