package hooks

import (
	"context"
	"fmt"
	"time"

	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/internal/sockdiag"
)

// watch is one run of the quiet step: it polls the app's inbound traffic
// until callers have been silent for the quiet time, the maximum, or the
// drain's own end.
type watch struct {
	step  *quietStep
	env   *runEnv
	src   sockdiag.Source
	query sockdiag.Query
	t     *tracker
	ender *connEnder // nil: kept-alive connections are left alone

	began, lastTraffic time.Time
	counters           sockdiag.Counters // at the last read of the table
	pause              time.Duration
	before             beforeTraffic
	baseline           int // caller events seen in the step's first busyAfter, and just before it
	warned             bool
}

func (w *watch) run(ctx context.Context) error {
	w.t.windowFor = max(w.step.quiet, busyAfter)
	w.pause = quietPoll
	for {
		if !sleepCtx(ctx, w.pause) {
			return w.ended(ctx)
		}
		events, err := w.poll(ctx)
		if err != nil {
			return err
		}
		now := time.Now()
		if events > 0 {
			w.lastTraffic = now
			if now.Sub(w.began) <= busyAfter {
				w.baseline += events
			}
		}
		if w.busy(ctx, now) && now.Sub(w.lastTraffic) >= w.step.quiet {
			w.env.log.Log(ctx, logging.LevelNotice, logging.QuietStopped, append([]any{"quiet_for", w.step.quiet,
				"last_traffic_at", w.since(w.lastTraffic), "peers", len(w.t.peers),
				"connections_seen_only_in_counters", w.t.unattribute}, append(w.dealtWith(), "took", since(w.began))...)...)
			w.env.tell(fmt.Sprintf("callers silent for %s from +%s; %s", w.step.quiet, w.since(w.lastTraffic), w.summary()))
			return nil
		}
	}
}

// poll reads the table when a segment has arrived in the namespace since
// the last read (its counters moved), and returns the caller events seen.
// Unmoved counters mean no traffic at all, at the cost of one small read;
// the table is read all the same while a kept-alive connection waits to be
// ended, as it is idle just when nothing arrives.
func (w *watch) poll(ctx context.Context) (int, error) {
	c := w.step.counters()
	if c == w.counters && c != (sockdiag.Counters{}) && !w.ender.waiting() {
		w.t.nothing()
		return 0, nil
	}
	read := time.Now()
	socks, err := w.src.Dump(w.query)
	if err != nil {
		return 0, fmt.Errorf("reading the socket table (%s): %w", w.src.Name(), err)
	}
	w.pause = max(quietPoll, pollSpacing*time.Since(read))
	w.counters = c
	unattributed := w.t.unattribute
	events := w.t.observe(socks, w.step.opens(c))
	if events > 0 {
		w.env.log.Debug(logging.QuietTraffic, "events", events, "seen_only_in_counters", w.t.unattribute-unattributed,
			"peers", w.t.lastPeers(), "at", since(w.began))
	}
	w.ender.poll(ctx, w.env, w.t, socks, time.Now())
	return events, nil
}

// busy says whether callers were busy enough before the drain for silence
// to mean they have gone; when not, it says so once.
func (w *watch) busy(ctx context.Context, now time.Time) bool {
	if w.before.sampled && w.before.seconds >= busyAfter/2 {
		busy := w.before.busy()
		if !busy {
			w.warnIdle(ctx, "segments_before", w.before.segments, "accepted_before", w.before.opens,
				"app_connections_before", w.before.appEvents, "over", w.before.seconds.Round(100*time.Millisecond))
		}
		return busy
	}
	busy := w.baseline >= busyEvents
	if !busy && now.Sub(w.began) > busyAfter {
		w.warnIdle(ctx, "events_first_second", w.baseline)
	}
	return busy
}

func (w *watch) warnIdle(ctx context.Context, attrs ...any) {
	if w.warned {
		return
	}
	w.warned = true
	w.env.log.Log(ctx, logging.LevelNotice, logging.QuietTooIdle, attrs...)
}

// dealtWith is what the step did with traffic that is not callers', for
// the log: the probes it let pass and the kept-alive connections.
func (w *watch) dealtWith() []any {
	attrs := []any{"probes_passed", w.t.probeCount, "kept_alive", w.ender.way()}
	if w.ender != nil {
		attrs = append(attrs, "connections_ended", w.ender.ended)
	}
	return attrs
}

// summary is dealtWith for the Event.
func (w *watch) summary() string {
	text := "kept-alive connections " + w.ender.way()
	if w.ender != nil && w.ender.refused == nil {
		text = fmt.Sprintf("%d idle kept-alive connection(s) ended", w.ender.ended)
	}
	if w.t.probes == nil {
		return text + "; probes not told apart (the pod was not read)"
	}
	return fmt.Sprintf("%s; %d probe(s) passed", text, w.t.probeCount)
}

// ended logs the step's end by its maximum (not a failure: traffic that
// never stops, such as a stream, is what the maximum is for) or by the
// drain's own cut, with the traffic of the last quiet time, and reports
// the cut.
func (w *watch) ended(ctx context.Context) error {
	events, peers, bytes := w.t.recent(w.step.quiet)
	rate := int64(float64(bytes) / w.step.quiet.Seconds())
	traffic := append([]any{"last_traffic_at", w.since(w.lastTraffic), "events", events, "peers", peers,
		"bytes_per_second", rate, "over_last", w.step.quiet}, w.dealtWith()...)
	atMax := w.step.max > 0 && time.Since(w.began) >= w.step.max-100*time.Millisecond
	switch {
	case atMax && w.warned:
		w.env.log.Log(context.Background(), logging.LevelNotice, logging.QuietMaxIdle, append([]any{"max", w.step.max}, traffic...)...)
		w.env.tell(fmt.Sprintf("reached its maximum: too little traffic before the drain to trust a silence; %s", w.summary()))
		return nil
	case atMax:
		w.env.log.Log(context.Background(), logging.LevelNotice, logging.QuietMaxBusy, append([]any{"max", w.step.max}, traffic...)...)
		w.env.tell(fmt.Sprintf("reached its maximum with callers still sending (%d peer(s), %d B/s over the last %s); %s",
			peers, rate, w.step.quiet, w.summary()))
		return nil
	}
	w.env.log.Log(context.Background(), logging.LevelNotice, logging.QuietCut, traffic...)
	return ctx.Err()
}

func (w *watch) since(t time.Time) time.Duration { return t.Sub(w.began).Round(time.Millisecond) }
