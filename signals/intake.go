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

// Some signals os/signal cannot take, or cannot tell apart, so a small
// assembly handler catches them instead and writes each delivery, with the
// sender from its siginfo, to a pipe that a goroutine relays:
//
//   - 32 and 34: the Go runtime installs no handler for them, so they keep
//     their default action. As PID 1 of a namespace the kernel drops such a
//     signal and the app would never see it; not as PID 1 (under another
//     init, or as a subreaper), one `kill -34` kills drainit.
//   - SIGPIPE, SIGURG, SIGPROF: forwarded only when another process sent
//     them. drainit's own writes to a closed pipe raise SIGPIPE from drainit
//     itself, the runtime preempts goroutines with SIGURG sent by tgkill from
//     drainit itself, and SIGPROF comes from the kernel's profiling timer.
//
// execve resets a handler (unlike SIG_IGN) to the default, so the child
// starts clean.
var (
	intakePipe        int64   // write end
	runtimeURGHandler uintptr // the Go runtime's SIGURG handler, chained to
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

// byHandler are the signals the assembly handler takes.
var byHandler = []syscall.Signal{32, 34, unix.SIGPIPE, unix.SIGURG, unix.SIGPROF}

func catchByHandler(ch chan<- os.Signal, ignored []syscall.Signal) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return
	}
	// A burst must not fill the pipe: 1 MiB holds 87,000 records, more than
	// the kernel queues for one user by default.
	unix.FcntlInt(uintptr(fds[1]), unix.F_SETPIPE_SZ, 1<<20)
	intakePipe = int64(fds[1])
	// Drop what the runtime itself hands os/signal: its SIGPIPE for a write
	// to a closed stdout or stderr (without Notify, it would exit on it).
	signal.Notify(make(chan os.Signal, 1), unix.SIGPIPE)
	var urg kernelSigaction
	if rtSigaction(unix.SIGURG, nil, &urg) != nil {
		return
	}
	runtimeURGHandler = urg.handler
	// The runtime's flags and restorer, with our handler: SA_ONSTACK matters
	// (goroutine stacks have no room for a signal frame), SA_SIGINFO too.
	act := urg
	act.handler = intakeHandlerAddr()
	for _, sig := range byHandler {
		if !slices.Contains(ignored, sig) {
			rtSigaction(sig, &act, nil)
		}
	}
	go relay(os.NewFile(uintptr(fds[0]), "signals"), ch)
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
// another process) from one drainit raised: the kernel's SIGPIPE for its
// own write names drainit as the sender, the runtime's SIGURG is a tgkill
// from drainit, the profiling timer's SIGPROF is SI_KERNEL. A sender in a
// parent namespace shows as pid 0.
func sentByOther(sig syscall.Signal, code, pid, self int32) bool {
	switch sig {
	case unix.SIGPIPE, unix.SIGURG, unix.SIGPROF:
		return code != siKernel && pid != self
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
