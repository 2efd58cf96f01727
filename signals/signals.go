// Package signals owns everything about signals that is not a process's:
// their names and the set drainit forwards, rewrites, the intake that takes
// each delivery (a signalfd for the queued ones, a handler for the rest:
// intake.go, queued.go), drainit's own ELF entry point, which records the
// signal state drainit inherited and blocks the queued signals before the
// Go runtime starts (entry_linux_*.s, inherited.go), and the launcher that
// passes inherited ignored fault signals on to the child (launcher.go).
//
// It depends on nothing else in drainit.
package signals

import (
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// RTMin and RTMax follow the C library's numbering (34..64), as kill -l does:
// 32 and 33 are reserved by glibc for its own threads.
const (
	RTMin = 34
	RTMax = 64
)

// Listen relays every signal drainit receives to the returned channel, one
// value per delivery (see intake.go). Call it before any child starts: a Go
// PID 1 that has not asked for SIGTERM dies of it with status 2.
//
// A signal that drainit's parent left ignored stays ignored, by drainit and
// so by the child (execve keeps SIG_IGN): `nohup drainit -- cmd` leaves cmd
// deaf to SIGHUP, as `nohup cmd` would. Two exceptions: SIGCHLD (ignoring
// it would make the kernel reap drainit's children and lose their exit
// codes) and 33, the runtime's own.
func Listen() chan os.Signal {
	var ignored []syscall.Signal
	for _, sig := range Inherited().Ignored {
		if sig != unix.SIGCHLD && sig != 33 {
			ignored = append(ignored, sig)
		}
	}
	if len(ignored) > 0 {
		signal.Ignore(asOSSignals(ignored)...)
	}
	return listen(ignored)
}

// notifyAll is the portable intake, where the handler cannot be installed:
// os/signal merges queued signals and drops what overflows its channel.
func notifyAll(ch chan os.Signal, ignored []syscall.Signal) chan os.Signal {
	var wanted []os.Signal
	for sig := syscall.Signal(1); sig <= RTMax; sig++ {
		if !slices.Contains(ignored, sig) {
			wanted = append(wanted, sig)
		}
	}
	signal.Notify(ch, wanted...)
	return ch
}

func asOSSignals(sigs []syscall.Signal) []os.Signal {
	out := make([]os.Signal, len(sigs))
	for i, sig := range sigs {
		out[i] = sig
	}
	return out
}

// Forwardable reports whether drainit passes sig on to the child.
//
// Never forwarded: SIGKILL and SIGSTOP (cannot be caught), SIGCHLD (drainit's
// own business) and 33, which the Go runtime keeps for itself. SIGPIPE,
// SIGURG and SIGPROF reach the supervisor only when another process sent
// them (see intake.go).
func Forwardable(sig syscall.Signal) bool {
	switch sig {
	case unix.SIGKILL, unix.SIGSTOP, unix.SIGCHLD, 33:
		return false
	}
	return sig >= 1 && sig <= RTMax
}

// Name returns the conventional name of sig: SIGTERM, SIGRTMIN+3.
func Name(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	switch {
	case sig == RTMin:
		return "SIGRTMIN"
	case sig == RTMax:
		return "SIGRTMAX"
	case sig > RTMin && sig < RTMax:
		return fmt.Sprintf("SIGRTMIN+%d", int(sig)-RTMin)
	}
	return "signal " + strconv.Itoa(int(sig))
}

// Parse reads a signal given as a number (15), a name (TERM, SIGTERM, term)
// or a real-time offset (RTMIN+3, SIGRTMAX-1).
func Parse(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > RTMax {
			return 0, fmt.Errorf("signal %d out of range 1-%d", n, RTMax)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	if sig, ok := parseRealtime(name); ok {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}

func parseRealtime(name string) (syscall.Signal, bool) {
	base, rest := 0, ""
	switch {
	case strings.HasPrefix(name, "SIGRTMIN"):
		base, rest = RTMin, name[len("SIGRTMIN"):]
	case strings.HasPrefix(name, "SIGRTMAX"):
		base, rest = RTMax, name[len("SIGRTMAX"):]
	default:
		return 0, false
	}
	offset := 0
	if rest != "" {
		n, err := strconv.Atoi(rest)
		if err != nil || (rest[0] != '+' && rest[0] != '-') {
			return 0, false
		}
		offset = n
	}
	sig := base + offset
	if sig < RTMin || sig > RTMax {
		return 0, false
	}
	return syscall.Signal(sig), true
}

// ParseList reads a comma-separated list of signals.
func ParseList(s string) ([]syscall.Signal, error) {
	var out []syscall.Signal
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		sig, err := Parse(part)
		if err != nil {
			return nil, err
		}
		out = append(out, sig)
	}
	return out, nil
}

// List is a comma-separated list of signals read from the environment.
type List []syscall.Signal

// UnmarshalText reads TERM,QUIT or 15,3.
func (l *List) UnmarshalText(text []byte) error {
	sigs, err := ParseList(string(text))
	*l = sigs
	return err
}

// One is a single signal read from the environment; empty means none.
type One syscall.Signal

// UnmarshalText reads TERM, SIGTERM or 15.
func (o *One) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*o = 0
		return nil
	}
	sig, err := Parse(string(text))
	*o = One(sig)
	return err
}
