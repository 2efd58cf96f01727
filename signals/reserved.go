//go:build linux && (amd64 || arm64)

package signals

import (
	"os"
	"slices"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The Go runtime installs no handler for signals 32 and 34 (kept for C
// libraries), so they keep their default action. As PID 1 of a namespace the
// kernel drops such a signal, and the app would never see it; not as PID 1
// (under another init, or as a subreaper), one `kill -34` kills drainit.
// signal.Notify cannot take them, so a small assembly handler writes their number to a pipe that
// a goroutine relays to the Notify channel. execve resets a handler (unlike
// SIG_IGN) to the default, so the child starts clean.
var reservedPipe int64 // write end, read by reservedHandler

func reservedHandler()
func reservedHandlerAddr() uintptr

// kernelSigaction is struct sigaction as the rt_sigaction system call takes
// it on amd64 and arm64: handler, flags, restorer, mask.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

func catchReserved(ch chan<- os.Signal, ignored []syscall.Signal) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return
	}
	reservedPipe = int64(fds[1])
	// Copy the runtime's flags and restorer (SA_ONSTACK matters: goroutine
	// stacks have no room for a signal frame), with our handler.
	var act kernelSigaction
	if rtSigaction(unix.SIGUSR1, nil, &act) != nil {
		return
	}
	act.handler = reservedHandlerAddr()
	for _, sig := range []syscall.Signal{32, 34} {
		if !slices.Contains(ignored, sig) {
			rtSigaction(sig, &act, nil)
		}
	}
	go relay(os.NewFile(uintptr(fds[0]), "reserved-signals"), ch)
}

func relay(r *os.File, ch chan<- os.Signal) {
	buf := make([]byte, 64)
	for {
		n, err := r.Read(buf)
		if err != nil {
			return
		}
		for _, b := range buf[:n] {
			ch <- syscall.Signal(b)
		}
	}
}

func rtSigaction(sig syscall.Signal, act, old *kernelSigaction) error {
	_, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig),
		uintptr(unsafe.Pointer(act)), uintptr(unsafe.Pointer(old)), 8, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
