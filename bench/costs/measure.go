package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/drainit/drainit/bench/benchdata"
	"github.com/drainit/drainit/internal/proc"
	"github.com/drainit/drainit/internal/testsupport/pidns"
)

func measureStartup(inits []initCmd, dir string, runs int) ([]benchdata.StartupResult, error) {
	commands := []string{"/bin/true"}
	for _, in := range inits {
		commands = append(commands, strings.Join(in.argv, " ")+" /bin/true")
	}
	export := filepath.Join(dir, "startup.json")
	args := append([]string{"-N", "--warmup", "20", "--runs", strconv.Itoa(runs), "--export-json", export}, commands...)
	cmd := exec.Command("hyperfine", args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("hyperfine: %w", err)
	}
	var report struct {
		Results []struct {
			Command string
			Times   []float64
		}
	}
	data, err := os.ReadFile(export)
	if err == nil {
		err = json.Unmarshal(data, &report)
	}
	if err != nil {
		return nil, err
	}
	var out []benchdata.StartupResult
	names := append([]string{"/bin/true alone"}, namesOf(inits)...)
	for i, r := range report.Results {
		ms := scale(r.Times, 1000)
		out = append(out, benchdata.StartupResult{Name: names[i], Command: r.Command, MedianMs: pct(ms, 50), P25: pct(ms, 25), P75: pct(ms, 75),
			MinMs: pct(ms, 0), MaxMs: pct(ms, 100), Runs: float64(len(ms))})
	}
	for i := range out {
		out[i].OverheadMs = out[i].MedianMs - out[0].MedianMs
	}
	return out, nil
}

func namesOf(inits []initCmd) []string {
	var names []string
	for _, in := range inits {
		names = append(names, in.Name)
	}
	return names
}

func measureLatency(inits []initCmd, testprog string, samples int) ([]benchdata.LatencyResult, error) {
	var out []benchdata.LatencyResult
	for _, in := range inits {
		r, err := latencyOf(in, testprog, samples)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func latencyOf(in initCmd, testprog string, samples int) (benchdata.LatencyResult, error) {
	p, err := startAsPID1(in, testprog, "sigpong")
	if err != nil {
		return benchdata.LatencyResult{}, err
	}
	defer p.kill()
	buf := make([]byte, 1)
	if _, err := io.ReadFull(p.stdout, buf); err != nil {
		return benchdata.LatencyResult{}, fmt.Errorf("child not ready: %w", err)
	}
	var us []float64
	for i := 0; i < samples; i++ {
		start := time.Now()
		syscall.Kill(p.PID1, syscall.SIGUSR1)
		if _, err := io.ReadFull(p.stdout, buf); err != nil {
			return benchdata.LatencyResult{}, err
		}
		us = append(us, float64(time.Since(start).Nanoseconds())/1000)
	}
	return benchdata.LatencyResult{Name: in.Name, P50us: pct(us, 50), P99us: pct(us, 99), MaxUs: pct(us, 100), Samples: samples}, nil
}

func measureMemory(inits []initCmd) ([]benchdata.MemoryResult, error) {
	var out []benchdata.MemoryResult
	for _, in := range inits {
		p, err := startAsPID1(in, "/bin/sleep", "60")
		if err != nil {
			return nil, err
		}
		time.Sleep(time.Second)
		path, _ := exec.LookPath(in.argv[0])
		path, _ = filepath.EvalSymlinks(path)
		info, err := os.Stat(path)
		if err != nil {
			p.kill()
			return nil, err
		}
		out = append(out, benchdata.MemoryResult{Name: in.Name, RSSKiB: procField(p.PID1, "status", "VmRSS:"),
			PSSKiB: procField(p.PID1, "smaps_rollup", "Pss:"), BinaryBytes: info.Size(), Binary: path})
		p.kill()
	}
	return out, nil
}

var reapedRE = regexp.MustCompile(`reaped \d+ in (\S+)`)

func measureReaping(inits []initCmd, testprog string, runs int) ([]benchdata.ReapResult, error) {
	var out []benchdata.ReapResult
	for _, in := range inits {
		var ms []float64
		for i := 0; i < runs; i++ {
			args := append([]string{"--pid", "--fork", "--mount-proc"}, in.argv...)
			text, err := exec.Command("unshare", append(args, testprog, "reapclock", "10000")...).Output()
			m := reapedRE.FindStringSubmatch(string(text))
			if err != nil || m == nil {
				return nil, fmt.Errorf("%s: %v: %s", in.Name, err, text)
			}
			d, _ := time.ParseDuration(m[1])
			ms = append(ms, float64(d.Microseconds())/1000)
		}
		out = append(out, benchdata.ReapResult{Name: in.Name, MedianMs: pct(ms, 50), MinMs: pct(ms, 0), MaxMs: pct(ms, 100), Runs: runs})
	}
	return out, nil
}

func measureIdle(inits []initCmd, window time.Duration) ([]benchdata.IdleResult, error) {
	var out []benchdata.IdleResult
	for _, in := range inits {
		p, err := startAsPID1(in, "/bin/sleep", "600")
		if err != nil {
			return nil, err
		}
		time.Sleep(time.Second)
		cpu0, sw0 := cpuTicks(p.PID1), switches(p.PID1)
		time.Sleep(window)
		cpu1, sw1 := cpuTicks(p.PID1), switches(p.PID1)
		p.kill()
		out = append(out, benchdata.IdleResult{Name: in.Name, Seconds: window.Seconds(), CPUMs: float64(cpu1-cpu0) * 10, ContextSwitches: sw1 - sw0})
	}
	return out, nil
}

// pid1 is an init running as PID 1 of a new PID namespace.
type pid1 struct {
	*pidns.Proc
	stdout io.Reader
}

func startAsPID1(in initCmd, child ...string) (*pid1, error) {
	cmd := pidns.Command(append(slices.Clone(in.argv), child...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p, err := pidns.Start(cmd, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Name, err)
	}
	return &pid1{Proc: p, stdout: bufio.NewReader(stdout)}, nil
}

func (p *pid1) kill() { p.Kill() }

// procField reads a "Name: value kB" line of /proc/PID/FILE.
func procField(pid int, file, field string) int {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.Atoi(strings.Fields(rest)[0])
			return n
		}
	}
	return -1
}

// cpuTicks is utime+stime of the whole process, in clock ticks (1/100 s).
func cpuTicks(pid int) int {
	st, _ := proc.ReadStat(pid)
	return st.CPU
}

// switches sums voluntary and involuntary context switches over all threads.
func switches(pid int) int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	total := 0
	for _, t := range tasks {
		tid, _ := strconv.Atoi(filepath.Base(t))
		total += procField(tid, "status", "voluntary_ctxt_switches:") + procField(tid, "status", "nonvoluntary_ctxt_switches:")
	}
	return total
}

