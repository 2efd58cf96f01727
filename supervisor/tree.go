package supervisor

import (
	"os"
	"syscall"

	"github.com/drainit/drainit/internal/proc"

	"golang.org/x/sys/unix"
)

// signalTree sends sig to every live process below drainit and returns how
// many it found. As PID 1, kill(-1) reaches the whole namespace at once, with
// no race against forks; otherwise the tree is read from /proc.
func signalTree(sig syscall.Signal) int {
	pids := proc.Descendants(os.Getpid())
	if os.Getpid() == 1 {
		unix.Kill(-1, sig)
		return len(pids)
	}
	for _, pid := range pids {
		unix.Kill(pid, sig)
	}
	return len(pids)
}
