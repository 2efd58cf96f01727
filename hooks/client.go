package hooks

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// The drain makes a handful of small requests to localhost or in-cluster
// endpoints, once per container stop. net/http would cost every container
// start about 3 ms of package initialisation and 2.5 MB of binary for that
// (see docs/benchmarks.md), so this is a plain HTTP/1.1 client: one request
// per connection, no proxies, no redirects, https through crypto/tls.

// header is one request header.
type header struct{ name, value string }

// maxBody bounds what is read of an answer.
const maxBody = 1 << 20

// tlsRoots are the CAs https endpoints are checked against; nil means the
// system's. Tests set it to trust their own server.
var tlsRoots *x509.CertPool

// roundTrip sends r and returns the status code and body.
func roundTrip(ctx context.Context, r request) (int, []byte, error) {
	u, err := url.Parse(r.url)
	if err != nil {
		return 0, nil, err
	}
	conn, err := dial(ctx, u)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	// Closing the connection is what interrupts a read or write in progress.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if _, err := io.WriteString(conn, formatRequest(u, r)); err != nil {
		return 0, nil, ctxErr(ctx, err)
	}
	status, body, err := readResponse(bufio.NewReader(conn), r.method)
	return status, body, ctxErr(ctx, err)
}

func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func dial(ctx context.Context, u *url.URL) (net.Conn, error) {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil || u.Scheme != "https" {
		return conn, err
	}
	tlsConn := tls.Client(conn, &tls.Config{ServerName: u.Hostname(), RootCAs: tlsRoots})
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tlsConn, nil
}

func formatRequest(u *url.URL, r request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: drainit\r\nAccept: */*\r\nConnection: close\r\n", r.method, u.RequestURI(), u.Host)
	for _, h := range r.headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h.name, h.value)
	}
	if r.contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", r.contentType)
	}
	if r.body != "" || (r.method != "GET" && r.method != "HEAD") {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(r.body))
	}
	b.WriteString("\r\n")
	b.WriteString(r.body)
	return b.String()
}

func readResponse(br *bufio.Reader, method string) (int, []byte, error) {
	tp := textproto.NewReader(br)
	for {
		status, err := readStatus(tp)
		if err != nil {
			return 0, nil, err
		}
		hdr, err := tp.ReadMIMEHeader()
		if err != nil {
			return 0, nil, fmt.Errorf("reading headers: %w", err)
		}
		if status >= 100 && status < 200 {
			continue // 100 Continue and friends come before the real answer
		}
		body, err := readBody(br, hdr, status, method)
		return status, body, err
	}
}

func readStatus(tp *textproto.Reader) (int, error) {
	line, err := tp.ReadLine()
	if err != nil {
		return 0, fmt.Errorf("reading the status line: %w", err)
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if !strings.HasPrefix(proto, "HTTP/1.") || err != nil {
		return 0, fmt.Errorf("not an HTTP/1.x answer: %q", line)
	}
	return status, nil
}

func readBody(br *bufio.Reader, hdr textproto.MIMEHeader, status int, method string) ([]byte, error) {
	switch {
	case method == "HEAD" || status == 204 || status == 304:
		return nil, nil
	case strings.EqualFold(hdr.Get("Transfer-Encoding"), "chunked"):
		return readChunked(br)
	case hdr.Get("Content-Length") != "":
		n, err := strconv.ParseInt(hdr.Get("Content-Length"), 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad Content-Length %q", hdr.Get("Content-Length"))
		}
		body := make([]byte, min(n, maxBody))
		_, err = io.ReadFull(br, body)
		return body, err
	}
	return io.ReadAll(io.LimitReader(br, maxBody))
}

func readChunked(br *bufio.Reader) ([]byte, error) {
	var body []byte
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("reading a chunk size: %w", err)
		}
		sizeText, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		size, err := strconv.ParseInt(sizeText, 16, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 {
			return body, nil // trailers, if any, are not needed
		}
		if int64(len(body))+size > maxBody {
			return nil, errors.New("answer too large")
		}
		chunk := make([]byte, size+2) // the chunk and its CRLF
		if _, err := io.ReadFull(br, chunk); err != nil {
			return nil, fmt.Errorf("reading a chunk: %w", err)
		}
		body = append(body, chunk[:size]...)
	}
}
