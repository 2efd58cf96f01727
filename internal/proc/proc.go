// Package proc reads what drainit needs from /proc: each process's state
// and parent, the tree below a process, and the sockets it holds.
package proc

import (
	"bytes"
	"os"
	"strconv"
)

// Stat is the part of /proc/PID/stat that drainit uses.
type Stat struct {
	State byte // R, S, D, T, Z...
	PPID  int
	CPU   int // user and system time, in clock ticks; 0 when the line is short
}

// ReadStat reads /proc/PID/stat. The command name can hold spaces and
// parentheses, so fields are counted from the last ')'. ok is false when the
// process is gone or the file is not what it should be.
func ReadStat(pid int) (st Stat, ok bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, false
	}
	return parseStat(data)
}

func parseStat(data []byte) (Stat, bool) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return Stat{}, false
	}
	fields := bytes.Fields(data[end+1:])
	if len(fields) < 2 || len(fields[0]) != 1 {
		return Stat{}, false
	}
	ppid, err := strconv.Atoi(string(fields[1]))
	if err != nil {
		return Stat{}, false
	}
	st := Stat{State: fields[0][0], PPID: ppid}
	if len(fields) > 12 {
		utime, _ := strconv.Atoi(string(fields[11]))
		stime, _ := strconv.Atoi(string(fields[12]))
		st.CPU = utime + stime
	}
	return st, true
}

// Pids lists every process in this /proc.
func Pids() []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}
