//go:build linux && (amd64 || arm64)

package signals

import (
	"encoding/binary"
	"os"
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
// poller, so it holds no thread; while ch is full the signals wait in the
// kernel.
func readQueued(ch chan<- os.Signal) bool {
	if blockedAtEntry == 0 {
		return false
	}
	set := unix.Sigset_t{Val: [16]uint64{blockedAtEntry}}
	fd, err := unix.Signalfd(-1, &set, unix.SFD_NONBLOCK|unix.SFD_CLOEXEC)
	if err != nil {
		// Left blocked and unread they would never arrive: unblocked in
		// this thread (the kernel hands a process's signal to any thread
		// that takes it), the handler has them.
		unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
		return false
	}
	go relayQueued(os.NewFile(uintptr(fd), "signalfd"), ch)
	return true
}

// signalfdInfoSize is the size of struct signalfd_siginfo: ssi_signo at
// 0, ssi_code at 8, ssi_pid at 12.
const signalfdInfoSize = 128

func relayQueued(f *os.File, ch chan<- os.Signal) {
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
			if sentByOther(sig, code, pid, self) {
				ch <- sig
			}
		}
	}
}
