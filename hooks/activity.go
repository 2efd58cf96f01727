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

	seen      map[connKey]connCount
	accepted  map[connKey]bool // every accepted connection in the last snapshot, any port, any peer
	opens     uint64           // PassiveOpens at the last snapshot
	primed    bool
	lastPeers int // peers that sent in the last snapshot with traffic

	window []rateSample // bytes seen per snapshot, for the rate logged at max
}

// connKey is the 4-tuple: the same connection keeps it from ESTABLISHED to
// TIME_WAIT, where the kernel's cookie changes.
type connKey struct{ local, remote netip.AddrPort }

type connCount struct {
	bytes uint64
	segs  uint32
}

type rateSample struct {
	at    time.Time
	bytes uint64
}

func newTracker(ports map[uint16]bool, ignore ignoreList) *tracker {
	return &tracker{ports: ports, ignore: ignore, seen: map[connKey]connCount{}}
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
	n := 0
	for _, s := range t.callers(socks) {
		if s.HasInfo && s.State == sockdiag.Established && time.Duration(s.LastDataRecv)*time.Millisecond <= busyAfter {
			n++
		}
	}
	return n
}

// observe takes the next snapshot, with the namespace's PassiveOpens, and
// returns how many connections showed traffic since the last one; the first
// snapshot only sets the baseline.
func (t *tracker) observe(socks []sockdiag.Socket, opens uint64) int {
	events := t.unattributed(socks, opens)
	current := map[connKey]connCount{}
	peers := map[netip.Addr]bool{}
	var bytes uint64
	for _, s := range t.callers(socks) {
		key := connKey{s.Local, s.Remote}
		now := connCount{s.BytesReceived, s.DataSegsIn}
		before, known := t.seen[key]
		if s.State == sockdiag.TimeWait && known {
			now = before // TIME_WAIT carries no tcp_info: keep the last counts
		}
		current[key] = now
		switch {
		case !t.primed:
		case !known:
			events++
			peers[s.Remote.Addr()] = true
			bytes += now.bytes
		case now.bytes > before.bytes || now.segs > before.segs:
			events++
			peers[s.Remote.Addr()] = true
			bytes += now.bytes - before.bytes
		}
	}
	t.seen, t.primed = current, true
	if events > 0 {
		t.lastPeers = len(peers)
	}
	t.window = append(t.window, rateSample{time.Now(), bytes})
	t.window = slices.DeleteFunc(t.window, func(r rateSample) bool { return time.Since(r.at) > time.Second })
	return events
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

// recentRate is the bytes per second received over the last second.
func (t *tracker) recentRate() uint64 {
	var total uint64
	for _, r := range t.window {
		total += r.bytes
	}
	return total
}

func (t *tracker) portList() []int {
	var out []int
	for p := range t.ports {
		out = append(out, int(p))
	}
	slices.Sort(out)
	return out
}
