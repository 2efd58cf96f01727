package testkit

import (
	"io/fs"
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
	dir string
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

// Filled says whether the limit has refused a fork and every pid is
// taken. Once a fork was refused and a pid is free again (a filler that
// gave up and exited), it calls topUp to take it.
func (p PidsCgroup) Filled(topUp func()) bool {
	refused := p.refusals() > 0
	full := refused && p.current() >= p.limit()
	if refused && !full {
		topUp()
	}
	return full
}

func (p PidsCgroup) current() int { return p.number("pids.current") }
func (p PidsCgroup) limit() int   { return p.number("pids.max") }

// refusals counts the forks refused in the cgroup and below it: cgroup
// v1 counts a refusal where the fork was, not where the limit is (a pod's
// limit, its container's cgroup).
func (p PidsCgroup) refusals() int {
	n := 0
	err := filepath.WalkDir(p.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		f := strings.Fields(p.read(filepath.Join(path, "pids.events"))) // "max N", then other counters on newer kernels
		if len(f) < 2 || f[0] != "max" {
			p.t.Fatalf("%s/pids.events: %q", path, f)
		}
		n += p.atoi(path+"/pids.events", f[1])
		return nil
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return n
}

func (p PidsCgroup) number(file string) int {
	path := filepath.Join(p.dir, file)
	return p.atoi(path, p.read(path))
}

func (p PidsCgroup) read(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		p.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func (p PidsCgroup) atoi(path, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		p.t.Fatalf("%s: %q is not a number (no limit set?)", path, s)
	}
	return n
}
