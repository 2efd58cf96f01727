package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// podJSON is what drainit reads of its pod.
type podJSON struct {
	Metadata struct {
		UID                        string     `json:"uid"`
		DeletionTimestamp          *time.Time `json:"deletionTimestamp"`
		DeletionGracePeriodSeconds *int64     `json:"deletionGracePeriodSeconds"`
	} `json:"metadata"`
	Spec struct {
		TerminationGracePeriodSeconds *int64          `json:"terminationGracePeriodSeconds"`
		Containers                    []containerJSON `json:"containers"`
	} `json:"spec"`
	Status struct {
		HostIP string `json:"hostIP"`
	} `json:"status"`
}

// Deadline is the kubelet's SIGKILL at the earliest, on this node's clock,
// and what it was read from.
type Deadline struct {
	At      time.Time
	From    string
	UID     string  // the pod's, for the Events
	Traffic Traffic // what else the pod says: the node's address and the probes
}

// Deadline reads the pod when its stop has begun (began, on this node's
// clock). A deleted pod (kubectl delete, a rollout, an eviction, a drain)
// has a deletionTimestamp: its grace period's end, no earlier than which
// the kubelet SIGKILLs, written by the API server's clock. That clock may
// not be this node's: the answer's Date (whole seconds) bounds how far
// ahead of ours it can be, and the deadline is moved earlier by that much.
// A pod not deleted (a container restarted after a failed liveness probe)
// has its spec's grace period, counted from began.
func (c *Client) Deadline(ctx context.Context, began time.Time) (Deadline, error) {
	sent := time.Now()
	data, date, err := c.call(ctx, "GET", "/api/v1/namespaces/"+c.namespace+"/pods/"+c.pod, nil, "")
	if err != nil {
		return Deadline{}, fmt.Errorf("reading pod %s: %w", c.Pod(), err)
	}
	var p podJSON
	if err := json.Unmarshal(data, &p); err != nil {
		return Deadline{}, fmt.Errorf("reading pod %s: %w", c.Pod(), err)
	}
	d, err := deadlineOf(p, date, sent, began)
	d.Traffic = trafficOf(p)
	return d, err
}

func deadlineOf(p podJSON, date, sent, began time.Time) (Deadline, error) {
	d := Deadline{UID: p.Metadata.UID}
	switch {
	case p.Metadata.DeletionTimestamp != nil:
		// The server wrote Date after we sent, truncated to the second: its
		// clock is at most Date+1s-sent ahead of ours.
		ahead := time.Duration(0)
		skew := "no Date in the answer: clocks taken as equal"
		if !date.IsZero() {
			ahead = date.Add(time.Second).Sub(sent)
			skew = fmt.Sprintf("the API server's clock at most %s ahead of this node's", ahead.Round(time.Millisecond))
		}
		d.At = p.Metadata.DeletionTimestamp.Add(-ahead)
		grace := "?"
		if g := p.Metadata.DeletionGracePeriodSeconds; g != nil {
			grace = fmt.Sprintf("%ds", *g)
		}
		d.From = fmt.Sprintf("the pod: deleted with a %s grace period, deletionTimestamp %s; %s",
			grace, p.Metadata.DeletionTimestamp.UTC().Format(time.RFC3339), skew)
	case p.Spec.TerminationGracePeriodSeconds != nil:
		g := *p.Spec.TerminationGracePeriodSeconds
		d.At = began.Add(time.Duration(g) * time.Second)
		d.From = fmt.Sprintf("the pod: not deleted (a container restart), terminationGracePeriodSeconds %d", g)
	default:
		return d, fmt.Errorf("the pod has neither a deletionTimestamp nor a terminationGracePeriodSeconds")
	}
	return d, nil
}
