package hooks

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drainit/drainit/internal/envconf"
	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/internal/proc"
	"github.com/drainit/drainit/internal/sockdiag"
)

// quietStep waits until the app's callers have stopped: no caller traffic
// for quiet, and at most max. Traffic is a new inbound connection to one of
// the app's listening sockets, or bytes arriving on a connection accepted
// from one (a caller reusing a kept-alive connection counts; an idle pooled
// one does not), read from the kernel's socket table of the namespace
// drainit shares with the app. Peers to ignore (the kubelet's probes from
// $HOST_IP, DRAINIT_QUIET_IGNORE) are not callers.
//
// What it costs: while the app runs, one read of the namespace's TCP
// counters a second (under 0.1 ms, however many sockets). During the
// step, the counters on each poll, and a read of the app's own ports'
// sockets (filtered in the kernel) only when a segment has arrived since
// the last one, spaced at least pollSpacing times that read's own time.
type quietStep struct {
	quiet, max time.Duration // max 0: the rest of the steps' budget
	ignore     ignoreList
	source     string // "" (netlink, else /proc), "netlink" or "proc": DRAINIT_QUIET_SOURCE
	noOpens    bool   // DRAINIT_QUIET_OPENS=false: the namespace is shared beyond the pod
	keepIdle   bool   // DRAINIT_QUIET_END_IDLE=false: kept-alive connections are left alone

	mu      sync.Mutex
	history []counterSample // the namespace's counters, once a second, the last beforeWindow seconds (Start)
}

type counterSample struct {
	at time.Time
	c  sockdiag.Counters
}

const (
	// defaultQuiet: kube-proxy syncs within about a second and callers that
	// refresh every 1-2 s have moved on after 3 s; silence any shorter
	// proves little (see docs/design.md).
	defaultQuiet = 3 * time.Second
	// quietPoll: a connection opened and closed between two polls is seen
	// only if it lingers on the app's side (TIME_WAIT when the app closed
	// first, or a closing state), or in the namespace's PassiveOpens; polls
	// are frequent, each at least pollSpacing times the last read of the
	// table, to keep the cost near a tenth of a core on a busy node.
	quietPoll   = 20 * time.Millisecond
	pollSpacing = 10
	// Silence means callers have gone only if they were busy before: over
	// the last beforeWindow seconds, at least one segment a second arrived
	// in the namespace (its counters, sampled each second from the app's
	// start), and the app's own connections show callers (busyEvents
	// connections that closed or received data in that window, or one
	// receiving data in the last busyAfter). Without samples (a drain right
	// after the start), the connections with data in the last busyAfter and
	// the traffic of the step's first busyAfter must reach busyEvents.
	beforeWindow = 10
	busyAfter    = time.Second
	busyEvents   = 2
)

// quietConfig is what the quiet step reads from the environment.
// DRAINIT_QUIET_SOURCE unset reads netlink, and /proc where netlink is
// refused (shown: the help's and the README's default).
type quietConfig struct {
	HostIP  string `env:"HOST_IP"`
	Ignore  string `env:"DRAINIT_QUIET_IGNORE"`
	Source  string `env:"DRAINIT_QUIET_SOURCE" shown:"netlink"`
	Opens   bool   `env:"DRAINIT_QUIET_OPENS" envDefault:"true"`
	EndIdle bool   `env:"DRAINIT_QUIET_END_IDLE" envDefault:"true"`
}

func parseQuiet(args []string, environ map[string]string) (Step, error) {
	var cfg quietConfig
	if err := envconf.Parse(&cfg, environ); err != nil {
		return nil, err
	}
	s := &quietStep{quiet: defaultQuiet, source: cfg.Source, noOpens: !cfg.Opens, keepIdle: !cfg.EndIdle}
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
	s.ignore, err = parseIgnore(cfg.HostIP, cfg.Ignore)
	return s, err
}

func positiveDuration(text string) (time.Duration, error) {
	d, err := envconf.ParseDuration(text)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration (like 3s)", text)
	}
	return d, nil
}

func (s *quietStep) String() string {
	if s.max == 0 {
		return fmt.Sprintf("quiet %s (until the app's share of the grace period)", s.quiet)
	}
	return fmt.Sprintf("quiet %s max %s", s.quiet, s.max)
}

// Budget is max; without one, the step runs until the drain's own deadline.
func (s *quietStep) Budget(time.Duration) time.Duration { return s.max }

func (s *quietStep) openEnded() bool { return s.max == 0 }

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
	ports, owners, err := s.findApp(src, env.app.Sockets())
	if err != nil {
		return err
	}
	ignore, err := s.ignore.resolved()
	if err != nil {
		return err
	}
	w := &watch{step: s, env: env, src: src, began: began, lastTraffic: began}
	w.t = newTracker(portSet(ports), ignore)
	w.t.probes = s.probeFilter(ctx, env)
	if !s.keepIdle {
		w.ender = newConnEnder(env.app, began)
	}
	env.log.Log(ctx, logging.LevelNotice, logging.QuietWatching, "source", src.Name(), "ports", ports, "owners", owners,
		"quiet", s.quiet, "not_callers", ignore.String(), "probes", w.t.probes.String(), "kept_alive", w.ender.way())
	w.query = sockdiag.Query{States: sockdiag.All, Ports: ports}
	w.counters = s.counters()
	socks, err := src.Dump(w.query)
	if err != nil {
		return fmt.Errorf("reading the socket table (%s): %w", src.Name(), err)
	}
	w.t.observe(socks, s.opens(w.counters))
	w.before = s.trafficBefore(w.t, socks, w.counters)
	w.baseline = w.t.recentAtStart(socks)
	return w.run(ctx)
}

