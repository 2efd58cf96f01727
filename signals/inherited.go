package signals

import (
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// What drainit was started with, recorded by entry before the Go runtime
// unblocks the signals it needs and replaces inherited SIG_IGN handlers with
// its own. Bit N-1 stands for signal N.
var (
	inheritedMask    uint64
	inheritedIgnored uint64
	entryRan         uint64
)

// fallbackMask is the mask the main thread has when package init runs, for
// a binary linked without drainit's entry (a plain `go build`): there the
// runtime has already unblocked TERM, HUP, INT, QUIT and CHLD, so those are
// lost, but the rest of the inherited mask is still in place.
var fallbackMask = currentMask()

func currentMask() uint64 {
	var old unix.Sigset_t
	if unix.PthreadSigmask(unix.SIG_BLOCK, nil, &old) != nil {
		return 0
	}
	return old.Val[0]
}

// Inheritance is the signal state drainit's parent gave it: what a child
// of exec(2) would have.
type Inheritance struct {
	Mask    unix.Sigset_t
	Ignored []syscall.Signal
	// Exact is false when drainit was linked without its entry point, and
	// the state above is a best effort (see fallbackMask).
	Exact bool
}

// inherited is read during package init: before Listen, which changes what
// signal.Ignored reports.
var inherited = readInherited()

// Inherited returns the signal state drainit was started with.
func Inherited() Inheritance { return inherited }

func readInherited() Inheritance {
	in := Inheritance{Exact: entryRan == 1}
	mask, ignored := inheritedMask, inheritedIgnored
	if !in.Exact {
		mask, ignored = fallbackMask, 0
		for _, sig := range []syscall.Signal{unix.SIGHUP, unix.SIGINT} {
			if signal.Ignored(sig) { // the runtime keeps these two ignored
				ignored |= 1 << (sig - 1)
			}
		}
	}
	in.Mask.Val[0] = mask
	for sig := syscall.Signal(1); sig <= RTMax; sig++ {
		if ignored&(1<<(sig-1)) != 0 && sig != unix.SIGKILL && sig != unix.SIGSTOP {
			in.Ignored = append(in.Ignored, sig)
		}
	}
	return in
}
