package hooks

import (
	"net/netip"
	"slices"
	"time"

	"github.com/drainit/drainit/internal/sockdiag"
)

// tracker tells caller traffic from snapshots of the socket table: a
// connection to one of the app's ports not seen before (even one already in
// TIME_WAIT: it was opened and closed between two snapshots), or more bytes
// or data segments received on one seen before. An idle connection, or a
// peer on the ignore list, is not traffic. Connections accepted and gone
// between two snapshots leave no entry when the caller closed first; the
// namespace's PassiveOpens counter still counts them, and those not seen
// in the table count as traffic whoever sent them (the safe side: at worst
// the step waits longer, up to its maximum).
type tracker struct {
	ports  map[uint16]bool
	ignore ignoreList
	probes *probeFilter // nil outside a pod, or when the pod could not be read

	seen     map[connKey]connCount
	accepted map[connKey]bool // every accepted connection in the last snapshot, any port, any peer
	opens    uint64           // PassiveOpens at the last snapshot
	primed   bool

	peers       map[netip.Addr]bool // every peer that sent during the step
	probeCount  int                 // probes seen during the step
	unattribute int                 // connections counted from PassiveOpens alone
	window      []trafficSample     // the last windowFor of snapshots, for what is logged
	windowFor   time.Duration
}

// connKey is the 4-tuple: the same connection keeps it from ESTABLISHED to
// TIME_WAIT, where the kernel's cookie changes.
type connKey struct{ local, remote netip.AddrPort }

type connCount struct {
	bytes uint64
	segs  uint32
}

// trafficSample is what one snapshot showed.
type trafficSample struct {
	at     time.Time
	events int
	bytes  uint64
	peers  []netip.Addr
}

func newTracker(ports map[uint16]bool, ignore ignoreList) *tracker {
	return &tracker{ports: ports, ignore: ignore, seen: map[connKey]connCount{}, peers: map[netip.Addr]bool{},
		windowFor: time.Second}
}

// callers keeps the accepted connections of the app's ports, less ignored
// peers.
func (t *tracker) callers(socks []sockdiag.Socket) []sockdiag.Socket {
	var out []sockdiag.Socket
	for _, s := range socks {
		if s.State != sockdiag.Listen && t.ports[s.Local.Port()] && !t.ignore.matches(s) {
			out = append(out, s)
		}
	}
	return out
}

// recentAtStart counts connections that received data in the last
// busyAfter before the first snapshot (netlink's tcp_info only).
func (t *tracker) recentAtStart(socks []sockdiag.Socket) int {
	_, now := t.recentConnections(socks, busyAfter)
	return now
}

// timeWaitLen is how long the kernel keeps a closed connection's side in
// TIME_WAIT (TCP_TIMEWAIT_LEN).
const timeWaitLen = 60 * time.Second

// recentConnections counts the callers' connections in socks that closed
// (the app's side in TIME_WAIT, its age from the time it has left) or
// received data within the last window, and those that received data in
// the last busyAfter.
func (t *tracker) recentConnections(socks []sockdiag.Socket, window time.Duration) (inWindow, now int) {
	for _, s := range t.callers(socks) {
		if t.probes.fromNode(s) {
			continue
		}
		switch {
		case s.State == sockdiag.TimeWait && s.Expires > 0:
			if timeWaitLen-s.Expires <= window {
				inWindow++
			}
		case s.HasInfo && s.State == sockdiag.Established:
			idle := time.Duration(s.LastDataRecv) * time.Millisecond
			if idle <= window {
				inWindow++
			}
			if idle <= busyAfter {
				now++
			}
		}
	}
	return inWindow, now
}

// observe takes the next snapshot, with the namespace's PassiveOpens, and
// returns how many connections showed traffic since the last one; the first
// snapshot only sets the baseline.
func (t *tracker) observe(socks []sockdiag.Socket, opens uint64) int {
	now := time.Now()
	unattributed := t.probes.excuse(t.unattributed(socks, opens), now)
	events := unattributed
	current := map[connKey]connCount{}
	peers := map[netip.Addr]bool{}
	var bytes uint64
	for _, s := range t.callers(socks) {
		key := connKey{s.Local, s.Remote}
		count := connCount{s.BytesReceived, s.DataSegsIn}
		before, known := t.seen[key]
		if s.State == sockdiag.TimeWait && known {
			count = before // TIME_WAIT carries no tcp_info: keep the last counts
		}
		current[key] = count
		sent := !known || count.bytes > before.bytes || count.segs > before.segs
		if !sent || (t.probes != nil && t.probes.probe(s, key, !known, !t.primed, now)) {
			if sent && t.primed {
				t.probeCount++
			}
			continue
		}
		if !t.primed {
			continue
		}
		events++
		peers[s.Remote.Addr()] = true
		if known {
			bytes += count.bytes - before.bytes
		} else {
			bytes += count.bytes
		}
	}
	t.seen, t.primed = current, true
	t.probes.forget(current)
	t.unattribute += unattributed
	sample := trafficSample{at: now, events: events, bytes: bytes}
	for p := range peers {
		t.peers[p] = true
		sample.peers = append(sample.peers, p)
	}
	t.record(sample)
	return events
}

// nothing records a poll that saw no segment arrive in the namespace, so
// no traffic, without reading the table.
func (t *tracker) nothing() { t.record(trafficSample{at: time.Now()}) }

func (t *tracker) record(s trafficSample) {
	t.window = append(t.window, s)
	t.window = slices.DeleteFunc(t.window, func(r trafficSample) bool { return time.Since(r.at) > t.windowFor })
}

// recent sums the snapshots of the last d (at most windowFor): caller
// events, distinct peers that sent, and bytes received.
func (t *tracker) recent(d time.Duration) (events, peers int, bytes uint64) {
	seen := map[netip.Addr]bool{}
	for _, s := range t.window {
		if time.Since(s.at) > d {
			continue
		}
		events += s.events
		bytes += s.bytes
		for _, p := range s.peers {
			seen[p] = true
		}
	}
	return events, len(seen), bytes
}

// unattributed is how many connections were accepted since the last
// snapshot without showing up in this one: PassiveOpens counts every
// accepted connection of the namespace, the table only those still there.
func (t *tracker) unattributed(socks []sockdiag.Socket, opens uint64) int {
	listening := map[uint16]bool{}
	for _, s := range socks {
		if s.State == sockdiag.Listen {
			listening[s.Local.Port()] = true
		}
	}
	accepted := map[connKey]bool{}
	var seenNew uint64
	for _, s := range socks {
		key := connKey{s.Local, s.Remote}
		if s.State != sockdiag.Listen && listening[s.Local.Port()] {
			accepted[key] = true
			if !t.accepted[key] {
				seenNew++
			}
		}
	}
	delta := opens - t.opens
	primed := t.primed && opens >= t.opens
	t.accepted, t.opens = accepted, opens
	if !primed || delta <= seenNew {
		return 0
	}
	return int(delta - seenNew)
}

// lastPeers are the peers that sent in the last snapshot, for the log.
func (t *tracker) lastPeers() []netip.Addr {
	if len(t.window) == 0 {
		return nil
	}
	return t.window[len(t.window)-1].peers
}