// podWait bounds the wait for the pod's read (one GET to the API server,
// begun with the stop): without it, the probes count as callers.
const podWait = 2 * time.Second

// probeFilter reads from the pod which traffic is the kubelet's probes;
// nil outside a pod or when the pod could not be read, which is said.
func (s *quietStep) probeFilter(ctx context.Context, env *runEnv) *probeFilter {
	if env.pod == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, podWait)
	defer cancel()
	pod, err := env.pod(ctx)
	if err != nil {
		env.log.Log(ctx, logging.LevelNotice, logging.QuietNoPod, "reason", err)
		return nil
	}
	gateway, _ := sockdiag.DefaultGateway()
	return newProbeFilter(pod, gateway, max(s.quiet, busyAfter))
}

// findApp returns the app's listening ports, read from the listening
// sockets alone, and says how they were told apart: by the files the app's
// processes hold; where those cannot be read, by the sockets' owner (a
// sidecar of the same user counts too, which is said with the sockets
// taken); where the processes cannot be seen at all, every listening
// socket of the namespace (the safe side: more traffic, a longer wait).
// It never says there are no callers when it could not look.
func (s *quietStep) findApp(src sockdiag.Source, owners proc.Owners) ([]uint16, string, error) {
	listeners, err := src.Dump(sockdiag.Listeners)
	if err != nil {
		return nil, "", fmt.Errorf("reading the socket table (%s): %w", src.Name(), err)
	}
	if owners.Unseen {
		ports := appPorts(listeners, proc.Owners{}, true)
		if len(ports) == 0 {
			return nil, "", errors.New("no listening TCP socket in the network namespace: no callers to wait for")
		}
		return ports, "every listening socket of the namespace (" + socketList(listeners, ports) +
			"): the app's processes are not visible (/proc mounted with hidepid?), so a sidecar's count too", nil
	}
	ports := appPorts(listeners, owners, false)
	switch {
	case len(ports) > 0 && len(owners.UIDs) > 0:
		return ports, fmt.Sprintf("socket owner uid %s (the app's open files are not readable: another user's): took %s; "+
			"a sidecar of that user would count too", uidList(owners.UIDs), socketList(listeners, ports)), nil
	case len(ports) > 0:
		return ports, "open files", nil
	case len(owners.UIDs) > 0:
		return nil, "", fmt.Errorf("no listening TCP socket of the app's processes (their open files are not readable: another user's) or of their user (uid %s): no callers to wait for", uidList(owners.UIDs))
	}
	return nil, "", errors.New("the app holds no listening TCP socket: no callers to wait for")
}

// socketList names the listening sockets on ports, for the log.
func socketList(listeners []sockdiag.Socket, ports []uint16) string {
	var names []string
	for _, l := range listeners {
		if l.State == sockdiag.Listen && slices.Contains(ports, l.Local.Port()) {
			names = append(names, fmt.Sprintf("%s (uid %d)", l.Local, l.UID))
		}
	}
	slices.Sort(names)
	return strings.Join(slices.Compact(names), ", ")
}

func uidList(uids map[uint32]bool) string {
	var list []string
	for uid := range uids {
		list = append(list, strconv.FormatUint(uint64(uid), 10))
	}
	slices.Sort(list)
	return strings.Join(list, ",")
}

// counters reads the namespace's TCP counters; zero where they cannot be
// read (every poll then reads the table).
func (s *quietStep) counters() sockdiag.Counters {
	c, _ := sockdiag.ReadCounters()
	return c
}

// opens is the namespace's PassiveOpens, or 0 (the table alone) where the
// namespace is not the pod's own.
func (s *quietStep) opens(c sockdiag.Counters) uint64 {
	if s.noOpens {
		return 0
	}
	return c.PassiveOpens
}

// beforeTraffic is what is known of the callers before the drain.
type beforeTraffic struct {
	sampled   bool
	seconds   time.Duration // how far back the samples reach
	segments  uint64        // segments the namespace received in that time
	opens     uint64        // connections the namespace accepted in that time (0: not the pod's own)
	appEvents int           // the app's connections that closed or received data in that time
	appNow    int           // the app's connections that received data in the last busyAfter
}

// busy: a segment a second arrived in the namespace, and the callers were
// the app's: its connections show them, or, in a namespace of the pod's
// own, it accepted a connection a second (a caller that closes first
// leaves no trace in the app's table; a probe every few seconds stays
// below that).
func (b beforeTraffic) busy() bool {
	need := max(uint64(math.Ceil(b.seconds.Seconds())), busyEvents)
	app := b.appEvents >= busyEvents || b.appNow > 0 || b.opens >= need
	return b.segments >= need && app
}

