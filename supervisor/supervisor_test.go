package supervisor

import (
	"os"
	"os/exec"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		ws   unix.WaitStatus
		want int
	}{
		{ws: 0, want: 0},
		{ws: 3 << 8, want: 3},
		{ws: 255 << 8, want: 255},
		{ws: unix.WaitStatus(unix.SIGTERM), want: 143},
		{ws: unix.WaitStatus(unix.SIGKILL), want: 137},
		{ws: unix.WaitStatus(unix.SIGKILL) | 0x80, want: 137}, // core dumped
	}
	for _, tt := range tests {
		if got := ExitCode(tt.ws); got != tt.want {
			t.Errorf("ExitCode(%#x) = %d, want %d", uint32(tt.ws), got, tt.want)
		}
	}
}

// A command name with spaces and parentheses must not confuse the /proc
// parser that finds the tree.
func TestDescendantsWithOddNames(t *testing.T) {
	dir := t.TempDir()
	odd := dir + "/odd) name ("
	if err := os.Symlink("/bin/sleep", odd); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(odd, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if !slices.Contains(descendants(os.Getpid()), cmd.Process.Pid) {
		t.Errorf("descendants misses pid %d", cmd.Process.Pid)
	}
}
