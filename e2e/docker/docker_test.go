package docker

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drainit/drainit/internal/logging"
)

// docker stop of a bash start.sh that runs the JVM without exec or trap:
// drainit drains, the JVM gets SIGTERM through its process group and runs
// its shutdown hook to the end, and the container exits 143 by itself,
// long before docker stop's SIGKILL.
func TestDockerStopDrainsTheJVMBehindStartSh(t *testing.T) {
	c := run(t, []string{
		"-e", "DRAINIT_PRESTOP=http POST http://127.0.0.1:8080/actuator/deregister; sleep 1s",
		"-e", "DRAINIT_GRACE_PERIOD=25s", "-e", "DRAINIT_STOP_TIMEOUT=10s",
	}, javaApp)
	c.waitLog("listening on")
	took := c.stop(30)
	c.expectExit(143)
	logs := c.logs()
	for _, want := range []string{logging.DrainStarted, "deregistered", logging.StopForwarded, "shutdown hook: done", "process tree gone"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %q:\n%s", want, logs)
		}
	}
	t.Logf("docker stop -t 30 returned after %v", took.Round(time.Millisecond))
}

// What users of the same image have without drainit: the engine's bundled
// tini (docker run --init) signals bash alone, which dies at once and takes
// the container down with the JVM unsignalled; bash as PID 1 ignores
// SIGTERM and is killed when docker stop's time is up. Neither JVM runs its
// shutdown hook.
func TestDockerStopWithoutDrainit(t *testing.T) {
	cases := []struct {
		name string
		opts []string
		want int
	}{
		{"docker run --init", []string{"--init", "--entrypoint", "/app/start.sh"}, 143},
		{"bash as PID 1", []string{"--entrypoint", "/app/start.sh"}, 137},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := run(t, tc.opts, javaApp)
			c.waitLog("listening on")
			took := c.stop(3)
			c.expectExit(tc.want)
			if strings.Contains(c.logs(), "shutdown hook: done") {
				t.Errorf("the JVM finished its shutdown hook:\n%s", c.logs())
			}
			t.Logf("docker stop -t 3 returned after %v", took.Round(time.Millisecond))
		})
	}
}

// docker kill -s of each signal drainit forwards reaches the app.
func TestDockerKillForwardsEachSignal(t *testing.T) {
	c := run(t, nil, testkit, "drainit", "--", "testprog", "sigecho", "/dev/stdout")
	c.waitLog("ready")
	for _, sig := range []int{1, 2, 3, 10, 12, 14, 26, 28, 29, 37, 64} {
		mustDocker(t, "kill", "-s", strconv.Itoa(sig), c.name)
		waitFor(t, limit, fmt.Sprintf("the app to get signal %d", sig), func() bool {
			return hasLine(c.logs(), strconv.Itoa(sig))
		})
	}
	mustDocker(t, "kill", "-s", "TERM", c.name)
	c.expectExit(0)
}

func hasLine(text, want string) bool {
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == want {
			return true
		}
	}
	return false
}

// The container's exit code is the child's, or 128+N for a death by signal
// N; --stop-signal is what docker stop sends, and drainit forwards it.
func TestDockerExitCodes(t *testing.T) {
	t.Run("the child's code", func(t *testing.T) {
		run(t, nil, testkit, "drainit", "--", "sh", "-c", "exit 3").expectExit(3)
	})
	t.Run("128+N", func(t *testing.T) {
		run(t, nil, testkit, "drainit", "--", "sh", "-c", "kill -USR1 $$").expectExit(128 + 10)
	})
	t.Run("--stop-signal", func(t *testing.T) {
		c := run(t, []string{"--stop-signal", "SIGUSR1"}, testkit, "drainit", "--", "testprog", "sigecho", "/dev/stdout", "10")
		c.waitLog("ready")
		c.stop(30)
		c.expectExit(0) // sigecho exits 0 on the signal it was told, USR1
		if !hasLine(c.logs(), "10") {
			t.Errorf("the app never got SIGUSR1:\n%s", c.logs())
		}
	})
}

// A daemonizing child leaves its children to PID 1: drainit reaps them.
func TestDockerReapsWhatADaemonLeaves(t *testing.T) {
	c := run(t, nil, testkit, "drainit", "--", "sh", "-c", "testprog orphans 200 0; testprog zombies 10s")
	c.expectExit(0)
	if !strings.Contains(c.logs(), "no zombies") {
		t.Errorf("zombies were left:\n%s", c.logs())
	}
}

// A child that ignores SIGTERM is killed by drainit once its stop timeout
// is up, before docker stop's own SIGKILL would come.
func TestDockerKillsAChildThatIgnoresTERMBeforeDockerDoes(t *testing.T) {
	c := run(t, []string{"-e", "DRAINIT_STOP_TIMEOUT=2s"}, testkit, "drainit", "--", "testprog", "ignoreterm", "/tmp")
	waitFor(t, limit, "the app to start", func() bool {
		_, err := docker(t, "exec", c.name, "test", "-f", "/tmp/ready")
		return err == nil
	})
	took := c.stop(30)
	c.expectExit(137)
	if !strings.Contains(c.logs(), logging.TreeKilled) {
		t.Errorf("drainit did not kill the tree itself:\n%s", c.logs())
	}
	if took > 20*time.Second {
		t.Errorf("docker stop -t 30 took %v: docker's SIGKILL, not drainit's", took)
	}
}

