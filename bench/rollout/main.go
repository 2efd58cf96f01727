// Command rollout reproduces one step of a Kubernetes rolling update on one
// machine and counts the requests it loses, per PID-1 wrapper.
//
// A fake Nacos (heartbeat expiry 3 s) holds the service; callers refresh
// their cached instance list every second and send a steady load
// round-robin, a new connection per request, no retries. An old and a new
// instance of a JVM service, each started by a legacy start.sh as PID 1 of
// its own PID namespace under the wrapper, serve it. The old one gets SIGTERM
// from outside its namespace, as the kubelet sends it, and SIGKILL when the
// grace period runs out; the load goes on until callers must have noticed.
//
// Run as root from the repository root: go run ./bench/rollout; with
// -docker, the same across containers (see docker.go).
package main

import (
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/drainit/drainit/bench/benchdata"
	"github.com/drainit/drainit/internal/testsupport/fakeregistry"
)

type wrapper struct {
	Name   string
	argv   []string      // before start.sh; "drainit" is replaced by -drainit
	env    []string      // {PORT}, {NACOS} and {IP} are filled in
	mixed  bool          // callers refreshing every 1, 2 and 6 s and a probe, not the 1 s callers alone
	consul bool          // callers of a real Consul agent, which holds the instances, not of the fake Nacos
	grace  time.Duration // the grace period, when not -grace
}

var wrappers = []wrapper{
	{Name: "bash (no init)"},
	{Name: "tini", argv: []string{"tini", "--"}},
	{Name: "tini -g", argv: []string{"tini", "-g", "--"}},
	{Name: "dumb-init", argv: []string{"dumb-init"}},
	{Name: "drainit, no drain", argv: []string{"drainit", "--"}},
	{Name: "drainit, nacos + wait", argv: []string{"drainit", "--"}, env: []string{
		"DRAINIT_PRESTOP=nacos; sleep 2s", "DRAINIT_NACOS_ADDR={NACOS}", "DRAINIT_NACOS_SERVICE=demo",
		"DRAINIT_NACOS_IP={IP}", "DRAINIT_NACOS_PORT={PORT}"}},
	{Name: "drainit, actuator + wait", argv: []string{"drainit", "--"}, env: []string{
		"DRAINIT_PRESTOP=http POST http://127.0.0.1:{PORT}/actuator/deregister; sleep 2s"}},
	// A real Consul agent's health answer instead of the fake Nacos: the
	// drop-in against the consul step.
	{Name: "consul callers: tini", argv: []string{"tini", "--"}, consul: true},
	{Name: "consul callers: drainit, consul + wait", argv: []string{"drainit", "--"}, consul: true, env: []string{
		"DRAINIT_PRESTOP=consul; sleep 2s", "CONSUL_HTTP_ADDR={CONSUL}", "DRAINIT_CONSUL_SERVICE_ID=demo-{PORT}"}},
	// The adaptive drain against the guessed sleep, with callers that
	// refresh every 1, 2 and 6 s and a probe from the "node".
	{Name: "mixed callers: nacos + sleep 30s", argv: []string{"drainit", "--"}, mixed: true, grace: 45 * time.Second, env: []string{
		"DRAINIT_PRESTOP=nacos; sleep 30s", "DRAINIT_NACOS_ADDR={NACOS}", "DRAINIT_NACOS_SERVICE=demo",
		"DRAINIT_NACOS_IP={IP}", "DRAINIT_NACOS_PORT={PORT}"}},
	{Name: "mixed callers: nacos + quiet", argv: []string{"drainit", "--"}, mixed: true, grace: 45 * time.Second, env: []string{
		"DRAINIT_PRESTOP=nacos; quiet 3s max 30s", "DRAINIT_NACOS_ADDR={NACOS}", "DRAINIT_NACOS_SERVICE=demo",
		"DRAINIT_NACOS_IP={IP}", "DRAINIT_NACOS_PORT={PORT}", "HOST_IP=" + probeAddr,
		// Here every instance shares the host's network namespace, whose
		// PassiveOpens counts the registry's and the new instance's
		// connections too; in a pod the namespace is the pod's own.
		"DRAINIT_QUIET_OPENS=false"}},
}

type settings struct {
	runs              int
	rate              int
	grace             time.Duration
	drainit           string
	out               string
	only              string
	docker            bool
	k8s               bool
	k8sCallers        bool
	service, registry string
	caller            string
	classes           string
	script            string
	consul            *consulAgent // for the consul rows, started once
}

func main() {
	var s settings
	flag.IntVar(&s.runs, "runs", 3, "runs per wrapper")
	flag.IntVar(&s.rate, "rate", 300, "requests per second")
	flag.DurationVar(&s.grace, "grace", 15*time.Second, "terminationGracePeriodSeconds")
	flag.StringVar(&s.drainit, "drainit", "bin/drainit", "the drainit binary")
	flag.StringVar(&s.out, "out", "bench/results", "where to write rollout.json")
	flag.StringVar(&s.only, "only", "", "run only wrappers whose name contains this")
	flag.BoolVar(&s.docker, "docker", false, "run every instance in a container under the Docker engine (needs make docker-images)")
	flag.StringVar(&s.caller, "caller", "", "be the callers' container: load the service listed at this registry until SIGTERM")
	flag.BoolVar(&s.k8s, "k8s", false, "roll a Deployment in the project's Kubernetes (make k8s-up), callers in a pod")
	flag.BoolVar(&s.k8sCallers, "k8s-callers", false, "be the callers' pod: load -service and the instances of -registry until /stop")
	flag.StringVar(&s.service, "service", "", "with -k8s-callers: the Service's URL, or none")
	flag.StringVar(&s.registry, "registry", "", "with -k8s-callers: the fake Nacos's URL, or none")
	flag.Parse()
	var err error
	switch {
	case s.k8sCallers:
		err = runK8sCallers(s.service, s.registry, s.rate)
	case s.caller != "":
		err = runCaller(s.caller, s.rate)
	case s.docker:
		err = runDocker(s)
	case s.k8s:
		err = runK8s(s)
	default:
		err = run(s)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rollout:", err)
		os.Exit(1)
	}
}

