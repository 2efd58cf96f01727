package hooks

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/drainit/drainit/internal/sockdiag"
)

// PodTraffic is what drainit's pod says of traffic that is not callers':
// the kubelet's network probes, which come from the node's side. The
// command line reads it from the pod when the stop begins (Plan.Pod).
type PodTraffic struct {
	Node   []netip.Addr // the node's address (status.hostIP)
	Probes []Probe      // the readiness and liveness probes that open a connection
}

// Probe is one of the kubelet's probes of a port of the pod.
type Probe struct {
	Port    uint16
	Period  time.Duration
	Timeout time.Duration
}

func (p Probe) String() string {
	return fmt.Sprintf("%d every %s", p.Port, p.Period)
}

// probeFilter tells the kubelet's probes from callers: a new connection
// from the node's side (its address, or the pod's gateway, where the
// kubelet's probes come from on a bridge network) to a probed port is a
// probe, as many of them in any window as the probes' periods allow; more
// than that is a caller reaching the pod through the node (a NodePort).
// A probe carries one request: bytes on it later than its timeout are a
// caller's.
//
// A probe may also never show in the table: when the kubelet closes
// first, the app's side can be gone between two reads, and only the
// namespace's count of accepted connections has it (seen here with the
// JDK's HTTP server and httpGet probes every 2 s). Such connections are
// excused while the probes seen and excused in the window stay within
// all the probes' allowance.
type probeFilter struct {
	node    map[netip.Addr]bool
	allowed map[uint16]int // probes of each port in any window
	total   int            // probes of every port in any window
	window  time.Duration
	life    time.Duration // the longest probe timeout

	seen     map[uint16][]time.Time // probe connections first seen, by port
	unseenAt []time.Time            // accepted connections excused as unseen probes
	conns    map[connKey]time.Time  // connections taken as probes, and when
}

func newProbeFilter(pod PodTraffic, gateway netip.Addr, window time.Duration) *probeFilter {
	f := &probeFilter{node: map[netip.Addr]bool{}, allowed: map[uint16]int{}, window: window,
		seen: map[uint16][]time.Time{}, conns: map[connKey]time.Time{}}
	for _, a := range append(slices.Clone(pod.Node), gateway) {
		if a.IsValid() {
			f.node[a.Unmap()] = true
		}
	}
	for _, p := range pod.Probes {
		n := int(window/p.Period) + 2 // one more for the kubelet's jitter
		f.allowed[p.Port] += n
		f.total += n
		f.life = max(f.life, p.Timeout)
	}
	return f
}

// fromNode: a connection from the node's side to a probed port.
func (f *probeFilter) fromNode(s sockdiag.Socket) bool {
	return f != nil && f.allowed[s.Local.Port()] > 0 && f.node[s.Remote.Addr().Unmap()]
}

// probe says whether a connection's traffic is a probe's: one taken as a
// probe within its life, or a new one from the node's side within the
// port's allowance. baseline: the step's first snapshot, where every such
// connection is taken as a probe.
func (f *probeFilter) probe(s sockdiag.Socket, key connKey, isNew, baseline bool, now time.Time) bool {
	if !f.fromNode(s) {
		return false
	}
	if at, ok := f.conns[key]; ok {
		return now.Sub(at) <= f.life
	}
	if !isNew && !baseline {
		return false
	}
	port := s.Local.Port()
	f.seen[port] = f.recent(f.seen[port], now)
	if !baseline && len(f.seen[port]) >= f.allowed[port] {
		return false
	}
	f.seen[port] = append(f.seen[port], now)
	f.conns[key] = now
	return true
}

// excuse takes up to n accepted connections that never showed in the
// table as probes; it returns how many are left over.
func (f *probeFilter) excuse(n int, now time.Time) int {
	if f == nil || n == 0 {
		return n
	}
	f.unseenAt = f.recent(f.unseenAt, now)
	used := len(f.unseenAt)
	for port := range f.seen {
		f.seen[port] = f.recent(f.seen[port], now)
		used += len(f.seen[port])
	}
	for n > 0 && used < f.total {
		f.unseenAt = append(f.unseenAt, now)
		used++
		n--
	}
	return n
}

func (f *probeFilter) recent(times []time.Time, now time.Time) []time.Time {
	return slices.DeleteFunc(times, func(t time.Time) bool { return now.Sub(t) >= f.window })
}

// forget drops the connections gone from the table.
func (f *probeFilter) forget(current map[connKey]connCount) {
	if f == nil {
		return
	}
	for key := range f.conns {
		if _, ok := current[key]; !ok {
			delete(f.conns, key)
		}
	}
}

// String lists the node's addresses and the probes, for the log.
func (f *probeFilter) String() string {
	if f == nil {
		return ""
	}
	var node, ports []string
	for a := range f.node {
		node = append(node, a.String())
	}
	for p, n := range f.allowed {
		ports = append(ports, fmt.Sprintf("%d (%d in %s)", p, n, f.window))
	}
	slices.Sort(node)
	slices.Sort(ports)
	return "from " + strings.Join(node, ",") + " to " + strings.Join(ports, ",")
}