// With docker run -t the child gets the terminal as its controlling
// terminal and is the foreground group there.
func TestDockerTerminalGoesToTheChild(t *testing.T) {
	c := run(t, []string{"-t"}, testkit, "drainit", "--", "testprog", "sigecho", "/dev/stdout")
	c.waitLog("ready")
	fields := map[string]string{}
	for _, f := range strings.Fields(c.logs()) {
		if k, v, ok := strings.Cut(f, "="); ok {
			fields[k] = v
		}
	}
	if fields["fg"] == "" || fields["fg"] != fields["pgrp"] {
		t.Errorf("the child is not the terminal's foreground group: %q", c.logs())
	}
	mustDocker(t, "kill", "-s", "TERM", c.name)
	c.expectExit(0)
}

// The invoked names pick the personality, through symlinks in the image.
func TestDockerPersonalities(t *testing.T) {
	run(t, nil, testkit, "tini", "--", "sh", "-c", "exit 5").expectExit(5)
	run(t, nil, testkit, "dumb-init", "sh", "-c", "exit 6").expectExit(6)
	c := run(t, nil, testkit, "dumb-init", "no-such-command")
	c.expectExit(2) // dumb-init's code for a command that cannot run
	if !strings.Contains(c.logs(), "[dumb-init] no-such-command: No such file or directory") {
		t.Errorf("dumb-init's words missing:\n%s", c.logs())
	}
	run(t, nil, testkit, "tini", "--", "no-such-command").expectExit(127)
}

// The Nacos step in a container on a Docker network, with the registry in
// another: drainit finds the instance's address itself (the container's own
// IP; no DRAINIT_NACOS_IP) and disables it there before the app is signalled.
func TestDockerNacosStepFindsItsOwnAddress(t *testing.T) {
	net := network(t)
	nacos := run(t, []string{"--network", net, "--network-alias", "nacos"}, testkit, "fakeregistryd")
	nacos.waitLog("fake Nacos on")
	app := run(t, []string{"--network", net,
		"-e", "DRAINIT_PRESTOP=nacos; sleep 1s", "-e", "DRAINIT_NACOS_ADDR=nacos:8848",
		"-e", "DRAINIT_NACOS_SERVICE=demo", "-e", "DRAINIT_NACOS_PORT=8080",
	}, testkit, "drainit", "--", "testprog", "sigecho", "/dev/stdout")
	app.waitLog("ready")
	appIP, registry := app.ip(net), "http://"+nacos.ip(net)+":8848"
	form := url.Values{"serviceName": {"demo"}, "ip": {appIP}, "port": {"8080"}}
	resp, err := http.PostForm(registry+"/nacos/v1/ns/instance", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	app.stop(30)
	app.expectExit(0)
	events := get(t, registry+"/fake/events")
	if !strings.Contains(events, "nacos patch enabled=false") || !strings.Contains(events, appIP+":8080") {
		t.Errorf("the registry never saw %s:8080 disabled:\n%s\napp logs:\n%s", appIP, events, app.logs())
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// The example image as a user runs it: docker run with its own defaults,
// then a plain docker stop (10 s). The drain fits, the JVM's shutdown hook
// runs, and the container exits 143 by itself.
func TestDockerStopOfTheExampleImageAsItIs(t *testing.T) {
	c := run(t, nil, javaApp)
	c.waitLog("listening on")
	took := c.stop(10)
	c.expectExit(143)
	logs := c.logs()
	for _, want := range []string{`msg="drain step started" step="http POST`, "deregistered", logging.StopForwarded, "shutdown hook: done"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %q:\n%s", want, logs)
		}
	}
	if took > 9*time.Second {
		t.Errorf("docker stop took %v: the container did not exit before docker's SIGKILL", took)
	}
}

// docker run --pids-limit with the app filling the limit (docker exec, as
// an operator would): drainit needs no new thread to drain, forward and
// wait; the exit code is the child's, not a crash of the Go runtime.
func TestDockerPidsLimitReachedByTheApp(t *testing.T) {
	c := run(t, []string{"--pids-limit", "60",
		"-e", "DRAINIT_PRESTOP=http POST http://127.0.0.1:8080/actuator/deregister; quiet 1s max 2s",
		"-e", "DRAINIT_GRACE_PERIOD=20", "-e", "DRAINIT_STOP_TIMEOUT=5s"}, javaApp)
	c.waitLog("listening on")
	// Sleeps until the kernel refuses a fork. bash then gives up and exits,
	// freeing a pid; a docker exec joins the cgroup without a fork (the limit
	// does not refuse it), so it tops the container up to the limit.
	docker(t, "exec", "-d", c.name, "bash", "-c", "while sleep 600 & do :; done 2>/dev/null")
	pids := c.pidsCgroup()
	waitFor(t, limit, "the container's pids limit to be reached", func() bool {
		return pids.Filled(func() { docker(t, "exec", "-d", c.name, "sleep", "600") })
	})
	c.stop(20)
	logs := c.logs()
	if code := c.exitCode(); code != 143 {
		t.Fatalf("exit code %d, want the child's 143\n%s", code, logs)
	}
	for _, want := range []string{`step="http POST`, logging.StopForwarded} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "newosproc") {
		t.Errorf("the Go runtime could not start a thread:\n%s", logs)
	}
}
