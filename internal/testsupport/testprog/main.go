// Command testprog is the stand-in app for drainit's end-to-end tests: each
// subcommand is one behaviour a real child shows (logs its signals, floods
// orphans, stops slowly, ignores SIGTERM).
package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/drainit/drainit/internal/proc"
	"github.com/drainit/drainit/internal/testsupport/pidns"
	"github.com/drainit/drainit/signals"
	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: testprog sigecho|orphans|zombies|slowterm|ignoreterm|sigpong|reapclock|launch|sigcount|flood|conns ARGS")
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "sigecho":
		sigecho(args)
	case "orphans":
		orphans(args)
	case "zombies":
		zombies(args)
	case "slowterm":
		slowterm(args)
	case "ignoreterm":
		ignoreterm(args)
	case "sigpong":
		sigpong()
	case "reapclock":
		reapclock(args)
	case "launch":
		launch(args)
	case "sigcount":
		sigcount(args)
	case "flood":
		flood(args)
	case "conns":
		conns(args)
	default:
		fail("unknown subcommand " + os.Args[1])
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "testprog:", msg)
	os.Exit(99)
}

// sigecho LOG [EXITSIG]: appends "ready pid=P pgrp=G sid=S fg=F" then the
// number of every signal received to LOG; exits 0 on EXITSIG (default TERM).
func sigecho(args []string) {
	if len(args) < 1 {
		fail("sigecho LOG [EXITSIG]")
	}
	exitOn := syscall.SIGTERM
	if len(args) > 1 {
		n, _ := strconv.Atoi(args[1])
		exitOn = syscall.Signal(n)
	}
	ch := signals.Listen()
	log, err := os.OpenFile(args[0], os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fail(err.Error())
	}
	fg, _ := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	sid, _ := unix.Getsid(0)
	fmt.Fprintf(log, "ready pid=%d pgrp=%d sid=%d fg=%d\n", os.Getpid(), unix.Getpgrp(), sid, fg)
	for s := range ch {
		sig := s.(syscall.Signal)
		if sig == syscall.SIGCHLD {
			continue // its own children's
		}
		fmt.Fprintf(log, "%d\n", int(sig))
		if sig == exitOn {
			os.Exit(0)
		}
	}
}

// orphans N CODE: starts N short-lived processes without waiting for them
// and exits with CODE at once, so they die as orphans or as zombies handed
// over to the init.
func orphans(args []string) {
	if len(args) != 2 {
		fail("orphans N CODE")
	}
	n, _ := strconv.Atoi(args[0])
	code, _ := strconv.Atoi(args[1])
	attr := &syscall.ProcAttr{Files: []uintptr{0, 1, 2}}
	for i := 0; i < n; i++ {
		if _, err := syscall.ForkExec("/bin/true", []string{"true"}, attr); err != nil {
			fail(err.Error())
		}
	}
	os.Exit(code)
}

