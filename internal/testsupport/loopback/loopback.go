// Package loopback hands out addresses on 127.0.0.1 for the tests and the
// benches, which send traffic nowhere else.
package loopback

import "net"

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ServeRaw answers every TCP connection on 127.0.0.1 with answer, after
// reading (up to 4 KiB of) the request: a server that speaks whatever a
// test needs, well-formed HTTP or not. It returns the base URL and a stop.
func ServeRaw(answer func(conn net.Conn)) (url string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.Read(make([]byte, 4096))
				answer(conn)
			}()
		}
	}()
	return "http://" + l.Addr().String(), func() { l.Close() }, nil
}
