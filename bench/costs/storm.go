package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/drainit/drainit/bench/benchdata"
)

const rtmin1 = syscall.Signal(35) // SIGRTMIN+1 as the C library numbers it

// measureStorm sends each init 1000 queued SIGRTMIN+1 and counts how many
// reach a child that blocks and counts them; then, runs times, fills the
// kernel's signal queue and floods the init from three processes
// (SIGRTMIN+1, SIGUSR1 twice) while its child exits with 42, and times how
// long after the child's exit the init exits.
func measureStorm(inits []initCmd, testprog, dir string, runs int) ([]benchdata.StormResult, error) {
	var out []benchdata.StormResult
	for _, in := range inits {
		r := benchdata.StormResult{Name: in.Name, Sent: 1000, Runs: runs}
		var err error
		if r.Delivered, err = queuedDeliveries(in, testprog, dir, r.Sent); err != nil {
			return nil, fmt.Errorf("%s: %w", in.Name, err)
		}
		var ms []float64
		for i := 0; i < runs; i++ {
			late, code, err := exitDuringStorm(in, testprog, dir)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", in.Name, err)
			}
			if code != 42 {
				r.WrongCodes++
			}
			ms = append(ms, late)
		}
		r.ExitLateMedianMs, r.ExitLateMaxMs = pct(ms, 50), pct(ms, 100)
		out = append(out, r)
	}
	return out, nil
}

func counterArgv(testprog, out string, block string, extra ...string) []string {
	return append([]string{testprog, "launch", block, "-", testprog, "sigcount", out}, extra...)
}

func queuedDeliveries(in initCmd, testprog, dir string, sends int) (int, error) {
	out := filepath.Join(dir, "counts")
	os.Remove(out)
	p, err := startAsPID1(in, counterArgv(testprog, out, "RTMIN+1")...)
	if err != nil {
		return 0, err
	}
	defer p.kill()
	if !waitUntil(10*time.Second, func() bool { return fileExists(out) }) {
		return 0, fmt.Errorf("the counting child did not start")
	}
	for i := 0; i < sends; i++ {
		syscall.Kill(p.PID1, rtmin1)
	}
	// Settled: the count has not moved for a second, or all arrived.
	last, still := -1, time.Now()
	waitUntil(20*time.Second, func() bool {
		n := countOf(out, rtmin1)
		if n != last {
			last, still = n, time.Now()
		}
		return n >= sends || time.Since(still) > time.Second
	})
	return countOf(out, rtmin1), nil
}

func exitDuringStorm(in initCmd, testprog, dir string) (lateMs float64, code int, err error) {
	out := filepath.Join(dir, "storm")
	os.Remove(out)
	os.Remove(out + ".exit")
	p, err := startAsPID1(in, counterArgv(testprog, out, "RTMIN+1,USR1", "1s", "42")...)
	if err != nil {
		return 0, 0, err
	}
	defer p.kill()
	if !waitUntil(10*time.Second, func() bool { return fileExists(out) }) {
		return 0, 0, fmt.Errorf("the counting child did not start")
	}
	fillQueue(p.PID1)
	// Three flooding processes, as in the e2e test: SIGRTMIN+1 and twice
	// SIGUSR1, whose deliveries walk the full queue.
	var floods []*exec.Cmd
	for _, sig := range []syscall.Signal{rtmin1, syscall.SIGUSR1, syscall.SIGUSR1} {
		cmd := exec.Command(testprog, "flood", strconv.Itoa(p.PID1), strconv.Itoa(int(sig)), "60s")
		if cmd.Start() == nil {
			floods = append(floods, cmd)
		}
	}
	select {
	case <-p.Exited:
	case <-time.After(60 * time.Second):
	}
	exited := time.Now()
	for _, cmd := range floods {
		cmd.Process.Kill()
		cmd.Wait()
	}
	ms, perr := strconv.ParseInt(readText(out+".exit"), 10, 64)
	if perr != nil || !p.Done() {
		return 0, 0, fmt.Errorf("the child or the init did not exit in 60 s")
	}
	return float64(exited.Sub(time.UnixMilli(ms)).Microseconds()) / 1000, p.ExitCode(), nil
}

// fillQueue fills the kernel's signal queue for the init's user with
// SIGRTMIN+1 queued to the init: it is stopped (SIGSTOP reaches a PID 1
// from the parent namespace) while sends go in until SigQ is at its limit,
// then resumed. The storm then floods a full queue on any machine.
func fillQueue(pid int) {
	syscall.Kill(pid, syscall.SIGSTOP)
	defer syscall.Kill(pid, syscall.SIGCONT)
	for i := 0; i < 1<<21; i++ {
		syscall.Kill(pid, rtmin1)
		if i%1024 == 0 {
			queued, limit := sigQ(pid)
			if limit > 0 && queued >= limit-1 {
				return
			}
		}
	}
}

// sigQ reads the SigQ line of pid's status: the signals queued for its
// user, and the limit.
func sigQ(pid int) (queued, limit int) {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "SigQ:"); ok {
			q, l, _ := strings.Cut(strings.TrimSpace(rest), "/")
			queued, _ = strconv.Atoi(q)
			limit, _ = strconv.Atoi(l)
		}
	}
	return queued, limit
}

func countOf(path string, sig syscall.Signal) int {
	for _, line := range strings.Split(readText(path), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == strconv.Itoa(int(sig)) {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

func readText(path string) string {
	data, _ := os.ReadFile(path)
	return strings.TrimSpace(string(data))
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func waitUntil(limit time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
