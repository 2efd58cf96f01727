package e2e

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The legacy start.sh neither execs nor traps. bash dies of SIGTERM at once;
// the JVM, reached through the process group, runs its shutdown hook, which
// lets a request still in flight finish, and drainit waits for it instead of
// taking it down with the namespace.
func TestJavaBehindStartShFinishesItsHook(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	port := freePort(t)
	app := startJavaApp(t, port)
	inFlight := make(chan string, 1)
	go func() {
		client := http.Client{Timeout: limit}
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/slow?ms=700", port))
		if err != nil {
			inFlight <- err.Error()
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		inFlight <- string(body)
	}()
	waitFor(t, limit, "the slow request to be in flight", func() bool { return app.eventSeen("slow") })
	sent := time.Now()
	app.signal(unix.SIGTERM)
	app.expectExit(143, limit)
	// When unshare's Wait returned: drainit had exited by then, and the
	// hook's record (whole milliseconds) must not be later.
	exited := app.p.ExitedAt
	app.event(t, "hook-start")
	if done := app.event(t, "hook-done"); exited.Before(done) {
		t.Errorf("drainit exited %v before the JVM shutdown hook finished", done.Sub(exited))
	}
	select {
	case got := <-inFlight:
		if got != "slow done\n" {
			t.Errorf("the request in flight at SIGTERM got %q", got)
		}
	case <-time.After(limit):
		t.Fatal("the request in flight never finished")
	}
	t.Logf("drainit exited %v after SIGTERM", exited.Sub(sent).Round(time.Millisecond))
}
