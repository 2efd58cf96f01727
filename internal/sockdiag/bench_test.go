package sockdiag

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkDump reads a namespace holding about 20,000 TCP sockets (9,900
// loopback connections to a port that is not the app's, both ends) and an
// app listening on a port of its own with one connection: the cost of each
// read the quiet step makes.
//
//	go test -run '^$' -bench Dump ./internal/sockdiag
func BenchmarkDump(b *testing.B) {
	raiseFileLimit(20000)
	other := listen(b)
	defer other.Close()
	conns := connect(b, other, 9900)
	defer closeAll(conns)
	app := listen(b)
	defer app.Close()
	defer closeAll(connect(b, app, 1))
	appPort := uint16(app.Addr().(*net.TCPAddr).Port)
	queries := []struct {
		name string
		q    Query
	}{
		{"whole table", Query{States: All}},
		{"listeners", Listeners},
		{"app port", Query{States: All, Ports: []uint16{appPort}}},
	}
	for _, src := range []Source{Netlink{}, Proc{}} {
		for _, q := range queries {
			b.Run(src.Name()+"/"+q.name, func(b *testing.B) {
				var n int
				for b.Loop() {
					socks, err := src.Dump(q.q)
					if err != nil {
						b.Fatal(err)
					}
					n = len(socks)
				}
				b.ReportMetric(float64(n), "sockets")
			})
		}
	}
	b.Run("counters", func(b *testing.B) {
		for b.Loop() {
			if _, err := ReadCounters(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func raiseFileLimit(n uint64) {
	var limit unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &limit)
	if limit.Cur < n {
		limit.Cur = min(limit.Max, n)
		unix.Setrlimit(unix.RLIMIT_NOFILE, &limit)
	}
}

func listen(b *testing.B) net.Listener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// connect opens n connections to l and returns both ends of each.
func connect(b *testing.B, l net.Listener, n int) []net.Conn {
	accepted := make(chan net.Conn, n)
	go func() {
		for range n {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	var conns []net.Conn
	for i := range n {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			b.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c, <-accepted)
	}
	return conns
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}
