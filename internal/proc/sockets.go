package proc

import (
	"os"
	"strconv"
	"strings"
)

// Owners says which sockets belong to a set of processes. Their open files
// (/proc/PID/fd) name the sockets exactly, but only a process's own user,
// or one with CAP_SYS_PTRACE, may read them: for the processes of another
// user (an app that drops to its own user under gosu or setpriv, a
// runAsUser that differs from drainit's), only their user ids can be known,
// and a socket's owner (the user that created it) is matched against them.
type Owners struct {
	Inodes map[uint32]bool // sockets held open by the processes whose files could be read
	UIDs   map[uint32]bool // effective and filesystem user ids of those whose files could not
	// Unseen: no process was there to read. With the child alive, /proc
	// hides them (mounted with hidepid), and nothing is known of them.
	Unseen bool
}

// SocketOwners reads who holds which socket among pids. A process that is
// gone meanwhile is passed over.
func SocketOwners(pids []int) Owners {
	o := Owners{Inodes: map[uint32]bool{}, UIDs: map[uint32]bool{}, Unseen: len(pids) == 0}
	for _, pid := range pids {
		if !o.addInodes(pid) {
			o.addUIDs(pid)
		}
	}
	return o
}

// addInodes reads the sockets pid holds open; it reports false when the
// kernel refused: root without CAP_SYS_PTRACE may list another user's
// /proc/PID/fd but not read its links.
func (o Owners) addInodes(pid int) bool {
	fds, err := socketFDs(pid)
	for inode := range fds {
		o.Inodes[inode] = true
	}
	return err == nil
}

// addUIDs reads the Uid line of /proc/PID/status, which anyone may read:
// real, effective, saved and filesystem ids. A socket's owner is the
// filesystem id that created it, usually the effective one.
func (o Owners) addUIDs(pid int) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "Uid:")
		if !ok {
			continue
		}
		ids := strings.Fields(rest)
		for _, i := range []int{1, 3} {
			if i < len(ids) {
				if n, err := strconv.ParseUint(ids[i], 10, 32); err == nil {
					o.UIDs[uint32(n)] = true
				}
			}
		}
	}
}

// Descendants lists the processes below root, read from /proc.
func Descendants(root int) []int {
	children := map[int][]int{}
	for _, pid := range Pids() {
		if st, ok := ReadStat(pid); ok {
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

// SocketFDs lists which of pid's file descriptors hold the sockets in
// inodes, by inode. The error is the kernel's refusal to show pid's files
// (another user's, without CAP_SYS_PTRACE); a process gone is no error.
func SocketFDs(pid int, inodes map[uint32]bool) (map[uint32]int, error) {
	fds, err := socketFDs(pid)
	for inode := range fds {
		if !inodes[inode] {
			delete(fds, inode)
		}
	}
	return fds, err
}

// socketFDs reads every socket pid holds open: inode to descriptor.
func socketFDs(pid int) (map[uint32]int, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	entries, err := os.ReadDir(dir)
	if os.IsPermission(err) {
		return nil, err
	}
	out := map[uint32]int{}
	for _, e := range entries {
		link, err := os.Readlink(dir + "/" + e.Name())
		if os.IsPermission(err) {
			return nil, err
		}
		rest, ok := strings.CutPrefix(link, "socket:[")
		if err != nil || !ok {
			continue
		}
		inode, err1 := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 32)
		fd, err2 := strconv.Atoi(e.Name())
		if err1 == nil && err2 == nil {
			out[uint32(inode)] = fd
		}
	}
	return out, nil
}

// Hidden says whether a child of root or of one of pids is not visible in
// /proc (mounted with hidepid, for a process of another user): the
// children files (CONFIG_PROC_CHILDREN) list it, its directory is not
// there. Without those files nothing is known, and it says no.
func Hidden(root int, pids []int) bool {
	for _, pid := range append([]int{root}, pids...) {
		dir := "/proc/" + strconv.Itoa(pid) + "/task/"
		tasks, _ := os.ReadDir(dir)
		for _, task := range tasks {
			data, _ := os.ReadFile(dir + task.Name() + "/children")
			for _, child := range strings.Fields(string(data)) {
				if _, err := os.Stat("/proc/" + child); os.IsNotExist(err) {
					return true
				}
			}
		}
	}
	return false
}
