package signals

import (
	"syscall"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want syscall.Signal
		bad  bool
	}{
		{in: "15", want: syscall.SIGTERM},
		{in: "TERM", want: syscall.SIGTERM},
		{in: "SIGTERM", want: syscall.SIGTERM},
		{in: "term", want: syscall.SIGTERM},
		{in: "usr1", want: syscall.SIGUSR1},
		{in: "RTMIN", want: 34},
		{in: "SIGRTMIN+3", want: 37},
		{in: "RTMAX-1", want: 63},
		{in: "64", want: 64},
		{in: "0", bad: true},
		{in: "65", bad: true},
		{in: "-3", bad: true},
		{in: "TERMINATE", bad: true},
		{in: "RTMIN+31", bad: true},
		{in: "RTMIN3", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("Parse(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestNameRoundTrip(t *testing.T) {
	for sig := syscall.Signal(1); sig <= RTMax; sig++ {
		if sig == 32 || sig == 33 {
			continue
		}
		name := Name(sig)
		back, err := Parse(name)
		if err != nil || back != sig {
			t.Errorf("Parse(Name(%d)=%q) = %v, %v", sig, name, back, err)
		}
	}
}

func TestForwardable(t *testing.T) {
	never := []syscall.Signal{syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGCHLD, 33, 0, 65}
	for _, sig := range never {
		if Forwardable(sig) {
			t.Errorf("Forwardable(%v) = true", sig)
		}
	}
	always := []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGWINCH, syscall.SIGTSTP, 32, 34, 64,
		syscall.SIGPIPE, syscall.SIGURG, syscall.SIGPROF} // when another process sent them
	for _, sig := range always {
		if !Forwardable(sig) {
			t.Errorf("Forwardable(%v) = false", sig)
		}
	}
}

func TestRewrites(t *testing.T) {
	r := Rewrites{}
	for _, s := range []string{"TERM:QUIT", "10:0", "SIGHUP:RTMIN+1"} {
		if err := r.Add(s); err != nil {
			t.Fatalf("Add(%q): %v", s, err)
		}
	}
	cases := map[syscall.Signal]syscall.Signal{
		syscall.SIGTERM: syscall.SIGQUIT,
		syscall.SIGUSR1: 0,
		syscall.SIGHUP:  35,
		syscall.SIGINT:  syscall.SIGINT,
	}
	for in, want := range cases {
		if got := r.Apply(in); got != want {
			t.Errorf("Apply(%v) = %v, want %v", in, got, want)
		}
	}
	for _, bad := range []string{"TERM", "TERM:", ":QUIT", "99:1", "1:99", "TERM:NOPE"} {
		if err := r.Add(bad); err == nil {
			t.Errorf("Add(%q) accepted", bad)
		}
	}
}

func TestSentByOther(t *testing.T) {
	const self = 100
	tests := []struct {
		sig       syscall.Signal
		code, pid int32
		want      bool
	}{
		{syscall.SIGPIPE, 0, self, false}, // the kernel, for drainit's own write (SI_USER, pid self)
		{syscall.SIGPIPE, 0, 42, true},    // kill(2) from another process
		{syscall.SIGPIPE, 0, 0, true},     // kill(2) from a parent namespace
		{syscall.SIGURG, -6, self, false}, // the runtime's preemption tgkill (SI_TKILL)
		{syscall.SIGURG, -1, 42, true},    // sigqueue from another process (SI_QUEUE)
		{syscall.SIGPROF, 0x80, 0, false}, // the profiling timer (SI_KERNEL)
		{syscall.SIGPROF, 0, 42, true},    // kill(2)
		{34, 0, self, true},               // 32 and 34 are always someone's
		{syscall.SIGSEGV, 1, self, false}, // a fault in drainit's code (SEGV_MAPERR): the runtime's
		{syscall.SIGSEGV, 0, 42, true},    // kill -SEGV from another process
		{syscall.SIGBUS, -1, 0, true},     // sigqueue from a parent namespace
		{syscall.SIGUSR1, 0x80, 0, true},  // the kernel on someone's behalf (a terminal)
	}
	for _, tt := range tests {
		if got := sentByOther(tt.sig, tt.code, tt.pid, self); got != tt.want {
			t.Errorf("sentByOther(%v, code %d, pid %d) = %v, want %v", tt.sig, tt.code, tt.pid, got, tt.want)
		}
	}
}
