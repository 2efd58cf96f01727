package sockdiag

import (
	"io"
	"net"
	"net/netip"
	"strconv"
	"testing"
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
		socks, err := src.Dump()
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
		if listener == nil || listener.Inode == 0 {
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

func TestParseProc(t *testing.T) {
	text := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4243 1 0000000000000000 20 4 30 10 -1
`
	socks, err := ParseProc(text)
	if err != nil || len(socks) != 2 {
		t.Fatalf("%v %+v", err, socks)
	}
	if socks[0].State != Listen || socks[0].Local.String() != "127.0.0.1:8080" || socks[0].Inode != 4242 {
		t.Errorf("listener: %+v", socks[0])
	}
	if socks[1].Remote.String() != "127.0.0.1:54321" {
		t.Errorf("connection: %+v", socks[1])
	}
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }

func TestParsePassiveOpens(t *testing.T) {
	text := "Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails\nTcp: 1 200 120000 -1 10 42 0\n"
	if n, err := parsePassiveOpens(text); err != nil || n != 42 {
		t.Errorf("%d %v, want 42", n, err)
	}
	if n, err := PassiveOpens(); err != nil {
		t.Errorf("reading this machine's: %d %v", n, err)
	}
}