func run(s settings) error {
	dir, err := os.MkdirTemp("", "rollout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s.classes = dir
	if out, err := exec.Command("javac", "-d", dir, "bench/rollout/service/Service.java").CombinedOutput(); err != nil {
		return fmt.Errorf("javac: %v: %s", err, out)
	}
	if s.drainit, err = filepath.Abs(s.drainit); err != nil {
		return err
	}
	s.script, _ = filepath.Abs("bench/rollout/service/start.sh")
	if slices.ContainsFunc(wrappers, func(w wrapper) bool { return w.consul && strings.Contains(w.Name, s.only) }) {
		if s.consul, err = startConsul(); err != nil {
			return err
		}
		defer s.consul.stop()
	}
	var results []benchdata.RolloutResult
	for _, w := range wrappers {
		if !strings.Contains(w.Name, s.only) {
			continue
		}
		for i := 1; i <= s.runs; i++ {
			r, err := runOnce(s, w, dir)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", w.Name, i, err)
			}
			r.Run = i
			fmt.Printf("%-26s run %d: sent %5d failed %4d %v hook=%v stop=%v status=%s\n",
				w.Name, i, r.Sent, r.Failed, r.Failures, r.HookDone, r.StopTook.Round(time.Millisecond), r.Status)
			results = append(results, r)
		}
	}
	var restarts []benchdata.RestartResult
	if s.only == "" || strings.Contains("restart", s.only) {
		if restarts, err = runRestarts(s, dir); err != nil {
			return err
		}
	}
	return writeResults(s, results, restarts)
}

func writeResults(s settings, results []benchdata.RolloutResult, restarts []benchdata.RestartResult) error {
	return benchdata.Write(s.out, "rollout.json", benchdata.Rollout{Rate: s.rate, Grace: s.grace.String(), Runs: s.runs,
		Results: results, Restarts: restarts})
}

// After the old instance is gone, callers notice within the heartbeat expiry
// (3 s) plus one cache refresh (1 s); the load runs a second past that.
const noticeWindow = 5 * time.Second

func runOnce(s settings, w wrapper, dir string) (benchdata.RolloutResult, error) {
	registry := fakeregistry.NewNacos()
	registry.BeatExpiry = 3 * time.Second
	srv := httptest.NewServer(registry)
	defer srv.Close()

	old, err := startInstance(s, w, srv.URL, dir+"/old-events", 0)
	if err != nil {
		return benchdata.RolloutResult{}, err
	}
	defer old.kill()
	if err := waitRegistered(registry, old.port); err != nil {
		return benchdata.RolloutResult{}, err
	}
	if err := s.holdInConsul(w, old); err != nil {
		return benchdata.RolloutResult{}, err
	}
	callers := newLoad(s, w, srv.URL, old.port)
	fresh, err := startInstance(s, w, srv.URL, dir+"/new-events", 0)
	if err != nil {
		callers.stop()
		return benchdata.RolloutResult{}, err
	}
	defer fresh.kill()
	if err := waitRegistered(registry, fresh.port); err != nil {
		callers.stop()
		return benchdata.RolloutResult{}, err
	}
	if err := s.holdInConsul(w, fresh); err != nil {
		callers.stop()
		return benchdata.RolloutResult{}, err
	}
	time.Sleep(2 * time.Second) // callers see both instances

	grace := s.grace
	if w.grace > 0 {
		grace = w.grace
	}
	took, status := old.stop(grace)
	time.Sleep(noticeWindow)
	sent, failures := callers.stop()
	r := benchdata.RolloutResult{Wrapper: w.Name, Sent: sent, Failures: failures, StopTook: took, Status: status}
	for _, n := range failures {
		r.Failed += n
	}
	r.HookDone = hasEvent(dir+"/old-events", "hook-done")
	os.Remove(dir + "/old-events")
	os.Remove(dir + "/new-events")
	return r, nil
}

// load is the callers of a run.
type load interface {
	stop() (int64, map[string]int64)
}

func newLoad(s settings, w wrapper, registry string, oldPort int) load {
	switch {
	case w.mixed:
		return startMixed(registry, s.rate, oldPort)
	case w.consul:
		return startLoad(consulList(s.consul.addr), s.rate)
	}
	return startLoad(nacosList(registry), s.rate)
}

// holdInConsul registers the instance with the Consul agent for the consul
// rows, until the run ends.
func (s settings) holdInConsul(w wrapper, in *instance) error {
	if !w.consul {
		return nil
	}
	in.onKill = append(in.onKill, func() { s.consul.deregister(in.port) })
	return s.consul.register(in.port)
}

func waitRegistered(registry *fakeregistry.Nacos, port int) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok := registry.Lookup("demo", "127.0.0.1", port); ok {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the instance on port %d never registered", port)
}

func hasEvent(path, name string) bool {
	data, _ := os.ReadFile(path)
	return strings.Contains(string(data), " "+name+"\n")
}
