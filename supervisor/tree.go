package supervisor

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/drainit/drainit/internal/proc"

	"golang.org/x/sys/unix"
)

// signalTree sends sig to every live process below drainit and returns how
// many it found. As PID 1, kill(-1) reaches the whole namespace at once, with
// no race against forks; otherwise the tree is read from /proc.
func signalTree(sig syscall.Signal) int {
	pids := descendants(os.Getpid())
	if os.Getpid() == 1 {
		unix.Kill(-1, sig)
		return len(pids)
	}
	for _, pid := range pids {
		unix.Kill(pid, sig)
	}
	return len(pids)
}

// descendants lists the processes below root, read from /proc.
func descendants(root int) []int {
	children := map[int][]int{}
	for _, pid := range proc.Pids() {
		if st, ok := proc.ReadStat(pid); ok {
			children[st.PPID] = append(children[st.PPID], pid)
		}
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// socketInodes reads /proc/PID/fd of each process for the sockets it holds
// ("socket:[N]"); a process that is gone or unreadable is passed over.
func socketInodes(pids []int) map[uint32]bool {
	out := map[uint32]bool{}
	for _, pid := range pids {
		dir := "/proc/" + strconv.Itoa(pid) + "/fd"
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			link, err := os.Readlink(dir + "/" + e.Name())
			if rest, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
				if n, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 32); err == nil {
					out[uint32(n)] = true
				}
			}
		}
	}
	return out
}
