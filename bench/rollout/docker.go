package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/drainit/drainit/bench/benchdata"
)

// The same rollout across containers (-docker): the registry, the old and
// the new instance and the callers each in a container of the image
// drainit-rollout:dev (make bench-docker builds it), on a Docker network
// made for the run, with real addresses. The old instance is stopped with
// docker stop -t GRACE, as the kubelet stops a container.
const rolloutImage = "drainit-rollout:dev"

type dockerBench struct {
	s   settings
	net string
	tag string // labels and names this run's containers
}

func runDocker(s settings) error {
	d := &dockerBench{s: s, tag: "drainit-bench-" + strconv.Itoa(os.Getpid())}
	d.net = d.tag
	if out, err := dockerCmd("network", "create", "--label", "drainit.test.run="+d.tag, d.net); err != nil {
		return fmt.Errorf("docker network create: %v: %s", err, out)
	}
	defer d.cleanUp()
	var results []benchdata.RolloutResult
	for _, w := range wrappers {
		if !strings.Contains(w.Name, s.only) || w.mixed || w.consul { // the mixed and Consul callers run on loopback only
			continue
		}
		for i := 1; i <= s.runs; i++ {
			r, err := d.runOnce(w)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", w.Name, i, err)
			}
			r.Run = i
			fmt.Printf("docker: %-26s run %d: sent %5d failed %4d %v hook=%v stop=%v status=%s\n",
				w.Name, i, r.Sent, r.Failed, r.Failures, r.HookDone, r.StopTook.Round(time.Millisecond), r.Status)
			results = append(results, r)
		}
	}
	return benchdata.Write(s.out, "rollout-docker.json", benchdata.Rollout{Rate: s.rate, Grace: s.grace.String(), Runs: s.runs, Results: results})
}

// cleanUp removes every container and the network of this run.
func (d *dockerBench) cleanUp() {
	ids, _ := dockerCmd("ps", "-aq", "--filter", "label=drainit.test.run="+d.tag)
	if ids = strings.TrimSpace(ids); ids != "" {
		dockerCmd(append([]string{"rm", "-f"}, strings.Fields(ids)...)...)
	}
	dockerCmd("network", "rm", d.net)
}

func (d *dockerBench) runOnce(w wrapper) (benchdata.RolloutResult, error) {
	defer d.cleanUp()
	dockerCmd("network", "create", "--label", "drainit.test.run="+d.tag, d.net)
	reg, err := d.start("registry", []string{"--network-alias", "nacos"}, "fakeregistryd", ":8848", "3s")
	if err != nil {
		return benchdata.RolloutResult{}, err
	}
	registry := "http://" + d.ip(reg) + ":8848"
	old, err := d.startService(w, "old")
	if err != nil {
		return benchdata.RolloutResult{}, err
	}
	if err := waitListed(registry, d.ip(old)); err != nil {
		return benchdata.RolloutResult{}, err
	}
	caller, err := d.start("callers", nil, "rollout", "-caller", "http://nacos:8848", "-rate", strconv.Itoa(d.s.rate))
	if err != nil {
		return benchdata.RolloutResult{}, err
	}
	fresh, err := d.startService(w, "new")
	if err != nil {
		return benchdata.RolloutResult{}, err
	}
	if err := waitListed(registry, d.ip(fresh)); err != nil {
		return benchdata.RolloutResult{}, err
	}
	time.Sleep(2 * time.Second) // callers see both instances
	took, status := d.stop(old)
	time.Sleep(noticeWindow)
	sent, failures, err := d.callerReport(caller)
	if err != nil {
		return benchdata.RolloutResult{}, err
	}
	r := benchdata.RolloutResult{Wrapper: w.Name, Sent: sent, Failures: failures, StopTook: took, Status: status}
	for _, n := range failures {
		r.Failed += n
	}
	logs, _ := dockerCmd("logs", old)
	r.HookDone = strings.Contains(logs, " hook-done\n")
	return r, nil
}

