package hooks

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/drainit/drainit/internal/sockdiag"
)

func sock(state uint8, local, remote string, bytes uint64) sockdiag.Socket {
	return sockdiag.Socket{State: state, Local: netip.MustParseAddrPort(local), Remote: netip.MustParseAddrPort(remote),
		HasInfo: state != sockdiag.TimeWait, BytesReceived: bytes}
}

// The activity rule on recorded snapshots of the socket table.
func TestTrackerCountsCallersTraffic(t *testing.T) {
	const app = "10.0.0.5:8080"
	listener := sock(sockdiag.Listen, "0.0.0.0:8080", "0.0.0.0:0", 0)
	pooled := sock(sockdiag.Established, app, "10.0.0.7:40001", 500)
	ignore, err := parseIgnore("10.0.0.1", "192.168.0.0/16, 9090")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		before []sockdiag.Socket
		after  []sockdiag.Socket
		want   int
	}{
		{"a new connection", []sockdiag.Socket{listener}, []sockdiag.Socket{listener, sock(sockdiag.Established, app, "10.0.0.7:40002", 0)}, 1},
		{"bytes on a kept-alive connection", []sockdiag.Socket{listener, pooled}, []sockdiag.Socket{listener, sock(sockdiag.Established, app, "10.0.0.7:40001", 900)}, 1},
		{"an idle pooled connection", []sockdiag.Socket{listener, pooled}, []sockdiag.Socket{listener, pooled}, 0},
		{"a connection opened and closed between snapshots", []sockdiag.Socket{listener}, []sockdiag.Socket{listener, sock(sockdiag.TimeWait, app, "10.0.0.8:40003", 0)}, 1},
		{"a known connection going to TIME_WAIT", []sockdiag.Socket{listener, pooled}, []sockdiag.Socket{listener, sock(sockdiag.TimeWait, app, "10.0.0.7:40001", 0)}, 0},
		{"the kubelet's probe from HOST_IP", []sockdiag.Socket{listener}, []sockdiag.Socket{listener, sock(sockdiag.Established, app, "10.0.0.1:50000", 100)}, 0},
		{"a peer in an ignored CIDR", []sockdiag.Socket{listener}, []sockdiag.Socket{listener, sock(sockdiag.Established, app, "192.168.3.4:50000", 100)}, 0},
		{"an ignored local port", []sockdiag.Socket{listener}, []sockdiag.Socket{listener, sock(sockdiag.Established, "10.0.0.5:9090", "10.0.0.7:50000", 100)}, 0},
		{"a port that is not the app's (a sidecar)", []sockdiag.Socket{listener}, []sockdiag.Socket{listener, sock(sockdiag.Established, "10.0.0.5:15001", "10.0.0.7:50000", 100)}, 0},
		{"an IPv4 caller of a dual-stack listener", []sockdiag.Socket{listener}, []sockdiag.Socket{listener, sock(sockdiag.Established, "[::ffff:10.0.0.5]:8080", "10.0.0.7:40009", 10)}, 1},
	}
	for _, tt := range tests {
		tr := newTracker(map[uint16]bool{8080: true, 9090: true}, ignore)
		tr.observe(tt.before, 0)
		if got := tr.observe(tt.after, 0); got != tt.want {
			t.Errorf("%s: %d events, want %d", tt.name, got, tt.want)
		}
	}
}

// Connections accepted and gone between two snapshots are counted from
// PassiveOpens, less those the table shows, whoever's they were.
func TestTrackerCountsConnectionsGoneBetweenSnapshots(t *testing.T) {
	ignore, _ := parseIgnore("10.0.0.1", "")
	listener := sock(sockdiag.Listen, "0.0.0.0:8080", "0.0.0.0:0", 0)
	probe := sock(sockdiag.TimeWait, "10.0.0.5:8080", "10.0.0.1:50000", 0)
	tr := newTracker(map[uint16]bool{8080: true}, ignore)
	tr.observe([]sockdiag.Socket{listener}, 100)
	if got := tr.observe([]sockdiag.Socket{listener, probe}, 103); got != 2 {
		t.Errorf("3 accepted, 1 of them the ignored probe in the table: %d events, want 2", got)
	}
	if got := tr.observe([]sockdiag.Socket{listener, probe}, 104); got != 1 {
		t.Errorf("1 accepted and gone: %d events, want 1", got)
	}
	if got := tr.observe([]sockdiag.Socket{listener}, 104); got != 0 {
		t.Errorf("nothing new: %d events, want 0", got)
	}
}

// Connections with data in the second before the step count toward "busy".
func TestTrackerRecentAtStart(t *testing.T) {
	tr := newTracker(map[uint16]bool{8080: true}, ignoreList{})
	recent := sock(sockdiag.Established, "10.0.0.5:8080", "10.0.0.7:1", 1)
	recent.LastDataRecv = 300
	old := sock(sockdiag.Established, "10.0.0.5:8080", "10.0.0.7:2", 1)
	old.LastDataRecv = uint32((5 * time.Second).Milliseconds())
	if got := tr.recentAtStart([]sockdiag.Socket{recent, old}); got != 1 {
		t.Errorf("recent at start: %d, want 1", got)
	}
}

func TestParseQuiet(t *testing.T) {
	good := map[string]string{
		"quiet":               "quiet 3s (at most the rest of the steps' budget)",
		"quiet 2s":            "quiet 2s (at most the rest of the steps' budget)",
		"quiet 3s max 40s":    "quiet 3s max 40s",
		"quiet max 40s":       "quiet 3s max 40s",
		"quiet 500ms max 10s": "quiet 500ms max 10s",
	}
	for spec, want := range good {
		step, err := parseStep(spec, map[string]string{})
		if err != nil || step.String() != want {
			t.Errorf("%q: %v %v, want %q", spec, step, err, want)
		}
	}
	bad := map[string]string{
		"quiet -1s":        "not a positive duration",
		"quiet banana":     "not a positive duration",
		"quiet 3s max 1s":  "shorter than the quiet time",
		"quiet 3s max":     "want quiet [DURATION] [max DURATION]",
		"quiet 3s for 10s": "want quiet [DURATION] [max DURATION]",
	}
	for spec, want := range bad {
		if _, err := parseStep(spec, map[string]string{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", spec, err, want)
		}
	}
	for env, want := range map[string]string{"DRAINIT_QUIET_IGNORE": "not an address, a CIDR or a port", "HOST_IP": "not an address"} {
		if _, err := parseStep("quiet", map[string]string{env: "10.0.0.0/33"}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=10.0.0.0/33: %v, want %q", env, err, want)
		}
	}
}
