package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/drainit/drainit/internal/testsupport/loopback"
	"github.com/drainit/drainit/internal/testsupport/pidns"
)

// instance is one JVM service as PID 1 of its own PID namespace.
type instance struct {
	*pidns.Proc // PID1 is the wrapper (or bash), as seen from here
	port        int
	onKill      []func() // what else ends with the instance
}

// startInstance starts the service on port, or on a free one when port is 0.
func startInstance(s settings, w wrapper, nacos, events string, port int) (*instance, error) {
	var err error
	if port == 0 {
		if port, err = loopback.FreePort(); err != nil {
			return nil, err
		}
	}
	var argv []string
	for _, a := range w.argv {
		if a == "drainit" {
			a = s.drainit
		}
		argv = append(argv, a)
	}
	cmd := pidns.Command(append(argv, s.script)...)
	consul := ""
	if s.consul != nil {
		consul = s.consul.addr
	}
	fill := strings.NewReplacer("{PORT}", strconv.Itoa(port), "{NACOS}", nacos, "{IP}", "127.0.0.1", "{CONSUL}", consul)
	grace := s.grace
	if w.grace > 0 {
		grace = w.grace
	}
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "NACOS_ADDR="+nacos, "SERVICE=demo",
		"EVENTS_FILE="+events, "CLASSES="+s.classes,
		"DRAINIT_GRACE_PERIOD="+grace.String(), "DRAINIT_STOP_TIMEOUT=8s")
	for _, e := range w.env {
		cmd.Env = append(cmd.Env, fill.Replace(e))
	}
	log, err := os.Create(filepath.Join(filepath.Dir(events), fmt.Sprintf("instance-%d.log", port)))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	p, err := pidns.Start(cmd, 10*time.Second)
	if err != nil {
		return nil, err
	}
	return &instance{Proc: p, port: port}, nil
}

// stop sends SIGTERM to PID 1 as the kubelet does, and SIGKILL when the
// grace period is over. It returns how long the instance took to exit and
// how it ended.
func (in *instance) stop(grace time.Duration) (time.Duration, string) {
	start := time.Now()
	in.Signal(syscall.SIGTERM)
	select {
	case <-in.Exited:
		return time.Since(start), fmt.Sprintf("exit %d", in.ExitCode())
	case <-time.After(grace):
		in.Kill()
		return time.Since(start), "SIGKILL at grace end"
	}
}

func (in *instance) kill() {
	in.Kill()
	for _, f := range in.onKill {
		f()
	}
}
