package sockdiag

import (
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// A dual-stack listener, a kept-alive connection with bytes sent on it,
// and what each source shows of them.
func TestDumpSeesListenersConnectionsAndBytes(t *testing.T) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	client, err := net.Dial("tcp4", "127.0.0.1:"+itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server := <-accepted
	defer server.Close()
	client.Write([]byte("hello, 12 b"))
	io.ReadFull(server, make([]byte, 11))

	for _, src := range []Source{Netlink{}, Proc{}} {
		socks, err := src.Dump(Query{States: All})
		if err != nil {
			t.Fatalf("%s: %v", src.Name(), err)
		}
		var listener, conn *Socket
		for i, s := range socks {
			switch {
			case s.State == Listen && s.Local.Port() == port:
				listener = &socks[i]
			case s.State == Established && s.Local.Port() == port:
				conn = &socks[i]
			}
		}
		if listener == nil || listener.Inode == 0 || listener.UID != uint32(os.Getuid()) {
			t.Fatalf("%s: no listener on %d", src.Name(), port)
		}
		if conn == nil {
			t.Fatalf("%s: no accepted connection on %d", src.Name(), port)
		}
		if want := netip.MustParseAddr("127.0.0.1"); conn.Remote.Addr() != want {
			t.Errorf("%s: peer %v, want %v (unmapped from ::ffff:)", src.Name(), conn.Remote.Addr(), want)
		}
		if _, ok := src.(Netlink); ok && (!conn.HasInfo || conn.BytesReceived != 11 || conn.DataSegsIn == 0) {
			t.Errorf("netlink: tcp_info %+v, want 11 bytes received", *conn)
		}
	}
}

// A query keeps to its states and ports: listeners alone, or one port's
// sockets of every state, each connection's TIME_WAIT with its age, from
// either source.
func TestQueryKeepsItsStatesAndPorts(t *testing.T) {
	var ports []uint16
	for range 3 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, uint16(l.Addr().(*net.TCPAddr).Port))
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close() // the app closes first: its side goes to TIME_WAIT
			}
		}()
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(c)
		c.Close()
	}
	for _, src := range []Source{Netlink{}, Proc{}} {
		listeners, err := src.Dump(Listeners)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range listeners {
			if s.State != Listen {
				t.Errorf("%s: a LISTEN-only query gave %+v", src.Name(), s)
			}
		}
		two := ports[1:]
		socks, err := src.Dump(Query{States: All, Ports: two})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[uint16]map[uint8]bool{}
		for _, s := range socks {
			if !slices.Contains(two, s.Local.Port()) {
				t.Errorf("%s: port %d passed a filter for %v", src.Name(), s.Local.Port(), two)
			}
			if seen[s.Local.Port()] == nil {
				seen[s.Local.Port()] = map[uint8]bool{}
			}
			seen[s.Local.Port()][s.State] = true
			if s.State == TimeWait && (s.Expires <= 50*time.Second || s.Expires > time.Minute) {
				t.Errorf("%s: a TIME_WAIT just begun has %v left, want 50s to 60s", src.Name(), s.Expires)
			}
		}
		for _, port := range two {
			if !seen[port][Listen] || !seen[port][TimeWait] {
				t.Errorf("%s: port %d: states %v, want LISTEN and TIME_WAIT", src.Name(), port, seen[port])
			}
		}
	}
}

func TestPortFilterBytecode(t *testing.T) {
	// Two ports, as ss compiles "sport = 80 or sport = 443": test 80 (equal:
	// on to the JMP at 8, which goes to the end at 20; not: to the next
	// test at 12), test 443 (equal: the end; not: 4 past the end).
	want := []byte{11, 8, 12, 0, 0, 0, 80, 0, 1, 4, 12, 0, 11, 8, 12, 0, 0, 0, 187, 1}
	if got := portFilter([]uint16{80, 443}); !slices.Equal(got, want) {
		t.Errorf("bytecode %v, want %v", got, want)
	}
	if got := portFilter(nil); len(got) != 0 {
		t.Errorf("no ports: bytecode %v, want none", got)
	}
}

func TestParseProc(t *testing.T) {
	text := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4243 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F90 0100007F:D432 06 00000000:00000000 03:00000BB8 00000000     0        0 0 3 0000000000000000
`
	socks, err := ParseProc(text)
	if err != nil || len(socks) != 3 {
		t.Fatalf("%v %+v", err, socks)
	}
	if socks[0].State != Listen || socks[0].Local.String() != "127.0.0.1:8080" || socks[0].Inode != 4242 || socks[0].UID != 1000 {
		t.Errorf("listener: %+v", socks[0])
	}
	if socks[1].Remote.String() != "127.0.0.1:54321" {
		t.Errorf("connection: %+v", socks[1])
	}
	if socks[2].State != TimeWait || socks[2].Expires != 30*time.Second {
		t.Errorf("TIME_WAIT: %+v, want 30s left (0xBB8 ticks)", socks[2])
	}
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }

func TestParseCounters(t *testing.T) {
	text := "Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs\nTcp: 1 200 120000 -1 10 42 0 0 3 9000\n"
	if c, err := parseCounters(text); err != nil || c.PassiveOpens != 42 || c.InSegs != 9000 {
		t.Errorf("%+v %v, want 42 opens and 9000 segments", c, err)
	}
	if _, err := parseCounters("Tcp: RtoAlgorithm\nTcp: 1\n"); err == nil {
		t.Error("no counters: no error")
	}
	if c, err := ReadCounters(); err != nil {
		t.Errorf("reading this machine's: %+v %v", c, err)
	}
}

func TestParseDefaultGateway(t *testing.T) {
	text := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t0000F40A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
		"eth0\t00000000\t0100F40A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
	if gw, err := parseDefaultGateway(text); err != nil || gw.String() != "10.244.0.1" {
		t.Errorf("gateway %v, %v; want 10.244.0.1", gw, err)
	}
	if _, err := parseDefaultGateway("Iface\tDestination\tGateway\n"); err == nil {
		t.Error("no default route: no error")
	}
}
