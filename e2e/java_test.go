package e2e

import (
	"os/exec"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var (
	javaOnce    sync.Once
	javaClasses string
	javaErr     error
)

// compileJava builds testdata/Slow.java once; .ci/run installs the JDK.
func compileJava(t *testing.T) string {
	t.Helper()
	javaOnce.Do(func() {
		javaClasses = binDir + "/classes"
		out, err := exec.Command("javac", "-d", javaClasses, "testdata/Slow.java").CombinedOutput()
		if err != nil {
			javaErr = err
			t.Logf("javac: %s", out)
		}
	})
	if javaErr != nil {
		t.Fatalf("javac failed (is a JDK installed?): %v", javaErr)
	}
	return javaClasses
}

// The legacy start.sh neither execs nor traps. bash dies of SIGTERM at once;
// the JVM, reached through the process group, runs its shutdown hook, and
// drainit waits for it instead of taking it down with the namespace.
func TestJavaBehindStartShFinishesItsHook(t *testing.T) {
	classes := compileJava(t)
	dir := t.TempDir()
	sh := script(t, "echo starting\njava -cp "+classes+" Slow "+dir+" 1500\necho java exited")
	r := start(t, opts{}, sh)
	waitFor(t, time.Minute, "the JVM to start", func() bool { return exists(dir + "/ready") })
	sent := time.Now()
	r.signal(unix.SIGTERM)
	r.expectExit(143, limit)
	t.Logf("drainit exited %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
	if !exists(dir + "/hook-done") {
		t.Fatal("the JVM shutdown hook did not finish before drainit exited")
	}
}
