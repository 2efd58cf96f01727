//go:build linux && (amd64 || arm64)

package signals

import (
	"encoding/binary"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// queued are the signals drainit's entry point blocks in every thread
// before the Go runtime starts, and that it reads from a signalfd instead
// of taking them in a handler: every signal the runtime lets stay blocked
// (it unblocks HUP, INT, QUIT, TERM, ABRT, the faults, PROF, URG, 32 and 34
// in each thread it starts), real-time ones included.
//
// Blocked, a signal waits in the kernel's queue until drainit reads it:
// while the supervisor is busy, a flood of them fills the queue (the kernel
// then refuses sigqueue(3) and keeps one pending of each signal sent by
// kill) instead of keeping every thread in a handler, and none is dropped
// on drainit's side. A signal that is still queued when the child's tree is
// gone is not forwarded: drainit exits.
const queued uint64 = 1<<(unix.SIGUSR1-1) | 1<<(unix.SIGUSR2-1) | 1<<(unix.SIGPIPE-1) |
	1<<(unix.SIGALRM-1) | 1<<(unix.SIGCONT-1) | 1<<(unix.SIGTSTP-1) | 1<<(unix.SIGTTIN-1) |
	1<<(unix.SIGTTOU-1) | 1<<(unix.SIGXCPU-1) | 1<<(unix.SIGXFSZ-1) | 1<<(unix.SIGVTALRM-1) |
	1<<(unix.SIGWINCH-1) | 1<<(unix.SIGIO-1) | 1<<(unix.SIGPWR-1) |
	^uint64(0)&^(1<<34-1) // 35 to 64

// entryBlock is read by the entry point before any Go code runs: a
// constant, so that it is in the binary's data, not set by an init.
var entryBlock uint64 = queued

// blockedAtEntry is what the entry point blocked: queued less the signals
// drainit inherited ignored. Zero without drainit's entry point.
var blockedAtEntry uint64

// readQueued relays what the signalfd holds for the signals blocked at
// entry. The descriptor is non-blocking and read through the runtime's
// poller, so it holds no thread.
//
// It is read as fast as signals come, into a count per signal, and the
// counts are handed on while ch has room (relayCounts): the kernel finds
// the next pending signal of a number by walking the whole pending list
// (collect_signal), so a list kept full, 96,000 signals of many numbers,
// made every dequeue cost a walk of it, in the signalfd's reads and in
// every delivery of the handled signals (34), and drainit noticed its
// child's exit 3 to 30 s late. Counting keeps each delivery (never two
// merged into one) in 65 words, whatever the flood; the kernel too hands
// pending real-time signals on lowest number first, not in the order sent.
func readQueued(ch chan<- os.Signal) bool {
	if blockedAtEntry == 0 {
		return false
	}
	runtimeRT := handledRealTime()
	set := unix.Sigset_t{Val: [16]uint64{blockedAtEntry | runtimeRT}}
	fd, err := unix.Signalfd(-1, &set, unix.SFD_NONBLOCK|unix.SFD_CLOEXEC)
	if err != nil {
		// Left blocked and unread they would never arrive: unblocked in
		// this thread (the kernel hands a process's signal to any thread
		// that takes it), the handler has them.
		unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
		return false
	}
	c := &counts{wake: make(chan struct{}, 1)}
	atomic.StoreUint64(&blockInHandler, runtimeRT)
	go relayQueued(os.NewFile(uintptr(fd), "signalfd"), c)
	go c.relay(ch)
	return true
}

// handledRealTime are 32 and 34, which the runtime unblocks in every thread
// it starts, where the handler takes them (not inherited ignored).
func handledRealTime() uint64 {
	var set uint64
	for _, sig := range []int{32, 34} {
		if chainAlways[sig] == 0 && caught[sig] {
			set |= 1 << (sig - 1)
		}
	}
	return set
}

// signalfdInfoSize is the size of struct signalfd_siginfo: ssi_signo at
// 0, ssi_code at 8, ssi_pid at 12.
const signalfdInfoSize = 128

// counts are the deliveries read and not yet handed on, by signal.
type counts struct {
	mu   sync.Mutex
	n    [65]uint64
	wake chan struct{} // a count went up
}

func (c *counts) add(sig syscall.Signal) {
	c.mu.Lock()
	c.n[sig]++
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// take returns the lowest signal with a delivery left, and takes one.
func (c *counts) take() (syscall.Signal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for sig := 1; sig < len(c.n); sig++ {
		if c.n[sig] > 0 {
			c.n[sig]--
			return syscall.Signal(sig), true
		}
	}
	return 0, false
}

// relay hands the deliveries on, one at a time, as ch takes them.
func (c *counts) relay(ch chan<- os.Signal) {
	for range c.wake {
		for sig, ok := c.take(); ok; sig, ok = c.take() {
			ch <- sig
		}
	}
}

func relayQueued(f *os.File, c *counts) {
	self := int32(os.Getpid())
	buf := make([]byte, signalfdInfoSize*64)
	for {
		n, err := f.Read(buf)
		if err != nil {
			return
		}
		for off := 0; off+signalfdInfoSize <= n; off += signalfdInfoSize {
			rec := buf[off:]
			sig := syscall.Signal(binary.NativeEndian.Uint32(rec[0:]))
			code := int32(binary.NativeEndian.Uint32(rec[8:]))
			pid := int32(binary.NativeEndian.Uint32(rec[12:]))
			if sentByOther(sig, code, pid, self) && sig > 0 && int(sig) < len(c.n) {
				c.add(sig)
			}
		}
	}
}