// zombies TIMEOUT: waits until no zombie is left in /proc; exits 1 with the
// list if some remain after TIMEOUT.
func zombies(args []string) {
	timeout, _ := time.ParseDuration(args[0])
	deadline := time.Now().Add(timeout)
	for {
		left := findZombies()
		if len(left) == 0 {
			fmt.Println("no zombies")
			os.Exit(0)
		}
		if time.Now().After(deadline) {
			fmt.Println("zombies left:", strings.Join(left, " "))
			os.Exit(1)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func findZombies() []string {
	var out []string
	for _, pid := range proc.Pids() {
		if pidns.State(pid) == 'Z' {
			out = append(out, strconv.Itoa(pid))
		}
	}
	return out
}

// slowterm DIR DELAY: writes DIR/ready, and on SIGTERM writes DIR/term (the
// time in Unix milliseconds), waits DELAY, writes DIR/done and exits 0: an
// app with a graceful shutdown.
func slowterm(args []string) {
	if len(args) != 2 {
		fail("slowterm DIR DELAY")
	}
	delay, _ := time.ParseDuration(args[1])
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM)
	touch(args[0] + "/ready")
	<-ch
	os.WriteFile(args[0]+"/term", []byte(strconv.FormatInt(time.Now().UnixMilli(), 10)), 0o644)
	time.Sleep(delay)
	touch(args[0] + "/done")
	os.Exit(0)
}

// ignoreterm DIR: ignores SIGTERM, writes DIR/ready and runs until killed.
// ignoreterm DIR: writes its pid to DIR/ready and survives SIGTERM, writing
// the time it got it (Unix milliseconds) to DIR/term: only SIGKILL ends it.
func ignoreterm(args []string) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM)
	if err := os.WriteFile(args[0]+"/ready", []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		fail(err.Error())
	}
	for range ch {
		stamp := strconv.FormatInt(time.Now().UnixMilli(), 10)
		if err := os.WriteFile(args[0]+"/term", []byte(stamp), 0o644); err != nil {
			fail(err.Error())
		}
	}
}

func touch(path string) {
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		fail(err.Error())
	}
}

// sigpong writes one byte to stdout for every SIGUSR1, so a benchmark can
// time a signal's trip through the init; it exits on SIGTERM.
func sigpong() {
	ch := make(chan os.Signal, 64)
	signal.Notify(ch, syscall.SIGUSR1, syscall.SIGTERM)
	os.Stdout.Write([]byte{'r'})
	for sig := range ch {
		if sig == syscall.SIGTERM {
			os.Exit(0)
		}
		os.Stdout.Write([]byte{'p'})
	}
}

// reapclock N: has a helper leave N exited orphans to the init, then
// prints how long the init took to reap them ("reaped N in 12.3ms"), or
// what was left after 30 s. Run it as the child of an init that is PID 1 of
// a fresh PID namespace: it counts the namespace's /proc entries.
func reapclock(args []string) {
	helper := exec.Command(os.Args[0], "orphans", args[0], "0")
	if err := helper.Run(); err != nil {
		fail(err.Error())
	}
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	for {
		left := countProcs() - 2 // the init and this process
		if left <= 0 {
			fmt.Printf("reaped %s in %v\n", args[0], time.Since(start))
			return
		}
		if time.Now().After(deadline) {
			fmt.Printf("left %d after 30s\n", left)
			os.Exit(1)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// countProcs counts the processes in /proc, zombies included, without
// reading each one.
func countProcs() int {
	d, err := os.Open("/proc")
	if err != nil {
		fail(err.Error())
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	n := 0
	for _, name := range names {
		if name[0] >= '0' && name[0] <= '9' {
			n++
		}
	}
	return n
}

// launch BLOCK IGNORE CMD [ARG...]: execs CMD with the signals in the comma
// list BLOCK blocked and those in IGNORE ignored, as a parent (nohup, a
// shell's trap ”) can leave them; "-" is an empty list.
func launch(args []string) {
	if len(args) < 3 {
		fail("launch BLOCK IGNORE CMD [ARG...]")
	}
	block, err := signals.ParseList(strings.TrimPrefix(args[0], "-"))
	if err != nil {
		fail(err.Error())
	}
	ignore, err := signals.ParseList(strings.TrimPrefix(args[1], "-"))
	if err != nil {
		fail(err.Error())
	}
	for _, sig := range ignore {
		signal.Ignore(sig)
		// The runtime keeps its own handler for faults whatever Ignore
		// says; execve keeps a SIG_IGN set underneath it.
		ign := [4]uint64{1} // struct sigaction: SIG_IGN
		unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&ign)), 0, 8, 0, 0)
	}
	path, err := exec.LookPath(args[2])
	if err != nil {
		fail(err.Error())
	}
	// The mask is per thread and execve keeps the calling thread's.
	runtime.LockOSThread()
	var set unix.Sigset_t
	for _, sig := range block {
		set.Val[(sig-1)/64] |= 1 << ((uint(sig) - 1) % 64)
	}
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, nil); err != nil {
		fail(err.Error())
	}
	fail(syscall.Exec(path, args[2:], os.Environ()).Error())
}

