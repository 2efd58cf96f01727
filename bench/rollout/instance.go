package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/drainit/drainit/internal/pidns"
)

// instance is one JVM service as PID 1 of its own PID namespace.
type instance struct {
	cmd    *exec.Cmd
	port   int
	pid1   int // the wrapper (or bash), as seen from here
	exited chan struct{}
}

func startInstance(s settings, w wrapper, nacos, events string) (*instance, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"--pid", "--fork", "--mount-proc", "--kill-child"}
	for _, a := range w.argv {
		if a == "drainit" {
			a = s.drainit
		}
		args = append(args, a)
	}
	args = append(args, s.script)
	cmd := exec.Command("unshare", args...)
	fill := strings.NewReplacer("{PORT}", strconv.Itoa(port), "{NACOS}", nacos)
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "NACOS_ADDR="+nacos, "SERVICE=demo",
		"EVENTS_FILE="+events, "CLASSES="+s.classes,
		"DRAINIT_GRACE_PERIOD="+s.grace.String(), "DRAINIT_STOP_TIMEOUT=8s")
	for _, e := range w.env {
		cmd.Env = append(cmd.Env, fill.Replace(e))
	}
	log, err := os.Create(filepath.Join(filepath.Dir(events), fmt.Sprintf("instance-%d.log", port)))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	in := &instance{cmd: cmd, port: port, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(in.exited) }()
	if in.pid1, err = pidns.Init(cmd.Process.Pid, 10*time.Second); err != nil {
		in.kill()
		return nil, err
	}
	return in, nil
}

// stop sends SIGTERM to PID 1 as the kubelet does, and SIGKILL when the
// grace period is over. It returns how long the instance took to exit and
// how it ended.
func (in *instance) stop(grace time.Duration) (time.Duration, string) {
	start := time.Now()
	syscall.Kill(in.pid1, syscall.SIGTERM)
	select {
	case <-in.exited:
		return time.Since(start), fmt.Sprintf("exit %d", in.cmd.ProcessState.ExitCode())
	case <-time.After(grace):
		syscall.Kill(in.pid1, syscall.SIGKILL)
		<-in.exited
		return time.Since(start), "SIGKILL at grace end"
	}
}

func (in *instance) kill() {
	syscall.Kill(in.pid1, syscall.SIGKILL)
	in.cmd.Process.Kill()
	<-in.exited
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
