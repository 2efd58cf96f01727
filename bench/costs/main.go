// Command costs measures what a PID 1 costs, drainit beside tini,
// tini-static, dumb-init and catatonit in the same run: start-up overhead
// (hyperfine), signal forwarding latency, idle memory and binary size,
// reaping 10,000 orphaned zombies, queued signals and a child exiting in a
// signal storm, and idle wake-ups.
//
// Run as root from the repository root: go run ./bench/costs
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/drainit/drainit/bench/benchdata"
)

type initCmd struct {
	Name string
	argv []string // the init and its flags, up to the child's command
}

type settings struct {
	drainit  string
	testprog string
	out      string
	quick    bool
}

func main() {
	var s settings
	flag.StringVar(&s.drainit, "drainit", "bin/drainit", "the drainit binary")
	flag.StringVar(&s.out, "out", "bench/results", "where to write costs.json")
	flag.BoolVar(&s.quick, "quick", false, "fewer repetitions, for a smoke run")
	flag.Parse()
	if err := run(s); err != nil {
		fmt.Fprintln(os.Stderr, "costs:", err)
		os.Exit(1)
	}
}

func run(s settings) error {
	dir, err := os.MkdirTemp("", "costs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if s.drainit, err = filepath.Abs(s.drainit); err != nil {
		return err
	}
	s.testprog = filepath.Join(dir, "testprog")
	gofloor := filepath.Join(dir, "go-floor")
	for pkg, bin := range map[string]string{"./internal/testprog": s.testprog, "./bench/costs/gofloor": gofloor} {
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %v: %s", pkg, err, out)
		}
	}
	inits := []initCmd{
		{"tini", []string{"tini", "-s", "--"}},
		{"tini-static", []string{"tini-static", "-s", "--"}},
		{"dumb-init", []string{"dumb-init"}},
		{"catatonit", []string{"catatonit", "--"}},
		{"drainit", []string{s.drainit, "--"}},
	}
	floor := []initCmd{{"Go floor (reference)", []string{gofloor, "--"}}}
	reps := map[string]int{"startup": 300, "latency": 2000, "reaping": 7, "idle_seconds": 10, "storm": 8, "quiet_seconds": 20}
	if s.quick {
		reps = map[string]int{"startup": 30, "latency": 200, "reaping": 2, "idle_seconds": 2, "storm": 2, "quiet_seconds": 3}
	}
	c := benchdata.Costs{Repeats: reps, StartedAt: time.Now()}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"start-up", func() (err error) {
			c.Startup, err = measureStartup(append(inits, floor...), dir, reps["startup"])
			return
		}},
		{"signal latency", func() (err error) { c.Latency, err = measureLatency(inits, s.testprog, reps["latency"]); return }},
		{"memory", func() (err error) { c.Memory, err = measureMemory(append(inits, floor...)); return }},
		{"reaping", func() (err error) { c.Reaping, err = measureReaping(inits, s.testprog, reps["reaping"]); return }},
		{"signal storm", func() (err error) { c.Storm, err = measureStorm(inits, s.testprog, dir, reps["storm"]); return }},
		{"idle wake-ups", func() (err error) {
			c.Idle, err = measureIdle(inits, time.Duration(reps["idle_seconds"])*time.Second)
			return
		}},
		{"quiet's idle cost", func() (err error) {
			quiet := append(slices.Clone(inits), initCmd{"drainit, quiet", []string{"env", "DRAINIT_PRESTOP=quiet", s.drainit, "--"}})
			c.QuietIdle, err = measureQuietIdle(quiet, s.testprog, time.Duration(reps["quiet_seconds"])*time.Second)
			return
		}},
	}
	for _, step := range steps {
		fmt.Println("measuring", step.name)
		if err := step.fn(); err != nil {
			return fmt.Errorf("%s: %w", step.name, err)
		}
	}
	return benchdata.Write(s.out, "costs.json", c)
}