func scale(xs []float64, k float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x * k
	}
	return out
}

// pct is the p-th percentile (nearest rank) of xs.
func pct(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(s)-1))
	return s[i]
}

// measureQuietIdle runs each init over a child that holds 9,900 loopback
// connections (about 20,000 sockets in the table) and measures, over
// window, the init's CPU time (every thread's, from schedstat, in ns) and
// its memory: what the quiet step costs while the app runs, beside tini.
func measureQuietIdle(inits []initCmd, testprog string, window time.Duration) ([]benchdata.QuietIdleResult, error) {
	var out []benchdata.QuietIdleResult
	for _, in := range inits {
		p, err := startAsPID1(in, testprog, "conns", "9900")
		if err != nil {
			return nil, err
		}
		line, err := bufio.NewReader(p.stdout).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "holding") {
			p.kill()
			return nil, fmt.Errorf("%s: the child holds no connections: %q %v", in.Name, line, err)
		}
		time.Sleep(3 * time.Second) // past the start-up
		cpu0 := schedNs(p.PID1)
		time.Sleep(window)
		cpu1 := schedNs(p.PID1)
		threads, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", p.PID1))
		out = append(out, benchdata.QuietIdleResult{Name: in.Name, Sockets: 19800, Seconds: window.Seconds(),
			CPUMsPerSec: float64(cpu1-cpu0) / 1e6 / window.Seconds(), RSSKiB: procField(p.PID1, "status", "VmRSS:"), Threads: len(threads)})
		p.kill()
	}
	return out, nil
}

// schedNs is the CPU time of every thread of pid, in nanoseconds.
func schedNs(pid int) int64 {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var total int64
	for _, t := range tasks {
		data, _ := os.ReadFile(t)
		if f := strings.Fields(string(data)); len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			total += n
		}
	}
	return total
}
