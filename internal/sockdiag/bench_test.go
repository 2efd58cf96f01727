package sockdiag

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkDump reads a namespace holding 10,000 TCP sockets (5,000
// loopback connections, both ends): the cost of one poll of the quiet step.
// go test -run '^$' -bench Dump ./internal/sockdiag
func BenchmarkDump(b *testing.B) {
	var limit unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &limit)
	if limit.Cur < 12000 {
		limit.Cur = min(limit.Max, 20000)
		unix.Setrlimit(unix.RLIMIT_NOFILE, &limit)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 5000)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 5000; i++ {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			b.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c, <-accepted)
	}
	for _, src := range []Source{Netlink{}, Proc{}} {
		b.Run(src.Name(), func(b *testing.B) {
			var n int
			for i := 0; i < b.N; i++ {
				socks, err := src.Dump()
				if err != nil {
					b.Fatal(err)
				}
				n = len(socks)
			}
			b.ReportMetric(float64(n), "sockets")
		})
	}
}
