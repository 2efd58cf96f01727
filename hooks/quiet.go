package hooks

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/internal/sockdiag"
)

// quietStep waits until the app's callers have stopped: no caller traffic
// for quiet, and at most max. Traffic is a new inbound connection to one of
// the app's listening sockets, or bytes arriving on a connection accepted
// from one (a caller reusing a kept-alive connection counts; an idle pooled
// one does not), read from the kernel's socket table of the namespace
// drainit shares with the app. Peers to ignore (the kubelet's probes from
// $HOST_IP, DRAINIT_QUIET_IGNORE) are not callers.
type quietStep struct {
	quiet, max time.Duration // max 0: the rest of the steps' budget
	ignore     ignoreList
	source     string // "" (netlink, else /proc), "netlink" or "proc": DRAINIT_QUIET_SOURCE
	noOpens    bool   // DRAINIT_QUIET_OPENS=false: the namespace is shared beyond the pod

	mu         sync.Mutex
	before     []int    // caller events in each of the last seconds before the drain (Start)
	sampler    *tracker // Start's, once the app listens
	lastSample time.Time
}

const (
	// defaultQuiet: kube-proxy syncs within about a second and callers that
	// refresh every 1-2 s have moved on after 3 s; silence any shorter
	// proves little (see docs/drain.md).
	defaultQuiet = 3 * time.Second
	// quietPoll: a connection opened and closed between two polls is seen
	// only if it lingers on the app's side (TIME_WAIT when the app closed
	// first, or a closing state), so polls are frequent; each waits at least
	// pollSpacing times the last read, to keep the cost near a tenth of a
	// core on a busy node.
	quietPoll   = 20 * time.Millisecond
	pollSpacing = 10
	// The traffic before the drain must reach about one caller event a
	// second, over the last beforeWindow (sampled each second from the
	// app's start), for silence to mean the callers have gone rather than
	// that they were idle. Without samples (a drain right after the start),
	// the connections with data in the last busyAfter and the traffic of the
	// first busyAfter of the step must reach busyEvents.
	beforeWindow = 10
	busyAfter    = time.Second
	busyEvents   = 2
)

func parseQuiet(args []string, environ map[string]string) (Step, error) {
	s := &quietStep{quiet: defaultQuiet, source: environ["DRAINIT_QUIET_SOURCE"]}
	switch environ["DRAINIT_QUIET_OPENS"] {
	case "", "true":
	case "false":
		s.noOpens = true
	default:
		return nil, fmt.Errorf("DRAINIT_QUIET_OPENS=%q: want true or false", environ["DRAINIT_QUIET_OPENS"])
	}
	rest := args
	if len(rest) > 0 && rest[0] != "max" {
		d, err := positiveDuration(rest[0])
		if err != nil {
			return nil, err
		}
		s.quiet, rest = d, rest[1:]
	}
	if len(rest) > 0 {
		if rest[0] != "max" || len(rest) != 2 {
			return nil, errors.New("want quiet [DURATION] [max DURATION]")
		}
		d, err := positiveDuration(rest[1])
		if err != nil {
			return nil, err
		}
		if d < s.quiet {
			return nil, fmt.Errorf("max %s is shorter than the quiet time %s", d, s.quiet)
		}
		s.max = d
	}
	switch s.source {
	case "", "netlink", "proc":
	default:
		return nil, fmt.Errorf("DRAINIT_QUIET_SOURCE=%q: want netlink or proc", s.source)
	}
	var err error
	s.ignore, err = parseIgnore(environ["HOST_IP"], environ["DRAINIT_QUIET_IGNORE"])
	return s, err
}

func positiveDuration(text string) (time.Duration, error) {
	d, err := time.ParseDuration(text)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration (like 3s)", text)
	}
	return d, nil
}

func (s *quietStep) String() string {
	if s.max == 0 {
		return fmt.Sprintf("quiet %s (at most the rest of the steps' budget)", s.quiet)
	}
	return fmt.Sprintf("quiet %s max %s", s.quiet, s.max)
}

// Budget is max; without one, the step runs until the drain's own deadline.
func (s *quietStep) Budget(time.Duration) time.Duration { return s.max }

func (s *quietStep) open() sockdiag.Source {
	switch s.source {
	case "netlink":
		return sockdiag.Netlink{}
	case "proc":
		return sockdiag.Proc{}
	}
	return sockdiag.Open()
}

