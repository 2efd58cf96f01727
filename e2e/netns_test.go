package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// netns is a network namespace of a test's own, with its loopback up. The
// quiet step reads counters of the whole namespace (accepted connections,
// segments): in the machine's namespace, any other traffic on it (another
// job's, a bench's) moves them, as it would in a pod with hostNetwork. A
// nil *netns is the machine's namespace.
type netns struct{ path string }

var netnsCount atomic.Int64

func newNetns(t *testing.T) *netns {
	t.Helper()
	needRoot(t)
	name := fmt.Sprintf("drainit-e2e-%d-%d", os.Getpid(), netnsCount.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", name).Run() })
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("loopback up in %s: %v: %s", name, err, out)
	}
	return &netns{path: "/run/netns/" + name}
}

// do runs f on a thread that has entered the namespace. The thread stays
// locked to its goroutine and ends with it, so no other goroutine ever runs
// in the namespace; sockets made in f keep it wherever they are used.
func (n *netns) do(f func()) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		fd, err := unix.Open(n.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			err = unix.Setns(fd, unix.CLONE_NEWNET)
			unix.Close(fd)
		}
		if err == nil {
			f()
		}
		errc <- err
	}()
	return <-errc
}

// dial is d's DialContext, made in the namespace.
func (n *netns) dial(d *net.Dialer) func(context.Context, string, string) (net.Conn, error) {
	if n == nil {
		return d.DialContext
	}
	return func(ctx context.Context, network, addr string) (conn net.Conn, err error) {
		if nsErr := n.do(func() { conn, err = d.DialContext(ctx, network, addr) }); nsErr != nil {
			return nil, nsErr
		}
		return conn, err
	}
}

// client is an HTTP client whose connections are made in the namespace.
func (n *netns) client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: n.dial(&net.Dialer{}), DisableKeepAlives: true}}
}

// serve is serve (a test HTTP server on loopback) in the namespace.
func (n *netns) serve(t *testing.T, handler http.Handler) string {
	t.Helper()
	if n == nil {
		return serve(t, handler)
	}
	var ln net.Listener
	var err error
	if nsErr := n.do(func() { ln, err = net.Listen("tcp", "127.0.0.1:0") }); nsErr != nil || err != nil {
		t.Fatalf("listen in %s: %v %v", n.path, nsErr, err)
	}
	srv := httptest.NewUnstartedServer(handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// enter makes cmd start in the namespace: nsenter joins it and execs the
// rest (for a network namespace alone it does not fork, so cmd's pid is
// still the command's).
func (n *netns) enter(t *testing.T, cmd *exec.Cmd) {
	if n == nil {
		return
	}
	path, err := exec.LookPath("nsenter")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Args = append([]string{"nsenter", "--net=" + n.path}, cmd.Args...)
	cmd.Path = path
}
