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

	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/internal/proc"
)

// pidsCgroup is a pids cgroup of the test's own (v1's pids hierarchy, or
// v2's unified one); Kubernetes' pod pids limit and docker run
// --pids-limit count threads as this one does.
type pidsCgroup struct {
	t   *testing.T
	dir string
}

func newPidsCgroup(t *testing.T, max int) pidsCgroup {
	t.Helper()
	dir, err := makePidsCgroup(fmt.Sprintf("drainit-test-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err != nil {
		t.Fatalf("no pids cgroup: %v", err)
	}
	g := pidsCgroup{t: t, dir: dir}
	g.write("pids.max", strconv.Itoa(max))
	t.Cleanup(g.remove)
	return g
}

// makePidsCgroup makes a group with a pids controller: under v1's pids
// hierarchy, or, on a cgroup v2 host, in the unified one, whose root must
// then hand the pids controller down (cgroup.subtree_control).
func makePidsCgroup(name string) (string, error) {
	if _, err := os.Stat("/sys/fs/cgroup/pids"); err == nil {
		dir := "/sys/fs/cgroup/pids/" + name
		return dir, os.Mkdir(dir, 0o755)
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		return "", fmt.Errorf("neither cgroup v1's pids hierarchy nor cgroup v2 at /sys/fs/cgroup")
	}
	if err := os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte("+pids"), 0o644); err != nil {
		return "", fmt.Errorf("cgroup v2: enabling pids for the root's children: %w", err)
	}
	dir := "/sys/fs/cgroup/" + name
	return dir, os.Mkdir(dir, 0o755)
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
	pidsLimitReached(t, nil)
}

// The same with GOMAXPROCS=8 in the container's environment, as a Go app's
// image or the Downward API's limits.cpu sets it: drainit keeps one P
// (before, the runtime crashed with newosproc at the limit, 2 runs in 4
// under Docker, with 50 docker kill -s WINCH at the limit), and the app
// still gets the variable.
func TestPidsLimitReachedWithGOMAXPROCSInTheEnvironment(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	pidsLimitReached(t, func(app *javaApp) {
		for range 50 { // each wakes goroutines at once, as docker kill -s WINCH did
			app.signal(unix.SIGWINCH)
		}
		environ, err := os.ReadFile("/proc/" + strconv.Itoa(javaPid(t, app.pid)) + "/environ")
		if err != nil || !strings.Contains("\x00"+string(environ), "\x00GOMAXPROCS=8\x00") {
			t.Errorf("the app's environment lacks GOMAXPROCS=8 (%v)", err)
		}
	}, "GOMAXPROCS=8")
}

// javaPid is the JVM below drainit (start.sh's child), read before the stop.
func javaPid(t *testing.T, drainit int) int {
	for _, pid := range proc.Descendants(drainit) {
		if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); strings.TrimSpace(string(comm)) == "java" {
			return pid
		}
	}
	t.Fatal("no java below drainit")
	return 0
}

// pidsLimitReached runs the app behind the pids limit with env, calls
// atLimit (when given) once the limit is reached, then stops it.
func pidsLimitReached(t *testing.T, atLimit func(*javaApp), env ...string) {
	g := newPidsCgroup(t, 150)
	registry := serve(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	app := startJavaAppWith(t, freePort(t), opts{setup: g.enter}, nil, append(env,
		"DRAINIT_PRESTOP=http POST "+registry+"/out; quiet 1s max 2s", "DRAINIT_GRACE_PERIOD=20s", "DRAINIT_STOP_TIMEOUT=3s")...)
	before := threads(app.pid)
	startCaller(t, nil, &listing{}, "http://127.0.0.1:"+strconv.Itoa(app.port)+"/", 0, true, "")
	g.fill()
	// What is tested is a stretch of time at the limit: the sampler reads
	// the traffic once a second meanwhile.
	filled := time.Now()
	waitFor(t, limit, "3 s at the limit", func() bool { return time.Since(filled) > 3*time.Second || app.exited() })
	if atLimit != nil {
		atLimit(app)
	}
	app.signal(unix.SIGTERM)
	app.expectExit(143, limit)
	log := app.stderr.String()
	for _, want := range []string{`step="http POST`, logging.StopForwarded, "process tree gone"} {
		if !strings.Contains(log, want) {
			t.Errorf("the timeline lacks %q:\n%s", want, log)
		}
	}
	t.Logf("drainit ran %d threads before the limit was reached\n%s", before, log)
}
