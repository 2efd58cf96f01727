//go:build linux && (amd64 || arm64)

package signals

import (
	"encoding/binary"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The intake is a small assembly handler installed with rt_sigaction for
// every signal drainit takes. It writes one record per delivery (signal,
// si_code, si_pid) to a pipe that a goroutine relays to the supervisor.
// os/signal is not used, for three reasons measured here:
//
//   - it merges pending instances of a signal: of 1000 queued SIGRTMIN+1,
//     112 reached the child. The kernel queues real-time signals, one
//     delivery per send, and the handler runs once for each.
//   - it drops what does not fit its bounded channel; the pipe holds 87,000
//     records, more than the kernel queues for one user by default.
//   - each signal it enables is a round trip with the runtime's signal-mask
//     thread: Notify for every signal cost about 2 ms of start-up.
//
// The handler also carries each signal's sender, which tells a SIGPIPE,
// SIGURG or SIGPROF that someone sent from the ones drainit raises itself
// (see sentByOther). It chains to the Go runtime's handler for SIGURG (the
// runtime preempts goroutines with it) and for faults the kernel raises in
// drainit's own code (the runtime turns those into panics).
//
// execve resets a handler (unlike SIG_IGN) to the default, so the child
// starts clean.
var (
	intakePipe   int64       // write end
	chainAlways  [65]uintptr // the runtime's handler, after every record
	chainOnFault [65]uintptr // the runtime's handler, when si_code > 0
)

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
	unix.FcntlInt(uintptr(fds[1]), unix.F_SETPIPE_SZ, 1<<20)
	intakePipe = int64(fds[1])
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
	return ch
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
	rtSigaction(sig, act, nil)
}

// relay passes on what the handler caught, but for the signals that
// drainit or the kernel raised for drainit's own reasons.
func relay(r *os.File, ch chan<- os.Signal) {
	self := int32(os.Getpid())
	buf := make([]byte, 12*256)
	pending := 0
	for {
		n, err := r.Read(buf[pending:])
		if err != nil {
			return
		}
		pending += n
		whole := pending - pending%12
		for off := 0; off < whole; off += 12 {
			rec := buf[off : off+12]
			sig := syscall.Signal(binary.NativeEndian.Uint32(rec[0:]))
			code := int32(binary.NativeEndian.Uint32(rec[4:]))
			pid := int32(binary.NativeEndian.Uint32(rec[8:]))
			if sentByOther(sig, code, pid, self) {
				ch <- sig
			}
		}
		pending = copy(buf, buf[whole:pending])
	}
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
