package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// freezer is a cgroup of the test's own whose processes it can freeze: the
// cgroup v2 cgroup.freeze, or the v1 freezer controller. DRAINIT_TEST_CGROUP2
// names a cgroup2 mount to use instead of /sys/fs/cgroup (to try the v2
// path on a v1 host: mount -t cgroup2 none DIR).
type freezer struct {
	dir string
	v2  bool
}

func newFreezer(t *testing.T) freezer {
	t.Helper()
	name := fmt.Sprintf("drainit-test-%d", os.Getpid())
	var f freezer
	switch root := os.Getenv("DRAINIT_TEST_CGROUP2"); {
	case root != "":
		f = freezer{dir: filepath.Join(root, name), v2: true}
	case exists("/sys/fs/cgroup/cgroup.controllers"):
		f = freezer{dir: filepath.Join("/sys/fs/cgroup", name), v2: true}
	default:
		f = freezer{dir: filepath.Join("/sys/fs/cgroup/freezer", name)}
	}
	if err := os.Mkdir(f.dir, 0o755); err != nil {
		t.Skipf("no cgroup to freeze in here: %v", err)
	}
	t.Cleanup(func() {
		f.thaw()
		waitFor(t, limit, "the frozen command to go", func() bool {
			data, _ := os.ReadFile(f.dir + "/cgroup.procs")
			return len(strings.TrimSpace(string(data))) == 0
		})
		os.Remove(f.dir)
	})
	return f
}

// freezeSelf is shell that moves the shell into the cgroup and freezes it.
func (f freezer) freezeSelf() string {
	state, frozen := "freezer.state", "FROZEN"
	if f.v2 {
		state, frozen = "cgroup.freeze", "1"
	}
	return fmt.Sprintf("echo $$ > %s/cgroup.procs; echo %s > %s/%s", f.dir, frozen, f.dir, state)
}

func (f freezer) thaw() {
	if f.v2 {
		os.WriteFile(f.dir+"/cgroup.freeze", []byte("0"), 0o644)
		return
	}
	os.WriteFile(f.dir+"/freezer.state", []byte("THAWED"), 0o644)
}

// An exec step that does not stop at its timeout does not keep SIGTERM
// from the app. Frozen by the v1 freezer, SIGKILL waits until it is thawed,
// as in uninterruptible sleep: the step gives up on it a second after its
// kill. The v2 freezer lets SIGKILL through: the step is killed.
func TestFrozenExecStepDoesNotHoldTheSignal(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	f := newFreezer(t)
	freeze := f.freezeSelf() + "; sleep 60"
	dir := t.TempDir()
	r := start(t, opts{env: []string{"DRAINIT_PRESTOP=exec sh -c '" + freeze + "'", "DRAINIT_STEP_TIMEOUT=1s", "DRAINIT_GRACE_PERIOD=30s"}},
		testprog, "slowterm", dir, "100ms")
	waitFor(t, limit, "the app to start", func() bool { return exists(filepath.Join(dir, "ready")) })
	sent := time.Now()
	r.signal(unix.SIGTERM)
	waitFor(t, limit, "the app to get SIGTERM", func() bool { return exists(filepath.Join(dir, "term")) })
	if took := time.Since(sent); took > 10*time.Second {
		t.Errorf("the app got SIGTERM %v after the drain signal, held by the frozen step", took)
	}
	if f.v2 {
		waitForLog(t, r, "err=\"killed: ")
	} else {
		waitForLog(t, r, "still not gone")
	}
	f.thaw()
	r.expectExit(0, limit)
}
