package e2e

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The legacy start.sh neither execs nor traps. bash dies of SIGTERM at once;
// the JVM, reached through the process group, runs its shutdown hook, and
// drainit waits for it instead of taking it down with the namespace.
func TestJavaBehindStartShFinishesItsHook(t *testing.T) {
	app := startJavaApp(t, freePort(t))
	sent := time.Now()
	app.signal(unix.SIGTERM)
	app.expectExit(143, limit)
	exited := time.Now()
	hookStart, hookDone := app.event(t, "hook-start"), app.event(t, "hook-done")
	if hookDone.Sub(hookStart) < time.Second-2*time.Millisecond {
		t.Errorf("the hook ran %v, want its full 1s drain", hookDone.Sub(hookStart))
	}
	if exited.Before(hookDone) {
		t.Error("drainit exited before the JVM shutdown hook finished")
	}
	t.Logf("drainit exited %v after SIGTERM", exited.Sub(sent).Round(time.Millisecond))
}
