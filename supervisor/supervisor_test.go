package supervisor

import (
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
