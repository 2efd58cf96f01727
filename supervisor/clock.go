package supervisor

import "time"

// StopPlan is when drainit acts after a drain signal, counted from it. One
// computation: drainit check prints it and the supervisor follows it.
type StopPlan struct {
	Grace time.Duration // the pod's grace period; the kubelet SIGKILLs at its end
	// KillAt is drainit's own SIGKILL of whatever is left, shortly before
	// the kubelet's, so its last lines and exit code get out.
	KillAt time.Duration
	// StepsBy is when the drain steps end at the latest, and the signal is
	// forwarded: the steps' own budget, but never into the app's share.
	StepsBy time.Duration
	// AppTimeout, when set (an explicit stop timeout), kills the tree that
	// long after the forward; otherwise only KillAt applies and the app has
	// all the time the kubelet would give it.
	AppTimeout time.Duration
}

// PlanStop plans a stop from the grace period, the stop timeout (given
// says whether the user set it) and how long the drain steps may take. An
// unset stop timeout still keeps its default as the app's share, which the
// steps may not eat.
func PlanStop(grace, stopTimeout time.Duration, given bool, steps time.Duration) StopPlan {
	p := StopPlan{Grace: grace, KillAt: grace - KillMargin(grace)}
	p.StepsBy = min(steps, max(p.KillAt-stopTimeout, 0))
	if given {
		p.AppTimeout = stopTimeout
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

// KillMargin is how long before the end of the grace period drainit sends
// its own SIGKILL, so its last log lines and exit code get out before the
// kubelet's.
func KillMargin(grace time.Duration) time.Duration {
	return min(time.Second, grace/5)
}