// trafficBefore combines the namespace's counters over the last seconds
// (how much arrived, whoever for) with the app's own connections in the
// drain's first read (whose it was): those that closed in that time (the
// kernel keeps the app's side in TIME_WAIT for 60 s) or received data.
func (s *quietStep) trafficBefore(t *tracker, socks []sockdiag.Socket, now sockdiag.Counters) beforeTraffic {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.history) == 0 || now.InSegs < s.history[0].c.InSegs {
		return beforeTraffic{}
	}
	then := s.history[0].c
	b := beforeTraffic{sampled: true, seconds: time.Since(s.history[0].at), segments: now.InSegs - then.InSegs}
	if !s.noOpens && now.PassiveOpens >= then.PassiveOpens {
		b.opens = now.PassiveOpens - then.PassiveOpens
	}
	b.appEvents, b.appNow = t.recentConnections(socks, b.seconds)
	return b
}

// Start samples the namespace's TCP counters once a second while the app
// runs, until the drain begins: a read that costs the same however many
// sockets the namespace holds.
func (s *quietStep) Start(ctx context.Context, env *runEnv) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c, err := sockdiag.ReadCounters()
		if err != nil {
			env.log.Debug(logging.QuietNoCounters, "err", err)
			return
		}
		s.mu.Lock()
		s.history = append(s.history, counterSample{time.Now(), c})
		if len(s.history) > beforeWindow+1 {
			s.history = s.history[1:]
		}
		s.mu.Unlock()
		env.log.Debug(logging.QuietSampled, "passive_opens", c.PassiveOpens, "in_segs", c.InSegs)
	}
}

// appPorts are the ports of the app's listening sockets: those whose inode
// the app's processes hold (a sidecar sharing the namespace is not the
// app), and, for processes whose files cannot be read, those their user
// owns.
func appPorts(listeners []sockdiag.Socket, owners proc.Owners, every bool) []uint16 {
	var ports []uint16
	for _, s := range listeners {
		if s.State != sockdiag.Listen || slices.Contains(ports, s.Local.Port()) {
			continue
		}
		if every || owners.Inodes[s.Inode] || owners.UIDs[s.UID] {
			ports = append(ports, s.Local.Port())
		}
	}
	slices.Sort(ports)
	return ports
}

func portSet(ports []uint16) map[uint16]bool {
	set := map[uint16]bool{}
	for _, p := range ports {
		set[p] = true
	}
	return set
}

// ignoreList is what is not callers' traffic: peer addresses and prefixes,
// and local ports (a probe's or an admin port). gateway: the pod's default
// gateway, read when the step runs: on a bridge network (the CNI bridge
// plugin, kubenet, flannel) the kubelet's probes reach the pod from the
// bridge's address, not from status.hostIP (measured on the cluster make
// k8s-up starts: 10.244.0.1, where the node is 192.0.2.2). So does any
// other traffic from the node itself (a NodePort's SNAT, a hostNetwork
// ingress on the same node), which is why it is not ignored unless asked.
type ignoreList struct {
	peers   []netip.Prefix
	ports   map[uint16]bool
	gateway bool
}

// matches unmaps the peer: an IPv4 peer of a dual-stack listener is an
// IPv4 address, whatever the table says.
func (l ignoreList) matches(s sockdiag.Socket) bool {
	if l.ports[s.Local.Port()] {
		return true
	}
	peer := s.Remote.Addr().Unmap()
	for _, p := range l.peers {
		if p.Contains(peer) {
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
		if item == "gateway" {
			l.gateway = true
		} else if p, err := netip.ParsePrefix(item); err == nil {
			l.peers = append(l.peers, p.Masked())
		} else if a, err := netip.ParseAddr(item); err == nil {
			l.peers = append(l.peers, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		} else if n, err := strconv.Atoi(item); err == nil && n > 0 && n < 65536 {
			l.ports[uint16(n)] = true
		} else {
			return l, fmt.Errorf("DRAINIT_QUIET_IGNORE: %q is not an address, a CIDR, a port or gateway", item)
		}
	}
	return l, nil
}

// resolved is the list with the gateway, if asked for, read now.
func (l ignoreList) resolved() (ignoreList, error) {
	if !l.gateway {
		return l, nil
	}
	gw, err := sockdiag.DefaultGateway()
	if err != nil {
		return l, fmt.Errorf("DRAINIT_QUIET_IGNORE=gateway: %w", err)
	}
	l.peers = append(slices.Clone(l.peers), netip.PrefixFrom(gw, gw.BitLen()))
	l.gateway = false
	return l, nil
}

// String lists the peers and ports, for the log.
func (l ignoreList) String() string {
	var parts []string
	for _, p := range l.peers {
		parts = append(parts, p.String())
	}
	for port := range l.ports {
		parts = append(parts, "port "+strconv.Itoa(int(port)))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}
