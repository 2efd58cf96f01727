package docker

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// docker run -it from a terminal: Ctrl-C typed there reaches the app (the
// foreground group of the container's terminal), and the app still stops
// on docker kill.
func TestDockerCtrlCReachesTheApp(t *testing.T) {
	master, slave := openPTY(t)
	name := fmt.Sprintf("drainit-test-%s-%d", runID, time.Now().UnixNano())
	cmd := exec.Command("docker", "run", "-it", "--name", name, "--label", "drainit.test.run="+runID,
		testkit, "drainit", "--", "testprog", "sigecho", "/dev/stdout")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", name).Run() })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	var screen lockedText
	go screen.readFrom(master)
	waitFor(t, limit, "the app to start", func() bool { return strings.Contains(screen.String(), "ready") })
	if _, err := master.Write([]byte{0x03}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	// The terminal echoes "^C" before the app's "2".
	waitFor(t, limit, "SIGINT to reach the app", func() bool {
		return hasLine(strings.ReplaceAll(screen.String(), "^C", ""), "2")
	})
	mustDocker(t, "kill", "-s", "TERM", name)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("docker run -it: %v\n%s", err, screen.String())
		}
	case <-time.After(limit):
		cmd.Process.Kill()
		t.Fatalf("docker run -it still running\n%s", screen.String())
	}
}

// openPTY opens a pseudo-terminal pair; both ends close when the test ends.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// lockedText collects what a terminal shows.
type lockedText struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedText) readFrom(f *os.File) {
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(buf)
		l.mu.Lock()
		l.b.Write(buf[:n])
		l.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (l *lockedText) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
