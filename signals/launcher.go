package signals

import (
	"slices"
	"syscall"

	"golang.org/x/sys/unix"
)

// runtimeOwned are the signals the kernel raises for a fault in the
// faulting thread's own code. The Go runtime keeps its handler for them
// whatever drainit asks (it turns faults into panics), and resets them to
// the default in every child it forks: one of them left ignored by
// drainit's parent can only reach the child through the launcher.
var runtimeOwned = []syscall.Signal{unix.SIGILL, unix.SIGTRAP, unix.SIGBUS, unix.SIGFPE, unix.SIGSEGV, unix.SIGSTKFLT, unix.SIGSYS}

// launcherName is argv[0] of drainit run as the launcher: drainit's entry
// point (entry_linux_*.s) sees it, ignores the signals it is told and execs
// the command, before any Go code runs.
const launcherName = "\x01drainit"

// ThroughLauncher returns what to fork and exec so that the command starts
// with every ignored signal drainit inherited: path and argv unchanged,
// unless one of them is runtime-owned; then drainit itself, as the
// launcher. Without drainit's entry point (a plain go build) or /proc, the
// command is started directly and those signals have their default action.
func ThroughLauncher(path string, argv []string) (string, []string) {
	in := Inherited()
	if !in.Exact || !slices.ContainsFunc(in.Ignored, isRuntimeOwned) {
		return path, argv
	}
	marks := make([]byte, RTMax)
	for i := range marks {
		marks[i] = '0'
	}
	for _, sig := range in.Ignored {
		marks[sig-1] = '1'
	}
	const self = "/proc/self/exe"
	if unix.Access(self, unix.X_OK) != nil {
		return path, argv
	}
	return self, append([]string{launcherName, string(marks), path}, argv...)
}

func isRuntimeOwned(sig syscall.Signal) bool { return slices.Contains(runtimeOwned, sig) }
