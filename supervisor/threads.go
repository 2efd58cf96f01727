package supervisor

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// threadsWanted is how many threads drainit starts before the child: the
// Go runtime's own (the main one, sysmon, the template thread that
// LockOSThread needs), the reaper's, which sits in waitid for good, the one
// that runs Go code, and spares for goroutines caught in a system call at
// the same time (a log write to a stalled stderr, a fork, a read of /proc).
//
// A pod's pids limit counts threads, and an app that fills it leaves none
// for drainit: the Go runtime cannot live without a thread it asks for
// ("fatal error: newosproc"), and drainit as PID 1 takes the container with
// it. The runtime keeps every thread it has started and hands an idle one
// out before it starts another, so with the threads started here and one
// P (GOMAXPROCS 1: drainit needs no parallelism) it never has to.

// reserveThreads starts threads until drainit has threadsWanted of them,
// and leaves the new ones idle. Each is made by a goroutine that locks
// itself to a thread and waits: the runtime must start another thread for
// the next, and once they are all unlocked they stay, idle.
//
// One P whatever GOMAXPROCS says: the container's environment is the
// app's (a Go app's GOMAXPROCS, the Downward API's limits.cpu), and with
// more Ps the runtime starts a thread per P when goroutines wake at once
// (seen: fatal error: newosproc, exit 2, at the pids limit with
// GOMAXPROCS=8). The child still gets the variable as it was.
func reserveThreads() {
	runtime.GOMAXPROCS(1)
	if threadsWanted == 0 {
		return
	}
	spare := threadsWanted - threadCount()
	var locked, release sync.WaitGroup
	release.Add(1)
	for range max(spare, 0) {
		locked.Add(1)
		go func() {
			runtime.LockOSThread()
			locked.Done()
			release.Wait()
			runtime.UnlockOSThread()
		}()
	}
	locked.Wait()
	release.Done()
}

// threadCount is the Threads line of /proc/self/status, or 0.
func threadCount() int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(rest))
			return n
		}
	}
	return 0
}
