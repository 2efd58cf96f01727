package supervisor

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestPlanStop(t *testing.T) {
	tests := []struct {
		name string
		in   StopInputs
		want StopPlan
	}{
		{"no steps, no stop timeout: kill a second before the grace ends",
			StopInputs{Grace: 30 * time.Second, StopTimeout: 10 * time.Second},
			StopPlan{Grace: 30 * time.Second, KillAt: 29 * time.Second}},
		{"steps that fit, an explicit stop timeout",
			StopInputs{Grace: time.Minute, StopTimeout: 15 * time.Second, StopTimeoutGiven: true, Steps: 40 * time.Second, HasSteps: true},
			StopPlan{Grace: time.Minute, KillAt: 59 * time.Second, AppShare: 44 * time.Second, StepsEnd: 40 * time.Second, AppTimeout: 15 * time.Second}},
		{"steps that do not fit: cut where the app's share begins",
			StopInputs{Grace: 20 * time.Second, StopTimeout: 10 * time.Second, Steps: 35 * time.Second, HasSteps: true},
			StopPlan{Grace: 20 * time.Second, KillAt: 19 * time.Second, AppShare: 9 * time.Second, StepsEnd: 9 * time.Second}},
		{"a step with no end of its own (quiet without max)",
			StopInputs{Grace: 20 * time.Second, StopTimeout: 10 * time.Second, Steps: time.Second, StepsOpen: true, HasSteps: true},
			StopPlan{Grace: 20 * time.Second, KillAt: 19 * time.Second, AppShare: 9 * time.Second, StepsEnd: 9 * time.Second}},
		{"a short grace period: a fifth of it as the margin",
			StopInputs{Grace: 2 * time.Second, StopTimeout: time.Second, HasSteps: true},
			StopPlan{Grace: 2 * time.Second, KillAt: 1600 * time.Millisecond, AppShare: 600 * time.Millisecond}},
		{"a stop timeout that fills the grace period leaves the steps nothing",
			StopInputs{Grace: 5 * time.Second, StopTimeout: 5 * time.Second, Steps: time.Second, HasSteps: true},
			StopPlan{Grace: 5 * time.Second, KillAt: 4 * time.Second}},
	}
	for _, tt := range tests {
		tt.want.Began = t0
		if got := PlanStop(tt.in, t0); got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

// The next deadline, from the plan and what has happened, at each phase.
func TestTimelineNext(t *testing.T) {
	drain := PlanStop(StopInputs{Grace: time.Minute, StopTimeout: 15 * time.Second, StopTimeoutGiven: true,
		Steps: 40 * time.Second, HasSteps: true}, t0)
	noTimeout := PlanStop(StopInputs{Grace: 30 * time.Second, StopTimeout: 10 * time.Second}, t0)
	type step func(*timeline)
	tests := []struct {
		name       string
		noStopKill bool
		steps      []step
		at         time.Time
		act        action
	}{
		{"nothing yet", false, nil, time.Time{}, noAction},
		{"the child exited, no stop: the tree's stop timeout", false,
			[]step{func(tl *timeline) { tl.exited(at(3 * time.Second)) }}, at(13 * time.Second), killTree},
		{"draining: cut the steps where the app's share begins", false,
			[]step{func(tl *timeline) { tl.beginStop(drain, true) }}, at(44 * time.Second), cutSteps},
		{"draining, cut: forward without the steps once overdue", false,
			[]step{func(tl *timeline) { tl.beginStop(drain, true); tl.cut = true }}, at(44*time.Second + drainOverdue), forwardNow},
		{"a shorter deadline read from the pod: the cut comes earlier", false,
			[]step{func(tl *timeline) {
				tl.beginStop(drain, true)
				tl.replan(PlanStop(StopInputs{Grace: 5 * time.Second, StopTimeout: 15 * time.Second, StopTimeoutGiven: true,
					Steps: 40 * time.Second, HasSteps: true}, at(time.Hour)))
			}}, at(0), cutSteps},
		{"after the pod's shorter deadline: the kill a second before it", false,
			[]step{func(tl *timeline) {
				tl.beginStop(drain, true)
				tl.replan(PlanStop(StopInputs{Grace: 5 * time.Second, StopTimeout: 15 * time.Second, StopTimeoutGiven: true,
					Steps: 40 * time.Second, HasSteps: true}, t0))
				tl.endDrain()
				tl.forward(at(500 * time.Millisecond))
			}}, at(4 * time.Second), killTree},
		{"forwarded at 40s: the stop timeout after it", false,
			[]step{func(tl *timeline) { tl.beginStop(drain, true); tl.endDrain(); tl.forward(at(40 * time.Second)) }},
			at(55 * time.Second), killTree},
		{"forwarded at 2s: still the stop timeout after it", false,
			[]step{func(tl *timeline) { tl.beginStop(drain, true); tl.endDrain(); tl.forward(at(2 * time.Second)) }},
			at(17 * time.Second), killTree},
		{"forwarded late: never past the grace period's margin", false,
			[]step{func(tl *timeline) { tl.beginStop(drain, true); tl.endDrain(); tl.forward(at(50 * time.Second)) }},
			at(59 * time.Second), killTree},
		{"no stop timeout set: the grace period's end", false,
			[]step{func(tl *timeline) { tl.beginStop(noTimeout, false); tl.forward(t0) }}, at(29 * time.Second), killTree},
		{"no stop timeout, then the child exits: the tree's time, if earlier", false,
			[]step{func(tl *timeline) { tl.beginStop(noTimeout, false); tl.forward(t0); tl.exited(at(time.Second)) }},
			at(11 * time.Second), killTree},
		{"the child exits near the end: the grace period still wins", false,
			[]step{func(tl *timeline) { tl.beginStop(noTimeout, false); tl.forward(t0); tl.exited(at(25 * time.Second)) }},
			at(29 * time.Second), killTree},
		{"tini's forwarded stop arms nothing", true,
			[]step{func(tl *timeline) { tl.beginStop(noTimeout, false); tl.forward(t0) }}, time.Time{}, noAction},
		{"tini's tree wait is still bounded", true,
			[]step{func(tl *timeline) { tl.beginStop(noTimeout, false); tl.forward(t0); tl.exited(at(time.Second)) }},
			at(11 * time.Second), killTree},
		{"killed: give up after the kill's grace", false,
			[]step{func(tl *timeline) { tl.beginStop(noTimeout, false); tl.forward(t0); tl.kill(at(29 * time.Second)) }},
			at(29*time.Second + killGrace), giveUp},
	}
	for _, tt := range tests {
		tl := &timeline{stopTimeout: 10 * time.Second, noStopKill: tt.noStopKill}
		for _, s := range tt.steps {
			s(tl)
		}
		if gotAt, gotAct := tl.next(); !gotAt.Equal(tt.at) || gotAct != tt.act {
			t.Errorf("%s: next %v at %v, want %v at %v (phase %v)", tt.name, gotAct, gotAt.Sub(t0), tt.act, tt.at.Sub(t0), tl.phase)
		}
	}
}
