// Package pidns starts a command as PID 1 of a new PID namespace with
// `unshare --pid --fork`, for the end-to-end tests and the benchmarks: one
// launcher, so each of them finds PID 1 and cleans up the same way.
package pidns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/drainit/drainit/internal/proc"
)

// Command returns the unshare command that runs argv as PID 1. It gets its
// own process group so that signals to the caller's group never reach it.
func Command(argv ...string) *exec.Cmd {
	args := append([]string{"--pid", "--fork", "--mount-proc", "--kill-child"}, argv...)
	cmd := exec.Command("unshare", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// Proc is a running namespace.
type Proc struct {
	Cmd *exec.Cmd
	// PID1 is the namespace's init as seen from outside; 0 when it had
	// already exited by the time it was looked for.
	PID1     int
	Exited   chan struct{} // closed once unshare has exited
	WaitErr  error         // Cmd.Wait's error, valid once Exited is closed
	ExitedAt time.Time     // when Wait returned, valid once Exited is closed
}

// ErrNoInit says unshare forked nothing in time.
var ErrNoInit = errors.New("unshare forked no PID 1")

// Start starts cmd (from Command) and finds PID 1 within limit. The wait
// ends as soon as unshare exits: a command that is quick to exit must not
// cost the whole limit.
func Start(cmd *exec.Cmd, limit time.Duration) (*Proc, error) {
	p, err := launch(cmd)
	if err != nil {
		return nil, err
	}
	pid, err := p.findInit(limit)
	if err != nil {
		p.Kill()
		return nil, err
	}
	p.PID1 = pid
	return p, nil
}

// StartHere starts cmd in the caller's own namespace, for the runs of
// drainit that are not PID 1: PID1 is then cmd's own pid.
func StartHere(cmd *exec.Cmd) (*Proc, error) {
	p, err := launch(cmd)
	if err == nil {
		p.PID1 = cmd.Process.Pid
	}
	return p, err
}

func launch(cmd *exec.Cmd) (*Proc, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{Cmd: cmd, Exited: make(chan struct{})}
	go func() {
		p.WaitErr = cmd.Wait()
		p.ExitedAt = time.Now()
		close(p.Exited)
	}()
	return p, nil
}

func (p *Proc) findInit(limit time.Duration) (int, error) {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		if kids := Children(p.Cmd.Process.Pid); len(kids) > 0 {
			return kids[0], nil
		}
		select {
		case <-p.Exited:
			return 0, nil
		case <-deadline.C:
			return 0, fmt.Errorf("%w in %v (unshare pid %d)", ErrNoInit, limit, p.Cmd.Process.Pid)
		case <-tick.C:
		}
	}
}

// Done reports whether unshare has exited.
func (p *Proc) Done() bool {
	select {
	case <-p.Exited:
		return true
	default:
		return false
	}
}

// ExitCode is unshare's exit code, which is PID 1's; -1 while it runs.
func (p *Proc) ExitCode() int {
	if !p.Done() {
		return -1
	}
	return p.Cmd.ProcessState.ExitCode()
}

// Signal sends sig to PID 1. It refuses when PID 1 is unknown: kill(0)
// would signal the caller's own process group.
func (p *Proc) Signal(sig syscall.Signal) error {
	if p.PID1 <= 0 {
		return errors.New("PID 1 already exited")
	}
	return syscall.Kill(p.PID1, sig)
}

// Kill ends the namespace (SIGKILL to its init takes every process in it)
// and unshare, and waits up to 10 s for unshare to be reaped.
func (p *Proc) Kill() {
	if p.Done() {
		return
	}
	if p.PID1 > 0 {
		syscall.Kill(p.PID1, syscall.SIGKILL)
	}
	p.Cmd.Process.Kill()
	select {
	case <-p.Exited:
	case <-time.After(10 * time.Second):
	}
}

// State returns pid's state letter, or 0 when it is gone.
func State(pid int) byte {
	st, _ := proc.ReadStat(pid)
	return st.State
}

// Children lists pid's children. /proc keeps them per thread, and a Go
// program forks from whichever thread it runs on, so every thread is read.
func Children(pid int) []int {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var out []int
	for _, task := range tasks {
		data, _ := os.ReadFile(task)
		for _, f := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}
