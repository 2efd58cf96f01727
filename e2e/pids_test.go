package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pidsCgroup is a cgroup v1 pids group of the test's own; Kubernetes' pod
// pids limit and docker run --pids-limit count threads as this one does.
type pidsCgroup struct {
	t   *testing.T
	dir string
}

func newPidsCgroup(t *testing.T, max int) pidsCgroup {
	t.Helper()
	dir := fmt.Sprintf("/sys/fs/cgroup/pids/drainit-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("no cgroup v1 pids controller here: %v", err)
	}
	g := pidsCgroup{t: t, dir: dir}
	g.write("pids.max", strconv.Itoa(max))
	t.Cleanup(g.remove)
	return g
}

func (g pidsCgroup) write(file, value string) {
	g.t.Helper()
	if err := os.WriteFile(g.dir+"/"+file, []byte(value), 0o644); err != nil {
		g.t.Fatal(err)
	}
}

func (g pidsCgroup) pids() []int {
	data, _ := os.ReadFile(g.dir + "/cgroup.procs")
	var out []int
	for _, f := range strings.Fields(string(data)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func (g pidsCgroup) current() int {
	data, _ := os.ReadFile(g.dir + "/pids.current")
	n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return n
}

// remove kills what is left in the group by pid and removes it.
func (g pidsCgroup) remove() {
	g.write("pids.max", "max")
	waitFor(g.t, limit, "the pids group to empty", func() bool {
		for _, pid := range g.pids() {
			unix.Kill(pid, unix.SIGKILL)
		}
		return len(g.pids()) == 0
	})
	os.Remove(g.dir)
}

// enter makes cmd join the group before it starts anything: the shell
// writes its own pid, then execs the command.
func (g pidsCgroup) enter(cmd *exec.Cmd) {
	cmd.Args = append([]string{"sh", "-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, g.dir}, cmd.Args...)
	cmd.Path = "/bin/sh"
}

// fill starts sleeps in the group, as `docker exec` would, until the kernel
// refuses a fork; the shell that started them then becomes one more sleep,
// so the limit stays reached.
func (g pidsCgroup) fill() {
	g.t.Helper()
	filler := exec.Command("sh", "-c", `while sleep 600 & do :; done 2>/dev/null; exec sleep 600`)
	g.enter(filler)
	if err := filler.Start(); err != nil {
		g.t.Fatal(err)
	}
	go filler.Wait()
	data, _ := os.ReadFile(g.dir + "/pids.max")
	max, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	waitFor(g.t, limit, "the group to reach its pids limit", func() bool { return g.current() >= max })
}

// threads is how many threads pid runs.
func threads(pid int) int {
	entries, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	return len(entries)
}

// With the app filling the pod's pids limit, drainit needs no new thread for
// what it does: the traffic sampling before the stop, an http step, the quiet
// step, the forward and the tree wait. The exit code is the child's
// (start.sh's 143), not a crash of the Go runtime.
func TestPidsLimitReachedByTheApp(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	g := newPidsCgroup(t, 150)
	registry := serve(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	app := startJavaAppWith(t, freePort(t), opts{setup: g.enter}, nil,
		"DRAINIT_PRESTOP=http POST "+registry+"/out; quiet 1s max 2s", "DRAINIT_GRACE_PERIOD=20s", "DRAINIT_STOP_TIMEOUT=3s")
	before := threads(app.pid)
	startCaller(t, nil, &listing{}, "http://127.0.0.1:"+strconv.Itoa(app.port)+"/", 0, true, "")
	g.fill()
	// What is tested is a stretch of time at the limit: the sampler reads
	// the traffic once a second meanwhile.
	filled := time.Now()
	waitFor(t, limit, "3 s at the limit", func() bool { return time.Since(filled) > 3*time.Second || app.exited() })
	app.signal(unix.SIGTERM)
	app.expectExit(143, limit)
	log := app.stderr.String()
	for _, want := range []string{`step="http POST`, "stop signal forwarded", "process tree gone"} {
		if !strings.Contains(log, want) {
			t.Errorf("the timeline lacks %q:\n%s", want, log)
		}
	}
	t.Logf("drainit ran %d threads before the limit was reached\n%s", before, log)
}
