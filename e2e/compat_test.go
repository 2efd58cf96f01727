package e2e

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// checkGroupForwarding runs bash with a sigecho child in the foreground,
// sends USR1 to the init, and checks whether the grandchild got it.
func checkGroupForwarding(t *testing.T, o opts, args []string, grandchildGetsIt bool) {
	t.Helper()
	log := newSigLog(t)
	sh := script(t, testprog+" sigecho "+log.path)
	r := start(t, o, append(args, sh)...)
	log.waitReady()
	r.signal(unix.SIGUSR1)
	if grandchildGetsIt {
		log.waitFor(unix.SIGUSR1)
	} else {
		log.waitFor(unix.SIGTERM) // sent to the rest of the tree once bash is gone
	}
	r.expectExit(128+int(unix.SIGUSR1), limit)
	if got := log.has(unix.SIGUSR1); got != grandchildGetsIt {
		t.Errorf("grandchild got USR1: %v, want %v", got, grandchildGetsIt)
	}
}

func TestTiniPersonality(t *testing.T) {
	t.Run("direct child by default", func(t *testing.T) {
		checkGroupForwarding(t, opts{name: "tini"}, []string{"--"}, false)
	})
	t.Run("-g signals the group", func(t *testing.T) {
		checkGroupForwarding(t, opts{name: "tini"}, []string{"-g", "--"}, true)
	})
	t.Run("TINI_KILL_PROCESS_GROUP", func(t *testing.T) {
		checkGroupForwarding(t, opts{name: "tini", env: []string{"TINI_KILL_PROCESS_GROUP=1"}}, []string{"--"}, true)
	})
}

func TestDumbInitPersonality(t *testing.T) {
	t.Run("group by default", func(t *testing.T) {
		checkGroupForwarding(t, opts{name: "dumb-init"}, nil, true)
	})
	t.Run("-c single child", func(t *testing.T) {
		checkGroupForwarding(t, opts{name: "dumb-init"}, []string{"-c"}, false)
	})
	t.Run("DUMB_INIT_SETSID=0", func(t *testing.T) {
		checkGroupForwarding(t, opts{name: "dumb-init", env: []string{"DUMB_INIT_SETSID=0"}}, nil, false)
	})
	t.Run("numeric rewrite", func(t *testing.T) {
		log := newSigLog(t)
		r := start(t, opts{name: "dumb-init"}, "-r", "10:12", testprog, "sigecho", log.path)
		log.waitReady()
		r.signal(unix.SIGUSR1)
		log.waitFor(unix.SIGUSR2)
		r.signal(unix.SIGTERM)
		r.expectExit(0, limit)
	})
}

// Ctrl-Z as dumb-init does it: the child is stopped, then drainit stops
// itself; SIGCONT resumes both.
func TestJobControl(t *testing.T) {
	log := newSigLog(t)
	r := start(t, opts{plain: true}, testprog, "sigecho", log.path)
	log.waitReady()
	child := childrenOf(r.pid)[0]
	r.signal(unix.SIGTSTP)
	waitFor(t, limit, "child and drainit stopped", func() bool {
		return procState(child) == "T" && procState(r.pid) == "T"
	})
	r.signal(unix.SIGCONT)
	log.waitFor(unix.SIGCONT)
	if s := procState(child); s == "T" {
		t.Errorf("child still stopped")
	}
	r.signal(unix.SIGTERM)
	r.expectExit(0, limit)
}

// Under `docker run -it` drainit holds the terminal; the child must get it as
// controlling terminal and foreground group so Ctrl-C reaches it directly.
func TestTerminalGoesToTheChild(t *testing.T) {
	master, slave := openPTY(t)
	log := newSigLog(t)
	r := start(t, opts{plain: true, setup: func(c *exec.Cmd) {
		c.Stdin, c.Stdout, c.Stderr = slave, slave, slave
		c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	}}, testprog, "sigecho", log.path)
	ready := log.waitReady()
	fields := map[string]string{}
	for _, kv := range strings.Fields(ready)[1:] {
		k, v, _ := strings.Cut(kv, "=")
		fields[k] = v
	}
	if fields["sid"] != fields["pid"] || fields["fg"] != fields["pgrp"] {
		t.Fatalf("child is not the foreground session leader of the terminal: %s", ready)
	}
	master.Write([]byte{3}) // Ctrl-C
	log.waitFor(unix.SIGINT)
	r.signal(unix.SIGTERM)
	r.expectExit(0, limit)
}

func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	go func() { // keep the terminal's output buffer from filling up
		buf := make([]byte, 4096)
		for {
			if _, err := m.Read(buf); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}