func (s *quietStep) Run(ctx context.Context, env *runEnv) error {
	src := s.open()
	began := time.Now()
	socks, err := src.Dump()
	if err != nil {
		return fmt.Errorf("reading the socket table (%s): %w", src.Name(), err)
	}
	t := newTracker(appPorts(socks, env.app.SocketInodes()), s.ignore)
	if len(t.ports) == 0 {
		return errors.New("the app holds no listening TCP socket: no callers to wait for")
	}
	env.log.Log(ctx, logging.LevelNotice, "quiet: watching the app's inbound traffic", "source", src.Name(), "ports", t.portList(), "quiet", s.quiet)
	baseline := t.recentAtStart(socks)
	opens := s.passiveOpens()
	t.observe(socks, opens)
	before, seconds := s.trafficBefore(socks, opens)
	lastTraffic, warned, pause := began, false, quietPoll
	for {
		if !sleepCtx(ctx, pause) {
			return s.ended(ctx, env, t, began, lastTraffic)
		}
		read := time.Now()
		opens := s.passiveOpens()
		socks, err := src.Dump()
		if err != nil {
			return fmt.Errorf("reading the socket table (%s): %w", src.Name(), err)
		}
		now := time.Now()
		pause = max(quietPoll, pollSpacing*now.Sub(read))
		if events := t.observe(socks, opens); events > 0 {
			lastTraffic = now
			if now.Sub(began) <= busyAfter {
				baseline += events
			}
		}
		busy := baseline >= busyEvents
		if seconds >= 0.5 {
			busy = float64(before) >= seconds
		}
		if !busy && !warned && (seconds >= 0.5 || now.Sub(began) > busyAfter) {
			warned = true
			env.log.Log(ctx, logging.LevelNotice, "quiet: too little traffic before the drain to tell callers gone from idle; waiting for the maximum",
				"events_before", before, "seconds_before", seconds, "events_first_second", baseline)
		}
		if busy && now.Sub(lastTraffic) >= s.quiet {
			env.log.Log(ctx, logging.LevelNotice, "quiet: callers have stopped", "quiet_for", s.quiet,
				"last_traffic_at", lastTraffic.Sub(began).Round(time.Millisecond), "last_peers", t.lastPeers, "took", since(began))
			return nil
		}
	}
}

// ended logs the step's end by its maximum (not a failure: traffic that
// never stops, such as a stream, is what the maximum is for) or reports
// the drain's own cut.
func (s *quietStep) ended(ctx context.Context, env *runEnv, t *tracker, began, lastTraffic time.Time) error {
	if s.max > 0 && time.Since(began) >= s.max-100*time.Millisecond {
		env.log.Log(context.Background(), logging.LevelNotice, "quiet: maximum reached with callers still sending",
			"max", s.max, "last_traffic_at", lastTraffic.Sub(began).Round(time.Millisecond),
			"peers", t.lastPeers, "bytes_per_second", t.recentRate())
		return nil
	}
	return ctx.Err()
}

// passiveOpens is the namespace's count of accepted connections, or 0 (the
// table alone) where it cannot be read or is not the pod's own.
func (s *quietStep) passiveOpens() uint64 {
	if s.noOpens {
		return 0
	}
	n, _ := sockdiag.PassiveOpens()
	return n
}

// trafficBefore is the caller events over the time sampled before the
// drain (up to beforeWindow seconds, and the part second since the last
// sample, read from the drain's first snapshot).
func (s *quietStep) trafficBefore(socks []sockdiag.Socket, opens uint64) (events int, seconds float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sampler == nil {
		return 0, 0
	}
	for _, n := range s.before {
		events += n
	}
	events += s.sampler.observe(socks, opens)
	return events, float64(len(s.before)) + time.Since(s.lastSample).Seconds()
}

// Start samples the app's inbound traffic once a second while the app
// runs, until the drain begins, so the drain knows how busy callers were
// just before it.
func (s *quietStep) Start(ctx context.Context, env *runEnv) {
	src := s.open()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		opens := s.passiveOpens()
		socks, err := src.Dump()
		if err == nil {
			s.sample(env, socks, opens)
		}
	}
}

func (s *quietStep) sample(env *runEnv, socks []sockdiag.Socket, opens uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sampler == nil || len(s.sampler.ports) == 0 { // the app may not listen yet
		s.sampler = newTracker(appPorts(socks, env.app.SocketInodes()), s.ignore)
		s.sampler.observe(socks, opens)
		s.lastSample = time.Now()
		return
	}
	s.before = append(s.before, s.sampler.observe(socks, opens))
	if len(s.before) > beforeWindow {
		s.before = s.before[1:]
	}
	s.lastSample = time.Now()
}

// appPorts are the ports of the app's listening sockets: those whose inode
// the app's processes hold (a sidecar sharing the namespace is not the app).
func appPorts(socks []sockdiag.Socket, inodes map[uint32]bool) map[uint16]bool {
	ports := map[uint16]bool{}
	for _, s := range socks {
		if s.State == sockdiag.Listen && inodes[s.Inode] {
			ports[s.Local.Port()] = true
		}
	}
	return ports
}

// ignoreList is what is not callers' traffic: peer addresses and prefixes,
// and local ports (a probe's or an admin port).
type ignoreList struct {
	peers []netip.Prefix
	ports map[uint16]bool
}

func (l ignoreList) matches(s sockdiag.Socket) bool {
	if l.ports[s.Local.Port()] {
		return true
	}
	for _, p := range l.peers {
		if p.Contains(s.Remote.Addr()) {
			return true
		}
	}
	return false
}

// parseIgnore reads $HOST_IP (the node's address, where the kubelet's
// probes come from) and DRAINIT_QUIET_IGNORE: addresses, CIDRs or local
// ports, comma separated.
func parseIgnore(hostIP, list string) (ignoreList, error) {
	l := ignoreList{ports: map[uint16]bool{}}
	if hostIP != "" {
		a, err := netip.ParseAddr(hostIP)
		if err != nil {
			return l, fmt.Errorf("HOST_IP=%q: not an address", hostIP)
		}
		l.peers = append(l.peers, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			l.peers = append(l.peers, p.Masked())
		} else if a, err := netip.ParseAddr(item); err == nil {
			l.peers = append(l.peers, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		} else if n, err := strconv.Atoi(item); err == nil && n > 0 && n < 65536 {
			l.ports[uint16(n)] = true
		} else {
			return l, fmt.Errorf("DRAINIT_QUIET_IGNORE: %q is not an address, a CIDR or a port", item)
		}
	}
	return l, nil
}
