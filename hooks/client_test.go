package hooks

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/drainit/drainit/internal/testsupport/loopback"
)

// rawServer answers every connection with reply, after reading the request.
func rawServer(t *testing.T, reply string) string {
	return serveRaw(t, func(conn net.Conn) { io.WriteString(conn, reply) })
}

func serveRaw(t *testing.T, answer func(net.Conn)) string {
	t.Helper()
	url, stop, err := loopback.ServeRaw(answer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return url
}

func TestRoundTripFraming(t *testing.T) {
	tests := []struct {
		name, reply string
		status      int
		body        string
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "hello"},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: y\r\n\r\n", 200, "hello world"},
		{"until close", "HTTP/1.0 500 Internal Server Error\r\n\r\nboom", 500, "boom"},
		{"100 continue first", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 204, ""},
	}
	for _, tt := range tests {
		status, body, err := roundTrip(context.Background(), request{method: "POST", url: rawServer(t, tt.reply) + "/x", body: "a=1"})
		if err != nil || status != tt.status || string(body) != tt.body {
			t.Errorf("%s: %d %q %v; want %d %q", tt.name, status, body, err, tt.status, tt.body)
		}
	}
	for _, bad := range []string{"SSH-2.0-OpenSSH\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"} {
		if _, _, err := roundTrip(context.Background(), request{method: "GET", url: rawServer(t, bad)}); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// A real Go server streams a large JSON list chunked; the client must read
// it whole, as the Nacos instance list can be.
func TestRoundTripAgainstNetHTTP(t *testing.T) {
	big := `{"hosts":[` + strings.Repeat(`{"ip":"10.0.0.1","port":80,"enabled":true},`, 3000) + `{}]}`
	var gotPath, gotQuery, gotType, gotBody string
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		gotPath, gotQuery, gotType, gotBody = r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), string(data)
		for i := 0; i < len(big); i += 4096 {
			io.WriteString(w, big[i:min(i+4096, len(big))])
			w.(http.Flusher).Flush()
		}
	})
	for _, srv := range []*httptest.Server{httptest.NewServer(handler), httptest.NewTLSServer(handler)} {
		defer srv.Close()
		if srv.TLS != nil {
			tlsRoots = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
			defer func() { tlsRoots = nil }()
		}
		status, body, err := roundTrip(context.Background(), request{method: "PUT", url: srv.URL + "/a/b?x=1&y=%20", body: `{"k":1}`, contentType: "application/json"})
		if err != nil || status != 200 || string(body) != big {
			t.Fatalf("%s: status %d, %d bytes, %v", srv.URL, status, len(body), err)
		}
		if gotPath != "/a/b" || gotQuery != "x=1&y=%20" || gotType != "application/json" || gotBody != `{"k":1}` {
			t.Errorf("server saw %q %q %q %q", gotPath, gotQuery, gotType, gotBody)
		}
	}
}

// A server that never answers is cut off when the context ends.
func TestRoundTripHonoursTheContext(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	go func() {
		conn, err := l.Accept()
		if err == nil {
			defer conn.Close()
			io.Copy(io.Discard, conn)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, _, err := roundTrip(ctx, request{method: "GET", url: "http://" + l.Addr().String()})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the deadline", err)
	}
}

// hostileServer answers every connection with head, then writes fill
// endlessly (until the client goes), or trickles one byte a second when
// trickle is set.
func hostileServer(t *testing.T, head, fill string, trickle bool) string {
	return serveRaw(t, func(conn net.Conn) {
		if _, err := io.WriteString(conn, head); err != nil {
			return
		}
		chunk := strings.Repeat(fill, 64<<10/len(fill))
		if trickle {
			chunk = fill[:1]
		}
		for {
			if _, err := io.WriteString(conn, chunk); err != nil {
				return
			}
			if trickle {
				time.Sleep(time.Second)
			}
		}
	})
}

// Endpoints that never stop sending, or send too slowly, are cut off: by
// the size bounds, else by the call's deadline, with memory bounded.
func TestRoundTripBoundsHostileEndpoints(t *testing.T) {
	tests := []struct {
		name, head, fill string
		trickle          bool
	}{
		{"endless header line", "HTTP/1.1 200 OK\r\nX-Endless: ", "a", false},
		{"endless status line", "HTTP/1.1 200 ", "O", false},
		{"endless chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "1", false},
		{"10 MB body", "HTTP/1.1 200 OK\r\nContent-Length: 10485760\r\n\r\n", "x", false},
		{"endless body", "HTTP/1.1 200 OK\r\n\r\n", "x", false},
		{"trickle", "HTTP/1.1 200 OK\r\nX-Slow: ", "abc", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := hostileServer(t, tt.head, tt.fill, tt.trickle)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, body, err := roundTrip(ctx, request{method: "GET", url: url})
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("accepted an answer of %d bytes", len(body))
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
				t.Errorf("allocated %d MiB reading it", grew>>20)
			}
			t.Logf("%v", err)
		})
	}
}
