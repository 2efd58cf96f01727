package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// An exec step that cannot be stopped (frozen by the cgroup freezer: SIGKILL
// waits until it is thawed, as in uninterruptible sleep) does not keep
// SIGTERM from the app: the step gives up on it a second after its kill.
func TestFrozenExecStepDoesNotHoldTheSignal(t *testing.T) {
	freezer := fmt.Sprintf("/sys/fs/cgroup/freezer/drainit-test-%d", os.Getpid())
	if err := os.Mkdir(freezer, 0o755); err != nil {
		t.Skipf("no cgroup v1 freezer here: %v", err)
	}
	t.Cleanup(func() {
		os.WriteFile(freezer+"/freezer.state", []byte("THAWED"), 0o644)
		waitFor(t, limit, "the frozen command to go", func() bool {
			data, _ := os.ReadFile(freezer + "/cgroup.procs")
			return len(data) == 0
		})
		os.Remove(freezer)
	})
	freeze := fmt.Sprintf("echo $$ > %s/cgroup.procs; echo FROZEN > %s/freezer.state; sleep 60", freezer, freezer)
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
	waitForLog(t, r, "still not gone")
	os.WriteFile(freezer+"/freezer.state", []byte("THAWED"), 0o644)
	r.expectExit(0, limit)
}
