//go:build linux && (amd64 || arm64)

package signals

import (
	"encoding/binary"
	"errors"
	"os"
	"os/signal"
	"slices"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The intake takes each signal one of two ways, and relays it, with its
// sender, to the supervisor:
//
//   - the queued signals (queued.go: USR1, USR2, the job-control ones, the
//     real-time ones...) are blocked in every thread from drainit's entry
//     point and read from a signalfd. The kernel keeps them queued until
//     drainit reads them: a flood fills the kernel's queue, not drainit's
//     threads, and the child's exit is noticed whatever is queued.
//   - the ones the Go runtime keeps unblocked in its threads (HUP, INT,
//     QUIT, TERM, ABRT, URG, PROF, the faults, 32, 34) are taken by a small
//     assembly handler installed with rt_sigaction, which writes one record
//     per delivery (signal, si_code, si_pid) to a pipe. The same handler
//     takes a queued signal that arrives while a thread has it unblocked
//     (the thread that forks, for a moment) and every signal in a binary
//     built without the entry point.
//
// os/signal is not used, and nothing may call it behind the intake's back
// (Notify unblocks the signal in the runtime's threads), for three
// reasons measured here:
//
//   - it merges pending instances of a signal: of 1000 queued SIGRTMIN+1,
//     112 reached the child. The kernel queues real-time signals, one
//     delivery per send, and both ways here take each one.
//   - it drops what does not fit its bounded channel.
//   - each signal it enables is a round trip with the runtime's signal-mask
//     thread: Notify for every signal cost about 2 ms of start-up.
//
// What holds: a queued signal is relayed once per delivery, or stays in
// the kernel's queue while the supervisor is behind. A handled one is
// relayed once per delivery while the pipe has room (IntakeCapacity
// records, 87,000 with the 1 MiB drainit asks for); past that the handler
// counts it as dropped (Dropped), the supervisor logs the count, and the
// signal is still relayed once, after what the pipe holds, as the kernel
// keeps a standard signal pending (relayOverflowed). Only standard signals
// take that way, but for 32 and 34, so a full pipe takes thousands of
// senders' kills in a row with the supervisor stalled.
//
// The handler chains to the Go runtime's handler for SIGURG (the runtime
// preempts goroutines with it) and for faults the kernel raises in
// drainit's own code (the runtime turns those into panics). The sender
// tells a SIGPIPE, SIGURG or SIGPROF that someone sent from the ones
// drainit raises itself (see sentByOther).
//
// execve resets a handler (unlike SIG_IGN) to the default, and the child
// starts with the mask drainit inherited (forkExecWithMask), so the child
// starts clean.
var (
	intakePipe       int64       // write end
	intakeDropped    uint64      // records the handler could not write: the pipe was full
	intakeOverflowed uint64      // bit sig-1: the handler could not write a record of sig
	intakeCapacity   int         // records the pipe holds
	chainAlways      [65]uintptr // the runtime's handler, after every record
	chainOnFault     [65]uintptr // the runtime's handler, when si_code > 0
	// blockInHandler (bit sig-1) are the real-time signals the runtime
	// keeps unblocked (32, 34) once the signalfd reads them too: the
	// handler leaves each blocked in the thread it interrupted, so that
	// a flood of them waits in the kernel's queue for the signalfd
	// instead of holding every thread in the handler (see readQueued).
	blockInHandler uint64
	caught         [65]bool // the handler is installed
)

// Dropped is how many handled signals were lost to a full pipe so far.
func Dropped() uint64 { return atomic.LoadUint64(&intakeDropped) }

// IntakeCapacity is how many handled signals the pipe holds before the
// handler drops them; 0 where the intake is os/signal's.
func IntakeCapacity() int { return intakeCapacity }

func intakeHandler()
func intakeHandlerAddr() uintptr

// kernelSigaction is struct sigaction as the rt_sigaction system call takes
// it on amd64 and arm64: handler, flags, restorer, mask.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// notCaught are left to the kernel or the runtime: KILL and STOP cannot be
// caught, CHLD is not needed (the reaper waits with waitid), and 33 is the
// runtime's own (it runs per-thread system calls with it).
var notCaught = []syscall.Signal{unix.SIGKILL, unix.SIGSTOP, unix.SIGCHLD, 33}

func listen(ignored []syscall.Signal) chan os.Signal {
	ch := make(chan os.Signal, 512)
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return notifyAll(ch, ignored)
	}
	intakePipe = int64(fds[1])
	// Records do not straddle the pipe's pages: a 4 KiB page holds 341.
	page := os.Getpagesize()
	intakeCapacity = pipeSize(fds[1]) / page * (page / recordSize)
	// A write to a closed stdout or stderr makes the runtime exit with
	// SIGPIPE unless the signal is wanted or ignored in its own books;
	// ignoring it there costs no round trip. The kernel-level handler set
	// below still sees every SIGPIPE.
	signal.Ignore(unix.SIGPIPE)
	var urg kernelSigaction
	if rtSigaction(unix.SIGURG, nil, &urg) != nil {
		return notifyAll(ch, ignored)
	}
	// The runtime's flags, restorer and mask, with our handler: SA_ONSTACK
	// matters (goroutine stacks have no room for a signal frame).
	act := urg
	act.handler = intakeHandlerAddr()
	for sig := syscall.Signal(1); sig <= RTMax; sig++ {
		if slices.Contains(notCaught, sig) || slices.Contains(ignored, sig) {
			continue
		}
		catch(sig, &act)
	}
	go relay(os.NewFile(uintptr(fds[0]), "signals"), ch)
	readQueued(ch)
	return ch
}