func (d *dockerBench) start(role string, opts []string, argv ...string) (string, error) {
	name := d.tag + "-" + role
	args := append([]string{"run", "-d", "--name", name, "--network", d.net, "--label", "drainit.test.run=" + d.tag}, opts...)
	args = append(append(args, rolloutImage), argv...)
	if out, err := dockerCmd(args...); err != nil {
		return "", fmt.Errorf("docker run %s: %v: %s", role, err, out)
	}
	return name, nil
}

// startService runs the JVM service behind start.sh under the wrapper, as
// the container's entrypoint; drainit finds the container's own address
// for the Nacos step.
func (d *dockerBench) startService(w wrapper, role string) (string, error) {
	fill := strings.NewReplacer("{PORT}", "8080", "{NACOS}", "http://nacos:8848", "{IP}", "")
	opts := []string{"-e", "PORT=8080", "-e", "HOST=0.0.0.0", "-e", "IP=auto", "-e", "NACOS_ADDR=http://nacos:8848",
		"-e", "SERVICE=demo", "-e", "EVENTS_FILE=/dev/stdout", "-e", "CLASSES=/app",
		"-e", "DRAINIT_GRACE_PERIOD=" + d.s.grace.String(), "-e", "DRAINIT_STOP_TIMEOUT=8s"}
	for _, e := range w.env {
		if e = fill.Replace(e); !strings.HasSuffix(e, "=") {
			opts = append(opts, "-e", e)
		}
	}
	argv := append([]string{}, w.argv...)
	argv = append(argv, "/app/start.sh")
	opts = append(opts, "--entrypoint", argv[0])
	return d.start(role, opts, argv[1:]...)
}

func (d *dockerBench) ip(name string) string {
	out, _ := dockerCmd("inspect", "-f", "{{(index .NetworkSettings.Networks \""+d.net+"\").IPAddress}}", name)
	return strings.TrimSpace(out)
}

// stop is the kubelet's stop: docker stop sends SIGTERM to PID 1 and
// SIGKILL once the grace period is over.
func (d *dockerBench) stop(name string) (time.Duration, string) {
	start := time.Now()
	dockerCmd("stop", "-t", strconv.Itoa(int(d.s.grace.Seconds())), name)
	took := time.Since(start)
	code, _ := dockerCmd("inspect", "-f", "{{.State.ExitCode}}", name)
	if took >= d.s.grace {
		return took, "SIGKILL at grace end"
	}
	return took, "exit " + strings.TrimSpace(code)
}

// callerReport stops the callers and reads what they sent and lost.
func (d *dockerBench) callerReport(name string) (int64, map[string]int64, error) {
	dockerCmd("kill", "-s", "TERM", name)
	dockerCmd("wait", name)
	logs, err := dockerCmd("logs", name)
	if err != nil {
		return 0, nil, fmt.Errorf("caller logs: %v", err)
	}
	var rep callerResult
	if err := json.Unmarshal([]byte(strings.TrimSpace(logs)), &rep); err != nil {
		return 0, nil, fmt.Errorf("caller report %q: %v", logs, err)
	}
	return rep.Sent, rep.Failures, nil
}

type callerResult struct {
	Sent     int64
	Failures map[string]int64
}

// runCaller is the callers' container: load until SIGTERM, then the report
// as JSON on stdout.
func runCaller(registry string, rate int) error {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	c := startLoad(nacosList(registry), rate)
	<-stop
	sent, failures := c.stop()
	return json.NewEncoder(os.Stdout).Encode(callerResult{Sent: sent, Failures: failures})
}

// waitListed waits until the registry lists the instance at ip:8080.
func waitListed(registry, ip string) error {
	client := http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := client.Get(registry + "/nacos/v1/ns/instance/list?serviceName=demo")
		if err != nil {
			continue
		}
		var list struct{ Hosts []struct{ IP string } }
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		for _, h := range list.Hosts {
			if h.IP == ip {
				return nil
			}
		}
	}
	return fmt.Errorf("the instance at %s never registered", ip)
}

func dockerCmd(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	return string(out), err
}
