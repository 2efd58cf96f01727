package testkit

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// PidsCgroup is a container's or a pod's pids cgroup, read from the host.
// Only the host can tell a full one: a docker or kubectl exec joins the
// cgroup without a fork, which the limit does not refuse, so a probe from
// inside still starts.
type PidsCgroup struct {
	t   testing.TB
	Dir string
}

// PidsRoot is where the pids hierarchy is mounted: the unified one, or
// v1's pids controller (also on hybrid hosts, where "0::" has none).
func PidsRoot() string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return "/sys/fs/cgroup"
	}
	return "/sys/fs/cgroup/pids"
}

// PidsCgroupAt is the pids cgroup in dir.
func PidsCgroupAt(t testing.TB, dir string) PidsCgroup { return PidsCgroup{t, dir} }

// PidsCgroupOf is the pids cgroup that holds pid.
func PidsCgroupOf(t testing.TB, pid int) PidsCgroup {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	v2 := PidsRoot() == "/sys/fs/cgroup"
	for _, line := range strings.Split(string(b), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok && v2 {
			return PidsCgroup{t, filepath.Join(PidsRoot(), path)}
		}
		if _, path, ok := strings.Cut(line, ":pids:"); ok && !v2 {
			return PidsCgroup{t, filepath.Join(PidsRoot(), path)}
		}
	}
	t.Fatalf("no pids cgroup for pid %d in:\n%s", pid, b)
	return PidsCgroup{}
}

// Full says whether the limit has refused a fork and every pid is taken.
func (p PidsCgroup) Full() bool { return p.Refusals() > 0 && p.Current() >= p.Max() }

func (p PidsCgroup) Current() int { return p.number("pids.current") }
func (p PidsCgroup) Max() int     { return p.number("pids.max") }

// Refusals counts the forks the limit refused.
func (p PidsCgroup) Refusals() int {
	f := strings.Fields(p.read("pids.events")) // "max N", then other counters on newer kernels
	if len(f) < 2 || f[0] != "max" {
		p.t.Fatalf("%s/pids.events: %q", p.Dir, f)
	}
	return p.atoi("pids.events", f[1])
}

func (p PidsCgroup) number(file string) int { return p.atoi(file, p.read(file)) }

func (p PidsCgroup) read(file string) string {
	b, err := os.ReadFile(filepath.Join(p.Dir, file))
	if err != nil {
		p.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func (p PidsCgroup) atoi(file, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		p.t.Fatalf("%s/%s: %q is not a number (no limit set?)", p.Dir, file, s)
	}
	return n
}
