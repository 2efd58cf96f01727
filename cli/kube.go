package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/drainit/drainit/hooks"
	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/kube"
	"github.com/drainit/drainit/supervisor"
)

// podHooks connects the stop to drainit's own pod, when it runs in one
// whose service account is mounted: the real deadline read when the stop
// begins, and the stop told as Events on the pod. Outside a pod, or
// without the permissions, drainit works as configured and says so in one
// debug line.
type podHooks struct {
	client *kube.Client
	plan   *hooks.Plan
	log    *slog.Logger

	mu      sync.Mutex
	uid     string        // the pod's, from the read
	read    chan struct{} // closed once the pod has been read (or the read failed)
	once    sync.Once
	posts   sync.WaitGroup // Events being posted
	traffic hooks.PodTraffic
	readErr error
}

func newPodHooks(s *settings, environ map[string]string, plan *hooks.Plan, log *slog.Logger) *podHooks {
	if !s.Kubernetes {
		return nil
	}
	client, err := kube.FromEnvironment(environ)
	if err != nil {
		log.Debug(logging.PodNotRead, "reason", err)
		return nil
	}
	return &podHooks{client: client, plan: plan, log: log, read: make(chan struct{})}
}

// wire sets the supervisor's Deadline and Report, and tells the drain's
// end as it comes.
func (h *podHooks) wire(cfg *supervisor.Config) {
	if h == nil {
		return
	}
	cfg.Deadline, cfg.Report = h.deadline, h.report
	h.plan.Pod = h.podTraffic
	h.plan.Done = h.drained
}

// eventTime bounds each Event posted while the stop goes on; the last
// ones, at the exit, have what the supervisor leaves them (reportTime).
const eventTime = 2 * time.Second

// post sends events in the background: the stop does not wait for them,
// the report at the exit does (bounded).
func (h *podHooks) post(events ...kube.Event) {
	h.posts.Add(1)
	go func() {
		defer h.posts.Done()
		ctx, cancel := context.WithTimeout(context.Background(), eventTime)
		defer cancel()
		h.send(ctx, events)
	}()
}

// send posts events in order; it stops at the first refusal, said once.
func (h *podHooks) send(ctx context.Context, events []kube.Event) {
	h.mu.Lock()
	uid := h.uid
	h.mu.Unlock()
	for _, e := range events {
		err := h.client.Post(ctx, uid, e)
		switch {
		case kube.Forbidden(err):
			h.log.Debug(logging.EventNotSent, "reason", err, "hint", "give the pod's service account create, get and patch on events")
			return
		case err != nil:
			h.log.Debug(logging.EventNotSent, "event", e.Reason, "reason", err)
			return
		}
		h.log.Debug(logging.EventPosted, "event", e.Reason)
	}
}

func (h *podHooks) deadline(ctx context.Context, began time.Time) (time.Time, string, error) {
	d, err := h.client.Deadline(ctx, began)
	if kube.Forbidden(err) {
		err = fmt.Errorf("%w: give the pod's service account get on pods (see the README's Role)", err)
	}
	h.mu.Lock()
	h.uid = d.UID
	h.traffic = podTraffic(d.Traffic)
	if d.UID == "" {
		h.readErr = err
	}
	h.mu.Unlock()
	h.once.Do(func() { close(h.read) })
	if d.UID != "" && len(h.plan.Steps) > 0 {
		h.post(drainingEvent(h.plan, d))
	}
	return d.At, d.From, err
}

// drained tells how each step went, as soon as the drain ends.
func (h *podHooks) drained(steps []hooks.Result) { h.post(drainedEvents(steps)...) }

// report waits for the Events under way and posts the stop's end: how the
// app exited, and a Warning for a cut drain or a SIGKILL.
func (h *podHooks) report(ctx context.Context, r supervisor.StopReport) {
	done := make(chan struct{})
	go func() { h.posts.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return
	}
	h.send(ctx, stopEvents(r))
}

// podTraffic waits for the pod's read, begun with the stop.
func (h *podHooks) podTraffic(ctx context.Context) (hooks.PodTraffic, error) {
	select {
	case <-h.read:
	case <-ctx.Done():
		return hooks.PodTraffic{}, fmt.Errorf("reading the pod: %w", ctx.Err())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.traffic, h.readErr
}

// podTraffic is what the quiet step needs of the pod's read.
func podTraffic(t kube.Traffic) hooks.PodTraffic {
	var out hooks.PodTraffic
	if t.HostIP.IsValid() {
		out.Node = append(out.Node, t.HostIP)
	}
	for _, p := range t.Probes {
		out.Probes = append(out.Probes, hooks.Probe{Port: p.Port, Period: p.Period, Timeout: p.Timeout})
	}
	return out
}

// drainingEvent says the drain has begun, with its steps and the deadline
// read from the pod.
func drainingEvent(plan *hooks.Plan, d kube.Deadline) kube.Event {
	var steps []string
	for _, s := range plan.Steps {
		steps = append(steps, s.String())
	}
	return kube.Event{Type: "Normal", Reason: "Draining", Message: fmt.Sprintf("drain of %d step(s): %s; the kubelet's SIGKILL at %s",
		len(steps), strings.Join(steps, "; "), d.At.UTC().Format(time.RFC3339))}
}

// drainedEvents word how the steps went, and a Warning for each that failed.
func drainedEvents(steps []hooks.Result) []kube.Event {
	var b strings.Builder
	fmt.Fprintf(&b, "drain of %d step(s):", len(steps))
	for _, s := range steps {
		outcome := "ok"
		switch {
		case s.Cut:
			outcome = "cut short"
		case s.Err != nil:
			outcome = "failed"
		}
		fmt.Fprintf(&b, " %s %s in %s", s.Step, outcome, s.Took)
		if s.Note != "" {
			fmt.Fprintf(&b, " (%s)", s.Note)
		}
		b.WriteString(";")
	}
	events := []kube.Event{{Type: "Normal", Reason: "Drained", Message: strings.TrimSuffix(b.String(), ";")}}
	for _, s := range steps {
		if s.Err != nil && !s.Cut {
			events = append(events, kube.Event{Type: "Warning", Reason: "DrainStepFailed", Message: fmt.Sprintf("%s failed after %s: %v", s.Step, s.Took, s.Err)})
		}
	}
	return events
}

// stopEvents word the stop's end for kubectl describe pod.
func stopEvents(r supervisor.StopReport) []kube.Event {
	var b strings.Builder
	if r.ForwardOK {
		fmt.Fprintf(&b, "%s forwarded at +%s; ", r.Signal, r.Forwarded)
	}
	fmt.Fprintf(&b, "the app exited %d at +%s; grace period %s (%s)", r.ChildExit, r.ExitedAt, r.Plan.Grace.Round(time.Millisecond), r.Plan.GraceFrom)
	events := []kube.Event{{Type: "Normal", Reason: "Stopped", Message: b.String()}}
	if r.Cut != nil && !errors.Is(r.Cut, supervisor.ErrChildExited) {
		events = append(events, kube.Event{Type: "Warning", Reason: "DrainCutShort", Message: "the drain was cut short: " + r.Cut.Error()})
	}
	if r.Killed > 0 {
		events = append(events, kube.Event{Type: "Warning", Reason: "Killed", Message: fmt.Sprintf(
			"drainit sent SIGKILL to %d process(es) at +%s, %s before the grace period's end: the app did not exit after %s",
			r.Killed, r.KilledAt, (r.Plan.Grace - r.KilledAt).Round(time.Millisecond), r.Signal)})
	}
	return events
}