// recordSize is the handler's record: signal, si_code, si_pid.
const recordSize = 12

// pipeSize asks for a 1 MiB pipe and returns the size it got: an
// unprivileged process may be held to less (fs.pipe-max-size, or its
// user's pipe-user-pages-soft), and a pipe is 64 KiB by default.
func pipeSize(fd int) int {
	if size, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, 1<<20); err == nil {
		return size
	}
	if size, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err == nil {
		return size
	}
	return 64 << 10
}

// catch installs the handler for sig, keeping the runtime's handler where
// the runtime still needs it.
func catch(sig syscall.Signal, act *kernelSigaction) {
	var old kernelSigaction
	if rtSigaction(sig, nil, &old) != nil {
		return
	}
	switch {
	case sig == unix.SIGURG:
		chainAlways[sig] = old.handler
	case slices.Contains(runtimeOwned, sig) && old.handler > 1:
		chainOnFault[sig] = old.handler
	}
	caught[sig] = rtSigaction(sig, act, nil) == nil
}

// relay passes on what the handler caught, but for the signals that
// drainit or the kernel raised for drainit's own reasons, and then what it
// could only mark (see relayOverflowed).
func relay(r *os.File, ch chan<- os.Signal) {
	self := int32(os.Getpid())
	buf := make([]byte, recordSize*256)
	pending := 0
	var lastDropped uint64
	watching, hadDeadline := false, false
	for {
		// While drops are coming, the last mark may be set after the pipe
		// has emptied: look again soon, not only when a record comes. The
		// deadline is touched only then, off the common path.
		if watching {
			r.SetReadDeadline(time.Now().Add(overflowRecheck))
		} else if hadDeadline {
			r.SetReadDeadline(time.Time{})
		}
		hadDeadline = watching
		n, err := r.Read(buf[pending:])
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return
		}
		pending += n
		whole := pending - pending%recordSize
		for off := 0; off < whole; off += recordSize {
			rec := buf[off : off+recordSize]
			sig := syscall.Signal(binary.NativeEndian.Uint32(rec[0:]))
			code := int32(binary.NativeEndian.Uint32(rec[4:]))
			pid := int32(binary.NativeEndian.Uint32(rec[8:]))
			if sentByOther(sig, code, pid, self) {
				ch <- sig
			}
		}
		pending = copy(buf, buf[whole:pending])
		watching = relayOverflowed(ch, &lastDropped)
	}
}

const overflowRecheck = 100 * time.Millisecond

// relayOverflowed passes on, once each, the signals the handler found no
// room for: a standard signal, like the kernel's own pending set, keeps
// that it came, not how often, so a SIGTERM in a flood of SIGHUP is never
// lost. Without a record there is no sender, so the signals drainit may
// raise itself (PIPE, URG, PROF, the faults) are not passed on this way.
// It tells whether drops are still coming, so that the relay looks again
// without waiting for a record. The handler counts before it marks, and
// the mark is taken here before the count is read: a mark this look missed
// comes with a count it has not seen, or (counted after it) from a
// delivery that found the pipe full, whose records bring the relay back.
func relayOverflowed(ch chan<- os.Signal, lastDropped *uint64) bool {
	marked := atomic.SwapUint64(&intakeOverflowed, 0)
	for sig := syscall.Signal(1); marked != 0; sig, marked = sig+1, marked>>1 {
		if marked&1 != 0 && !mayRaiseItself(sig) {
			ch <- sig
		}
	}
	dropped := Dropped()
	coming := dropped != *lastDropped
	*lastDropped = dropped
	return coming
}

// sentByOther tells a signal someone sent (kill, sigqueue, tgkill from
// another process, the terminal) from one drainit raised: the kernel's
// SIGPIPE for its own write names drainit as the sender, the runtime's
// SIGURG is a tgkill from drainit, the profiling timer's SIGPROF is
// SI_KERNEL, and a fault in drainit's code has a positive si_code (it went
// to the runtime). A sender in a parent namespace shows as pid 0.
func sentByOther(sig syscall.Signal, code, pid, self int32) bool {
	switch {
	case sig == unix.SIGPIPE || sig == unix.SIGURG || sig == unix.SIGPROF:
		return code != siKernel && pid != self
	case slices.Contains(runtimeOwned, sig):
		return code <= 0
	}
	return true
}

// siKernel is SI_KERNEL from <asm-generic/siginfo.h>: sent by the kernel.
const siKernel = 0x80

func rtSigaction(sig syscall.Signal, act, old *kernelSigaction) error {
	_, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig),
		uintptr(unsafe.Pointer(act)), uintptr(unsafe.Pointer(old)), 8, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// mayRaiseItself are the signals drainit or the kernel may raise for
// drainit's own reasons; only a record's sender tells the others from them.
func mayRaiseItself(sig syscall.Signal) bool {
	return sig == unix.SIGPIPE || sig == unix.SIGURG || sig == unix.SIGPROF || slices.Contains(runtimeOwned, sig)
}
