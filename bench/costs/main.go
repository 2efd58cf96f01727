// Command costs measures what a PID 1 costs, drainit beside tini,
// tini-static, dumb-init and catatonit in the same run: start-up overhead
// (hyperfine), signal forwarding latency, idle memory and binary size,
// reaping 10,000 orphaned zombies, queued signals and a child exiting in a
// signal storm, and idle wake-ups.
//
// Run as root from the repository root: go run ./bench/costs
package main

import (
	"encoding/json"
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
	startup  bool
}

func main() {
	var s settings
	flag.StringVar(&s.drainit, "drainit", "bin/drainit", "the drainit binary")
	flag.StringVar(&s.out, "out", "bench/results", "where to write costs.json")
	flag.BoolVar(&s.quick, "quick", false, "fewer repetitions, for a smoke run")
	flag.BoolVar(&s.startup, "startup", false, "measure the start-up alone, into the costs.json there is")
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
	noReserve := filepath.Join(dir, "drainit-noreserve")
	for bin, args := range map[string][]string{s.testprog: {"./internal/testsupport/testprog"}, gofloor: {"./bench/costs/gofloor"},
		noReserve: {"-tags", "noreserve", "-ldflags", "-s -w -E github.com/drainit/drainit/signals.entry", "."}} {
		build := exec.Command("go", append([]string{"build", "-trimpath", "-ldflags", "-s -w", "-o", bin}, args...)...)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %v: %s", args, err, out)
		}
	}
	inits := []initCmd{
		{"tini", []string{"tini", "-s", "--"}},
		{"tini-static", []string{"tini-static", "-s", "--"}},
		{"dumb-init", []string{"dumb-init"}},
		{"catatonit", []string{"catatonit", "--"}},
		{"drainit", []string{s.drainit, "--"}},
	}
	floor := []initCmd{{"Go floor (reference)", []string{gofloor, "--"}},
		{"drainit without its thread reserve (reference)", []string{noReserve, "--"}}}
	reps := map[string]int{"startup": 300, "latency": 2000, "reaping": 7, "idle_seconds": 10, "storm": 8, "quiet_seconds": 20}
	if s.quick {
		reps = map[string]int{"startup": 30, "latency": 200, "reaping": 2, "idle_seconds": 2, "storm": 2, "quiet_seconds": 3}
	}
	c := benchdata.Costs{Repeats: reps, StartedAt: time.Now()}
	if s.startup {
		return measureStartupInto(s.out, append(inits, floor...), dir, reps["startup"])
	}
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

// measureStartupInto measures the start-up alone and puts it in the
// costs.json already in out.
func measureStartupInto(out string, inits []initCmd, dir string, runs int) error {
	var c benchdata.Costs
	data, err := os.ReadFile(filepath.Join(out, "costs.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return err
	}
	if c.Startup, err = measureStartup(inits, dir, runs); err != nil {
		return err
	}
	return benchdata.Write(out, "costs.json", c)
}
