package hooks

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drainit/drainit/internal/proc"
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
		{"an IPv4 caller of a dual-stack listener", []sockdiag.Socket{listener}, []sockdiag.Socket{listener, sock(sockdiag.Established, "[::ffff:10.0.0.5]:8080", "[::ffff:10.0.0.7]:40009", 10)}, 1},
		{"the kubelet's IPv4 probe on a dual-stack listener", []sockdiag.Socket{listener}, []sockdiag.Socket{listener, sock(sockdiag.Established, "[::ffff:10.0.0.5]:8080", "[::ffff:10.0.0.1]:50001", 10)}, 0},
		{"a peer of an ignored CIDR on a dual-stack listener", []sockdiag.Socket{listener}, []sockdiag.Socket{listener, sock(sockdiag.Established, "[::ffff:10.0.0.5]:8080", "[::ffff:192.168.3.4]:50002", 10)}, 0},
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
		"quiet":               "quiet 3s (until the app's share of the grace period)",
		"quiet 2s":            "quiet 2s (until the app's share of the grace period)",
		"quiet 3s max 40s":    "quiet 3s max 40s",
		"quiet max 40s":       "quiet 3s max 40s",
		"quiet 500ms max 10s": "quiet 500ms max 10s",
	}
	for spec, want := range good {
		step, err := parseStep(spec, input{environ: map[string]string{}})
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
		if _, err := parseStep(spec, input{environ: map[string]string{}}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", spec, err, want)
		}
	}
	for env, want := range map[string]string{"DRAINIT_QUIET_IGNORE": "not an address, a CIDR, a port or gateway", "HOST_IP": "not an address"} {
		if _, err := parseStep("quiet", input{environ: map[string]string{env: "10.0.0.0/33"}}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=10.0.0.0/33: %v, want %q", env, err, want)
		}
	}
}

// Before the drain: the app's connections that closed within the window
// (by the time their TIME_WAIT has left) or received data in it.
func TestRecentConnections(t *testing.T) {
	const app = "10.0.0.5:8080"
	tw := func(peer string, left time.Duration) sockdiag.Socket {
		s := sock(sockdiag.TimeWait, app, peer, 0)
		s.Expires = left
		return s
	}
	idle := func(peer string, ms uint32) sockdiag.Socket {
		s := sock(sockdiag.Established, app, peer, 100)
		s.LastDataRecv = ms
		return s
	}
	ignore, _ := parseIgnore("10.0.0.1", "")
	socks := []sockdiag.Socket{
		sock(sockdiag.Listen, "0.0.0.0:8080", "0.0.0.0:0", 0),
		tw("10.0.0.7:1", 55*time.Second), // closed 5 s ago: in the window
		tw("10.0.0.7:2", 40*time.Second), // 20 s ago: not
		tw("10.0.0.1:3", 59*time.Second), // a probe: not a caller
		idle("10.0.0.8:4", 300),          // data 0.3 s ago: in the window, and now
		idle("10.0.0.8:5", 8000),         // 8 s ago: in the window
		idle("10.0.0.8:6", 30000),        // 30 s ago: not
		idle("10.0.0.1:7", 10),           // a probe
	}
	tr := newTracker(map[uint16]bool{8080: true}, ignore)
	if window, now := tr.recentConnections(socks, 10*time.Second); window != 3 || now != 1 {
		t.Errorf("%d in the window and %d now, want 3 and 1", window, now)
	}
}

func TestBusyBefore(t *testing.T) {
	tests := []struct {
		b    beforeTraffic
		want bool
	}{
		{beforeTraffic{seconds: 10 * time.Second, segments: 500, appEvents: 40, appNow: 3}, true},
		{beforeTraffic{seconds: 10 * time.Second, segments: 500, appEvents: 1, appNow: 1}, true}, // one kept-alive caller, sending now
		{beforeTraffic{seconds: 10 * time.Second, segments: 500, appEvents: 1}, false},           // one request in 10 s
		{beforeTraffic{seconds: 10 * time.Second, segments: 4, appEvents: 2}, false},             // the namespace was near silent
		{beforeTraffic{seconds: 10 * time.Second, segments: 500}, false},                         // traffic, but not the app's
		{beforeTraffic{seconds: 10 * time.Second, segments: 500, opens: 30}, true},               // callers that close first
		{beforeTraffic{seconds: 10 * time.Second, segments: 500, opens: 3}, false},               // probes
	}
	for _, tt := range tests {
		if got := tt.b.busy(); got != tt.want {
			t.Errorf("%+v: busy %v, want %v", tt.b, got, tt.want)
		}
	}
}

// The app's ports: by the inodes its processes hold, or, for those whose
// files could not be read, by the listener's owner.
func TestAppPortsByInodeOrOwner(t *testing.T) {
	listener := func(port string, inode, uid uint32) sockdiag.Socket {
		s := sock(sockdiag.Listen, "0.0.0.0:"+port, "0.0.0.0:0", 0)
		s.Inode, s.UID = inode, uid
		return s
	}
	listeners := []sockdiag.Socket{listener("8080", 11, 0), listener("9090", 12, 65534), listener("15001", 13, 1337)}
	tests := []struct {
		owners proc.Owners
		want   []uint16
	}{
		{proc.Owners{Inodes: map[uint32]bool{11: true}}, []uint16{8080}},
		{proc.Owners{Inodes: map[uint32]bool{}, UIDs: map[uint32]bool{65534: true}}, []uint16{9090}},
		{proc.Owners{Inodes: map[uint32]bool{11: true}, UIDs: map[uint32]bool{65534: true}}, []uint16{8080, 9090}},
		{proc.Owners{Inodes: map[uint32]bool{99: true}}, nil},
	}
	for _, tt := range tests {
		if got := appPorts(listeners, tt.owners, false); !slices.Equal(got, tt.want) {
			t.Errorf("%+v: ports %v, want %v", tt.owners, got, tt.want)
		}
	}
}

// quiet's settings come from its config's tags: unset or empty is the
// default, a bad value names the variable.
func TestQuietSettingsFromTheEnvironment(t *testing.T) {
	for _, tt := range []struct {
		env               map[string]string
		noOpens, keepIdle bool
		err               string
	}{
		{env: map[string]string{}},
		{env: map[string]string{"DRAINIT_QUIET_OPENS": ""}},
		{env: map[string]string{"DRAINIT_QUIET_OPENS": "false", "DRAINIT_QUIET_END_IDLE": "false"}, noOpens: true, keepIdle: true},
		{env: map[string]string{"DRAINIT_QUIET_END_IDLE": "x"}, err: `DRAINIT_QUIET_END_IDLE="x": not true or false`},
		{env: map[string]string{"DRAINIT_QUIET_SOURCE": "raw"}, err: `DRAINIT_QUIET_SOURCE="raw": want netlink or proc`},
	} {
		s, err := parseQuiet(nil, tt.env)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%v: error %v, want %q", tt.env, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tt.env, err)
		}
		if q := s.(*quietStep); q.noOpens != tt.noOpens || q.keepIdle != tt.keepIdle {
			t.Errorf("%v: noOpens %v keepIdle %v, want %v %v", tt.env, q.noOpens, q.keepIdle, tt.noOpens, tt.keepIdle)
		}
	}
}
