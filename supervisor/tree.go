package supervisor

import (
	"bytes"
	"os"
	"strconv"
	"syscall"

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
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(pid); ok {
			children[ppid] = append(children[ppid], pid)
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

// parentOf reads the ppid from /proc/PID/stat. The command name can hold
// spaces and parentheses, so fields are counted from the last ')'.
func parentOf(pid int) (int, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return 0, false
	}
	fields := bytes.Fields(data[end+1:])
	if len(fields) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(string(fields[1]))
	return ppid, err == nil
}