// sigcount OUT [AFTER CODE]: counts every delivery of the signals it was
// started with blocked (start it through launch), by signalfd, so queued
// real-time signals are counted one by one; after each read it rewrites OUT
// with "SIGNAL COUNT" lines. With AFTER, it writes the time (Unix
// milliseconds) to OUT.exit and exits with CODE once AFTER has passed.
func sigcount(args []string) {
	if len(args) != 1 && len(args) != 3 {
		fail("sigcount OUT [AFTER CODE]")
	}
	var blocked unix.Sigset_t
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, nil, &blocked); err != nil || blocked.Val[0] == 0 {
		fail("sigcount needs signals blocked (start it through launch)")
	}
	fd, err := unix.Signalfd(-1, &blocked, unix.SFD_CLOEXEC)
	if err != nil {
		fail(err.Error())
	}
	if len(args) == 3 {
		go exitAfter(args[0]+".exit", args[1], args[2])
	}
	counts := map[int]int{}
	writeCounts(args[0], counts)
	buf := make([]byte, 128*256) // struct signalfd_siginfo is 128 bytes
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			fail(err.Error())
		}
		for off := 0; off+128 <= n; off += 128 {
			counts[int(binary.NativeEndian.Uint32(buf[off:]))]++
		}
		writeCounts(args[0], counts)
	}
}

func exitAfter(stamp, after, code string) {
	d, _ := time.ParseDuration(after)
	n, _ := strconv.Atoi(code)
	time.Sleep(d)
	os.WriteFile(stamp, []byte(strconv.FormatInt(time.Now().UnixMilli(), 10)), 0o644)
	os.Exit(n)
}

// writeCounts replaces path whole, so a reader never sees half a file.
func writeCounts(path string, counts map[int]int) {
	var b strings.Builder
	for sig, n := range counts {
		fmt.Fprintf(&b, "%d %d\n", sig, n)
	}
	if err := os.WriteFile(path+".tmp", []byte(b.String()), 0o644); err != nil {
		fail(err.Error())
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		fail(err.Error())
	}
}

// flood PID SIGNAL DURATION: sends SIGNAL to PID as fast as it can for
// DURATION, or until PID is gone. kill(2) never refuses a signal for a
// full queue (it then keeps one pending without queueing it), so the flood
// goes on through a saturated queue.
func flood(args []string) {
	if len(args) != 3 {
		fail("flood PID SIGNAL[,SIGNAL...] DURATION")
	}
	pid, _ := strconv.Atoi(args[0])
	sigs, err := signals.ParseList(args[1])
	if err != nil {
		fail(err.Error())
	}
	d, _ := time.ParseDuration(args[2])
	for end, i := time.Now().Add(d), 0; time.Now().Before(end); i++ {
		if err := unix.Kill(pid, sigs[i%len(sigs)]); err != nil && err != unix.EAGAIN {
			return
		}
	}
}

// conns N: opens N loopback connections to a listener of its own and holds
// them (2N sockets in the namespace's table), then waits to be killed.
func conns(args []string) {
	n, err := strconv.Atoi(args[0])
	if len(args) != 1 || err != nil {
		fail("conns N")
	}
	var limit unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &limit)
	limit.Cur = limit.Max
	unix.Setrlimit(unix.RLIMIT_NOFILE, &limit)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fail(err.Error())
	}
	go func() {
		for {
			if _, err := l.Accept(); err != nil {
				return
			}
		}
	}()
	var held []net.Conn
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			fail(err.Error())
		}
		held = append(held, c)
	}
	fmt.Println("holding", len(held)*2, "sockets")
	select {}
}
