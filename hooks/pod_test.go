package hooks

import (
	"net/netip"
	"testing"
	"time"

	"github.com/drainit/drainit/internal/sockdiag"
)

func conn(peer string, peerPort, port uint16) (sockdiag.Socket, connKey) {
	s := sockdiag.Socket{State: sockdiag.TimeWait,
		Local:  netip.AddrPortFrom(netip.MustParseAddr("10.244.0.7"), port),
		Remote: netip.AddrPortFrom(netip.MustParseAddr(peer), peerPort)}
	return s, connKey{s.Local, s.Remote}
}

// The kubelet's probes every 2 s from the pod's gateway pass; more
// connections from the node than the probes explain (a NodePort) count,
// and so does any other peer, or the node on a port no probe uses.
func TestProbeFilterAllowsWhatTheProbesExplain(t *testing.T) {
	pod := PodTraffic{Node: []netip.Addr{netip.MustParseAddr("192.0.2.2")},
		Probes: []Probe{{Port: 8080, Period: 2 * time.Second, Timeout: time.Second}}}
	f := newProbeFilter(pod, netip.MustParseAddr("10.244.0.1"), 3*time.Second)
	now := time.Now()
	// floor(3s/2s)+2 = 3 probes in any 3 s (one for the kubelet's jitter).
	for i, want := range []bool{true, true, true, false} {
		s, key := conn("10.244.0.1", uint16(40000+i), 8080)
		if got := f.probe(s, key, true, false, now.Add(time.Duration(i)*100*time.Millisecond)); got != want {
			t.Errorf("connection %d from the gateway: probe %v, want %v", i, got, want)
		}
	}
	later := now.Add(4 * time.Second)
	if s, key := conn("10.244.0.1", 41000, 8080); !f.probe(s, key, true, false, later) {
		t.Error("a probe after the window was not let pass")
	}
	if s, key := conn("192.0.2.2", 41001, 8080); !f.probe(s, key, true, false, later) {
		t.Error("a probe from status.hostIP was not let pass")
	}
	if s, key := conn("10.244.0.9", 41002, 8080); f.probe(s, key, true, false, later) {
		t.Error("a pod's connection was taken as a probe")
	}
	if s, key := conn("10.244.0.1", 41003, 9090); f.probe(s, key, true, false, later) {
		t.Error("the node on an unprobed port was taken as a probe")
	}
}

// A probe's connection carries one request: bytes on it within its
// timeout are the probe's, later ones a caller's.
func TestProbeFilterBytesLaterThanTheTimeoutCount(t *testing.T) {
	pod := PodTraffic{Probes: []Probe{{Port: 8080, Period: 10 * time.Second, Timeout: time.Second}}}
	f := newProbeFilter(pod, netip.MustParseAddr("10.244.0.1"), 3*time.Second)
	now := time.Now()
	s, key := conn("10.244.0.1", 40000, 8080)
	if !f.probe(s, key, true, false, now) || !f.probe(s, key, false, false, now.Add(500*time.Millisecond)) {
		t.Fatal("the probe's own request was counted")
	}
	if f.probe(s, key, false, false, now.Add(2*time.Second)) {
		t.Error("a request on the connection 2 s later passed as the probe's")
	}
}

// Connections that only the namespace's counter shows pass as probes
// while the probes seen and excused in the window stay within the
// allowance of all probes.
func TestProbeFilterExcusesUnseenWithinTheAllowance(t *testing.T) {
	now := time.Now()
	f := newProbeFilter(PodTraffic{Probes: []Probe{{Port: 8080, Period: 2 * time.Second, Timeout: time.Second}}}, netip.MustParseAddr("10.244.0.1"), 3*time.Second)
	if s, key := conn("10.244.0.1", 40000, 8080); !f.probe(s, key, true, false, now) {
		t.Fatal("a probe was not let pass")
	}
	if left := f.excuse(3, now); left != 1 {
		t.Errorf("2 of 3 unseen connections should pass beside the probe seen (3 in 3s), %d left", left)
	}
	if left := f.excuse(1, now.Add(3*time.Second)); left != 0 {
		t.Error("the allowance did not come back after the window")
	}
	if left := (*probeFilter)(nil).excuse(2, now); left != 2 {
		t.Error("without the pod, unseen connections were excused")
	}
}
