package supervisor

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/drainit/drainit/internal/logging"

	"github.com/drainit/drainit/signals"
	"golang.org/x/sys/unix"
)

// reaper is the only caller of Wait4 in drainit. Mixing os/exec's Wait with a
// Wait4(-1) loop loses exit statuses, so every process drainit starts goes
// through start, and its status is routed back by pid.
//
// It does not wait for SIGCHLD: a goroutine blocks in waitid until a child
// has exited, so no storm of other signals, full channel or stalled log
// writer can delay or lose a reap.
//
// There is one per process, as Wait4(-1) is process-wide: a second reaper
// (a second Run in the same process, as in the tests) would take the first
// one's children and lose their statuses.
type reaper struct {
	settings atomic.Pointer[reapSettings]

	// mu is held across fork and registration so that reap cannot collect a
	// new child before its waiter exists.
	mu      sync.Mutex
	waiters map[int]chan unix.WaitStatus

	started  chan struct{} // a process was started: wakes watch after ECHILD
	changed  chan struct{} // watch reaped something; none may have changed
	noneLeft atomic.Bool   // drainit has no children
}

// reapSettings are the current run's: how to log and the children's mask.
type reapSettings struct {
	log        *slog.Logger
	warnOnReap bool
	childMask  unix.Sigset_t // every child starts with it
}

var (
	processReaper = &reaper{
		waiters: map[int]chan unix.WaitStatus{},
		started: make(chan struct{}, 1),
		changed: make(chan struct{}, 1),
	}
	watchOnce sync.Once
)

// useReaper returns the process's reaper with this run's settings; it
// watches from the first run on.
func useReaper(log *slog.Logger, warnOnReap bool, childMask unix.Sigset_t) *reaper {
	processReaper.settings.Store(&reapSettings{log: log, warnOnReap: warnOnReap, childMask: childMask})
	watchOnce.Do(func() { go processReaper.watch() })
	return processReaper
}

// watch reaps every child as soon as it exits, for as long as drainit runs.
func (r *reaper) watch() {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOWAIT|unix.WALL, nil)
		switch err {
		case nil, unix.ECHILD:
		case unix.EINTR:
			continue
		default:
			r.settings.Load().log.Error(logging.WaitidFailed, "err", err)
			return
		}
		none := r.reap()
		select {
		case r.changed <- struct{}{}:
		default:
		}
		if none {
			<-r.started
		}
	}
}

// start forks and execs path; the returned channel receives its wait status.
func (r *reaper) start(path string, argv []string, attr *syscall.ProcAttr) (int, <-chan unix.WaitStatus, error) {
	path, argv = signals.ThroughLauncher(path, argv)
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := forkExecWithMask(path, argv, attr, r.settings.Load().childMask)
	if err != nil {
		return 0, nil, err
	}
	done := make(chan unix.WaitStatus, 1)
	r.waiters[pid] = done
	r.noneLeft.Store(false)
	select {
	case r.started <- struct{}{}:
	default:
	}
	return pid, done, nil
}

// signalGroup signals the process group that pid leads, if pid is not yet
// reaped: until then the group id cannot be taken by another process. The
// lock keeps reap from collecting pid meanwhile.
func (r *reaper) signalGroup(pid int, sig syscall.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.waiters[pid]; ok {
		unix.Kill(-pid, sig)
	}
}

// forkExecWithMask starts the child with mask as its signal mask, whatever
// the mask of the thread that forks: the Go runtime hands that thread's mask
// to the child, so the thread is pinned and its mask set around the fork.
func forkExecWithMask(path string, argv []string, attr *syscall.ProcAttr, mask unix.Sigset_t) (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var saved unix.Sigset_t
	if err := unix.PthreadSigmask(unix.SIG_SETMASK, &mask, &saved); err != nil {
		return 0, err
	}
	defer unix.PthreadSigmask(unix.SIG_SETMASK, &saved, nil)
	return syscall.ForkExec(path, argv, attr)
}

// reap collects every exited child without blocking and routes the status
// of each process drainit started; the others are logged once the lock is
// released, so a stalled log writer cannot hold up a fork. It reports true
// when drainit has no children left: as PID 1 or a subreaper every
// descendant becomes a child once its parent dies, so no children means no
// tree.
func (r *reaper) reap() (none bool) {
	orphans, none := r.collect()
	set := r.settings.Load()
	level := slog.LevelDebug
	if set.warnOnReap {
		level = slog.LevelWarn
	}
	for _, z := range orphans {
		set.log.Log(context.Background(), level, logging.ZombieReaped, "pid", z.pid, "status", ExitCode(z.status))
	}
	return none
}

type zombie struct {
	pid    int
	status unix.WaitStatus
}

// collect reaps what has exited. The statuses of drainit's own processes
// are handed over only once noneLeft is up to date, so that whoever reads
// one also sees whether anything is left.
func (r *reaper) collect() (orphans []zombie, none bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var mine []zombie
	defer func() {
		r.noneLeft.Store(none)
		for _, z := range mine {
			r.waiters[z.pid] <- z.status
			delete(r.waiters, z.pid)
		}
	}()
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG|unix.WALL, nil)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.ECHILD:
			return orphans, true
		case err != nil:
			r.settings.Load().log.Error(logging.Wait4Failed, "err", err)
			return orphans, false
		case pid <= 0:
			return orphans, false
		}
		if _, ok := r.waiters[pid]; ok {
			mine = append(mine, zombie{pid, ws})
		} else {
			orphans = append(orphans, zombie{pid, ws})
		}
	}
}

// ExitCode turns a wait status into a shell-style exit code: the code itself,
// or 128+N for a death by signal N (WaitStatus.ExitStatus is -1 there).
func ExitCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
