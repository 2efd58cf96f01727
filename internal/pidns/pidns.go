// Package pidns finds processes started as PID 1 of a new PID namespace by
// `unshare --pid --fork`, for the end-to-end tests and the benchmarks.
package pidns

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Children lists pid's children. /proc keeps them per thread, and a Go
// program forks from whichever thread it runs on, so every thread is read.
func Children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, task := range tasks {
		data, _ := os.ReadFile(task)
		for _, f := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// Init waits up to limit for unshare (pid) to fork, and returns the child:
// PID 1 of the new namespace, as seen from outside it.
func Init(unshare int, limit time.Duration) (int, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if kids := Children(unshare); len(kids) > 0 {
			return kids[0], nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0, fmt.Errorf("unshare %d forked nothing in %v", unshare, limit)
}
