package supervisor

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/drainit/drainit/internal/proc"
)

// TakeSockets returns duplicates of the sockets with these inodes that the
// processes below drainit hold, taken with pidfd_getfd(2): a drain may end
// an idle connection of the app's without signalling or stopping the app.
// The kernel allows it with ptrace access to the process: drainit is its
// ancestor and of the same user, but a seccomp profile (Docker's default,
// a pod's RuntimeDefault) refuses pidfd_getfd without CAP_SYS_PTRACE. The
// first refusal is the error, with what was taken so far.
func (a appView) TakeSockets(inodes map[uint32]bool) (map[uint32]*os.File, error) {
	taken := map[uint32]*os.File{}
	for _, pid := range proc.Descendants(os.Getpid()) {
		fds, err := proc.SocketFDs(pid, inodes)
		if err != nil {
			return taken, fmt.Errorf("reading the open files of pid %d: %w", pid, err)
		}
		if len(fds) == 0 {
			continue
		}
		if err := takeFrom(pid, fds, taken); err != nil {
			return taken, err
		}
	}
	return taken, nil
}

func takeFrom(pid int, fds map[uint32]int, taken map[uint32]*os.File) error {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("pidfd_open(%d): %w", pid, err)
	}
	defer unix.Close(pidfd)
	for inode, fd := range fds {
		if taken[inode] != nil {
			continue
		}
		dup, err := unix.PidfdGetfd(pidfd, fd, 0)
		switch {
		case err == unix.EBADF: // closed meanwhile
			continue
		case err != nil:
			return fmt.Errorf("pidfd_getfd(pid %d, fd %d): %w", pid, fd, err)
		}
		taken[inode] = os.NewFile(uintptr(dup), fmt.Sprintf("socket:[%d]", inode))
	}
	return nil
}
