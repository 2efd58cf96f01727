package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/internal/testsupport/fakeregistry"
	"github.com/drainit/drainit/internal/testsupport/loopback"
	"golang.org/x/sys/unix"
)

// serve runs handler on 127.0.0.1 for the test.
func serve(t *testing.T, handler http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv.URL
}

func freePort(t *testing.T) int {
	t.Helper()
	port, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

var (
	appOnce sync.Once
	appErr  error
)

// exampleApp compiles examples/legacy-java/App.java next to a copy of the
// example start.sh (which runs java without exec) and returns the script.
func exampleApp(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(binDir, "app")
	appOnce.Do(func() {
		out, err := exec.Command("javac", "-d", dir, "../examples/legacy-java/App.java").CombinedOutput()
		if err != nil {
			appErr = fmt.Errorf("javac: %v: %s", err, out)
			return
		}
		script, err := os.ReadFile("../examples/legacy-java/start.sh")
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "start.sh"), script, 0o755)
		}
		appErr = err
	})
	if appErr != nil {
		t.Fatalf("building the example app (is a JDK installed?): %v", appErr)
	}
	return filepath.Join(dir, "start.sh")
}

// javaApp is the example app run through its start.sh under drainit as PID 1.
type javaApp struct {
	*run
	port   int
	events string
}

func startJavaApp(t *testing.T, port int, env ...string) *javaApp {
	t.Helper()
	return startJavaAppWith(t, port, opts{}, nil, env...)
}

// startJavaAppWith is startJavaApp with o for drainit and the command
// wrap in front of start.sh (setpriv, to run the app as another user).
func startJavaAppWith(t *testing.T, port int, o opts, wrap []string, env ...string) *javaApp {
	t.Helper()
	// The app may run as another user (wrap): its events file is open to all.
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755)
	os.Chmod(dir, 0o777)
	app := &javaApp{port: port, events: filepath.Join(dir, "events")}
	o.env = append(append(o.env, env...), "PORT="+strconv.Itoa(port), "EVENTS_FILE="+app.events, "SHUTDOWN_DRAIN_SECONDS=1")
	app.run = start(t, o, append(slices.Clone(wrap), exampleApp(t))...)
	health := fmt.Sprintf("http://127.0.0.1:%d/actuator/health", port)
	client := o.netns.client(5 * time.Second)
	waitFor(t, time.Minute, "the app to answer", func() bool {
		resp, err := client.Get(health)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	return app
}

// eventSeen reports whether the app has logged name.
func (a *javaApp) eventSeen(name string) bool {
	for _, line := range strings.Split(readFile(a.t, a.events), "\n") {
		if _, what, _ := strings.Cut(line, " "); what == name {
			return true
		}
	}
	return false
}

// event returns when the app logged name, failing if it never did.
func (a *javaApp) event(t *testing.T, name string) time.Time {
	t.Helper()
	for _, line := range strings.Split(readFile(t, a.events), "\n") {
		ms, what, _ := strings.Cut(line, " ")
		if what == name {
			n, _ := strconv.ParseInt(ms, 10, 64)
			return time.UnixMilli(n)
		}
	}
	t.Fatalf("the app never logged %q; events:\n%s", name, readFile(t, a.events))
	return time.Time{}
}

// registryEvent returns when the fake registry saw a change matching re.
func registryEvent(t *testing.T, events []fakeregistry.Event, re string) time.Time {
	t.Helper()
	for _, e := range events {
		if regexp.MustCompile(re).MatchString(e.What) {
			return e.At
		}
	}
	t.Fatalf("the registry never saw %q; it saw %v", re, events)
	return time.Time{}
}

func register(t *testing.T, base string, form url.Values) {
	t.Helper()
	resp, err := http.PostForm(base+"/nacos/v1/ns/instance", form)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("register: %v %v", err, resp)
	}
	resp.Body.Close()
}

func nacosEnv(addr string, port int, steps string) []string {
	return []string{
		"DRAINIT_PRESTOP=" + steps, "DRAINIT_NACOS_ADDR=" + addr, "DRAINIT_NACOS_SERVICE=demo",
		"DRAINIT_NACOS_IP=10.1.2.3", "DRAINIT_NACOS_PORT=" + strconv.Itoa(port),
	}
}

func instanceForm(port int) url.Values {
	return url.Values{"serviceName": {"demo"}, "ip": {"10.1.2.3"}, "port": {strconv.Itoa(port)}}
}

// The registry sees the instance disabled, then the drain waits, and only
// then does the JVM behind start.sh get SIGTERM; its shutdown hook completes.
func TestDrainDisablesInNacosBeforeTheJVMGetsSIGTERM(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	nacos := fakeregistry.NewNacos()
	addr := serve(t, nacos)
	port := freePort(t)
	register(t, addr, instanceForm(port))
	app := startJavaApp(t, port, append(nacosEnv(addr, port, "nacos; sleep 1s"), "DRAINIT_GRACE_PERIOD=20s", "DRAINIT_STOP_TIMEOUT=5s")...)
	app.signal(unix.SIGTERM)
	app.expectExit(143, limit)

	disabled := registryEvent(t, nacos.Events(), `^nacos patch enabled=false weight=1 10\.1\.2\.3`)
	sigterm := app.event(t, "hook-start")
	app.event(t, "hook-done")
	// The app records whole milliseconds, hence the tolerance.
	if gap := sigterm.Sub(disabled); gap < time.Second-2*time.Millisecond {
		t.Errorf("the JVM got SIGTERM %v after the registry saw it disabled, want at least the 1s drain wait", gap)
	}
	for _, want := range []string{logging.DrainStarted, `msg="drain step done" step="nacos disable demo 10.1.2.3:`, `step="sleep 1s"`, logging.StopForwarded, "process tree gone"} {
		if !strings.Contains(app.stderr.String(), want) {
			t.Errorf("timeline lacks %q:\n%s", want, app.stderr.String())
		}
	}
}

// The seed's preStop hook as configuration: deregister, wait, shutdown,
// wait. The JVM exits by the shutdown call, start.sh after it, and the child's
// exit ends the drain: the status is start.sh's own 0, never a SIGTERM.
func TestDrainActuatorSeedHook(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d/actuator", port)
	steps := fmt.Sprintf("http %s/deregister; sleep 1s; http POST %s/shutdown; sleep 10s", base, base)
	app := startJavaApp(t, port, "DRAINIT_PRESTOP="+steps, "DRAINIT_GRACE_PERIOD=20s", "DRAINIT_STOP_TIMEOUT=5s")
	app.signal(unix.SIGTERM)
	app.expectExit(0, limit)
	deregistered := app.event(t, "deregister")
	shutdown := app.event(t, "shutdown-request")
	hook := app.event(t, "hook-start")
	app.event(t, "hook-done")
	if shutdown.Sub(deregistered) < time.Second-2*time.Millisecond || hook.Before(shutdown) {
		t.Errorf("order: deregister %v, shutdown %v, hook %v", deregistered, shutdown, hook)
	}
	if strings.Contains(app.stderr.String(), logging.StopForwarded) {
		t.Errorf("the drain forwarded SIGTERM although the app had exited:\n%s", app.stderr.String())
	}
}

// slowApp runs testprog slowterm under drainit with env; it records the time
// it got SIGTERM.
func startSlowApp(t *testing.T, env ...string) (*run, string) {
	t.Helper()
	dir := t.TempDir()
	r := start(t, opts{env: env}, testprog, "slowterm", dir, "100ms")
	waitFor(t, limit, "the app to start", func() bool { return exists(dir + "/ready") })
	return r, dir
}

// happenedBefore compares at the millisecond precision the app records its
// SIGTERM with: an event in the same millisecond counts as before.
func happenedBefore(event, term time.Time) bool {
	return !event.Truncate(time.Millisecond).After(term)
}

func termTime(t *testing.T, dir string) time.Time {
	t.Helper()
	ms, err := strconv.ParseInt(readFile(t, dir+"/term"), 10, 64)
	if err != nil {
		t.Fatalf("the app never got SIGTERM")
	}
	return time.UnixMilli(ms)
}

// Nacos 3 answers 410 to the v1 update: drainit uses the v3 partial update,
// logs in first, and leaves the weight it did not mean to change alone.
func TestDrainNacos3WithLogin(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	nacos := fakeregistry.NewNacos()
	nacos.V3, nacos.Username, nacos.Password = true, "drainit", "s3cret"
	addr := serve(t, nacos)
	form := instanceForm(8080)
	register(t, addr, form)
	form.Set("accessToken", nacosLogin(t, addr, "drainit", "s3cret"))
	form.Set("weight", "3") // an operator's choice that a full (PUT) update would reset to 1
	resp, err := http.DefaultClient.Do(mustRequest(t, http.MethodPut, addr+"/nacos/v3/admin/ns/instance/partial?"+form.Encode()))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("setting the weight: %v %v", err, resp)
	}
	resp.Body.Close()
	passwordFile := filepath.Join(t.TempDir(), "password")
	os.WriteFile(passwordFile, []byte("s3cret\n"), 0o600)
	r, dir := startSlowApp(t, append(nacosEnv(addr, 8080, "nacos"), "DRAINIT_NACOS_USERNAME=drainit", "DRAINIT_NACOS_PASSWORD_FILE="+passwordFile)...)
	r.signal(unix.SIGTERM)
	r.expectExit(0, limit)
	disabled := registryEvent(t, nacos.Events(), `^nacos v3-partial enabled=false weight=3 `)
	if !happenedBefore(disabled, termTime(t, dir)) {
		t.Error("the app got SIGTERM before the instance was disabled")
	}
	if inst, _ := nacos.Lookup("demo", "10.1.2.3", 8080); inst.Enabled || inst.Weight != 3 {
		t.Errorf("instance after the drain: %+v", inst)
	}
	// The test's own login, then drainit's one: its token served every call.
	if n := nacos.Count("nacos login /nacos/v3/auth/user/login"); n != 2 {
		t.Errorf("%d logins, want the test's and drainit's one; registry: %v\ndrainit:\n%s", n, nacos.Events(), r.stderr.String())
	}
}

// Nacos 3 without credentials: the admin API refuses for want of a token,
// and drainit says in one line what to set; the app still gets its signal.
func TestDrainNacos3WithoutCredentialsSaysWhatToSet(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	nacos := fakeregistry.NewNacos()
	nacos.V3 = true
	addr := serve(t, nacos)
	register(t, addr, instanceForm(8080))
	r, dir := startSlowApp(t, nacosEnv(addr, 8080, "nacos")...)
	r.signal(unix.SIGTERM)
	r.expectExit(0, limit)
	termTime(t, dir)
	want := "set DRAINIT_NACOS_USERNAME and DRAINIT_NACOS_PASSWORD for a user with WRITE on the service"
	if n := strings.Count(r.stderr.String(), want); n != 1 {
		t.Errorf("%d lines say what to set, want 1:\n%s", n, r.stderr.String())
	}
}

func nacosLogin(t *testing.T, addr, user, password string) string {
	t.Helper()
	resp, err := http.PostForm(addr+"/nacos/v3/auth/user/login", url.Values{"username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reply struct{ AccessToken string }
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil || reply.AccessToken == "" {
		t.Fatalf("login: %v %+v", err, reply)
	}
	return reply.AccessToken
}

// A hanging endpoint is cut at the step timeout; the app still gets its
// signal, after the step and never before.
func TestDrainHangingEndpointIsCutAtItsTimeout(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	hang := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	r, dir := startSlowApp(t, "DRAINIT_PRESTOP=http POST "+hang+"/deregister", "DRAINIT_STEP_TIMEOUT=1s")
	sent := time.Now()
	r.signal(unix.SIGTERM)
	r.expectExit(0, limit)
	if got := termTime(t, dir).Sub(sent); got < time.Second-10*time.Millisecond {
		t.Errorf("the app got SIGTERM %v after the drain signal, before the 1s step timeout", got)
	}
	if !strings.Contains(r.stderr.String(), logging.StepFailed) || !strings.Contains(r.stderr.String(), "deadline exceeded") {
		t.Errorf("no failure logged:\n%s", r.stderr.String())
	}
}

// Registry down, endpoint answering 500, command failing: each is logged,
// the drain goes on, the app gets its signal.
func TestDrainFailuresAreLoggedAndTheStopCompletes(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	broken := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }))
	steps := "nacos; http " + broken + "/x; exec sh -c 'exit 3'; exec sleep 60"
	env := append(nacosEnv("127.0.0.1:1", 8080, steps), "DRAINIT_STEP_TIMEOUT=1s")
	r, dir := startSlowApp(t, env...)
	r.signal(unix.SIGTERM)
	r.expectExit(0, limit)
	termTime(t, dir)
	for _, want := range []string{"connection refused", "HTTP 500: boom", "exited with status 3", "killed: context deadline exceeded"} {
		if !strings.Contains(r.stderr.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, r.stderr.String())
		}
	}
}

// With two Nacos addresses, a dead first one is skipped.
func TestDrainNacosFailsOverToTheNextServer(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	nacos := fakeregistry.NewNacos()
	addr := serve(t, nacos)
	register(t, addr, instanceForm(8080))
	r, _ := startSlowApp(t, nacosEnv("127.0.0.1:1,"+addr, 8080, "nacos")...)
	r.signal(unix.SIGTERM)
	r.expectExit(0, limit)
	registryEvent(t, nacos.Events(), `^nacos patch enabled=false`)
}

func TestDrainEurekaAndConsul(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	eureka, consul := &fakeregistry.Eureka{User: "eu", Password: "eu-pass"}, &fakeregistry.Consul{Token: "tok"}
	eureka.Register("demo", "pod-1:demo:8080")
	consul.Register("demo-1", "demo")
	eurekaURL, consulURL := serve(t, eureka), serve(t, consul)
	r, dir := startSlowApp(t, "DRAINIT_PRESTOP=eureka; consul",
		"DRAINIT_EUREKA_URL=http://eu:eu-pass@"+strings.TrimPrefix(eurekaURL, "http://")+"/eureka", "DRAINIT_EUREKA_APP=DEMO",
		"DRAINIT_EUREKA_INSTANCE_ID=pod-1:demo:8080", "CONSUL_HTTP_ADDR="+consulURL, "CONSUL_HTTP_TOKEN=tok", "DRAINIT_CONSUL_SERVICE_ID=demo-1")
	r.signal(unix.SIGTERM)
	r.expectExit(0, limit)
	term := termTime(t, dir)
	out := registryEvent(t, eureka.Events(), `^eureka status DEMO/pod-1:demo:8080 OUT_OF_SERVICE$`)
	maint := registryEvent(t, consul.Events(), `^consul maintenance demo-1 enable=true$`)
	if !happenedBefore(out, term) || !happenedBefore(maint, term) {
		t.Error("the app got SIGTERM before the registries were told")
	}
	if strings.Contains(r.stderr.String(), logging.StepFailed) || strings.Contains(r.stderr.String(), "does not show it yet") {
		t.Errorf("a step failed or was not confirmed:\n%s", r.stderr.String())
	}
}

// Consul's maintenance is agent-local: an agent that does not hold the
// service answers 404, and drainit says where to point instead.
func TestDrainConsulAtAnotherAgentSaysSo(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	consul := &fakeregistry.Consul{}
	consulURL := serve(t, consul)
	r, dir := startSlowApp(t, "DRAINIT_PRESTOP=consul", "DRAINIT_CONSUL_ADDR="+consulURL, "DRAINIT_CONSUL_SERVICE_ID=demo-1")
	r.signal(unix.SIGTERM)
	r.expectExit(0, limit)
	termTime(t, dir)
	if !strings.Contains(r.stderr.String(), "maintenance is agent-local") {
		t.Errorf("the failure does not say why:\n%s", r.stderr.String())
	}
}

// An OUT_OF_SERVICE override outlives an app that never deregistered (it
// was killed); a new container with the same instance id (Spring Cloud's
// default holds the hostname) registers into it. drainit clears it once the
// app has registered.
func TestEurekaOverrideFromAKilledPredecessorIsCleared(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	eureka := &fakeregistry.Eureka{}
	eureka.Register("demo", "pod-1:demo:8080")
	eurekaURL := serve(t, eureka)
	env := []string{"DRAINIT_PRESTOP=eureka", "DRAINIT_EUREKA_URL=" + eurekaURL + "/eureka", "DRAINIT_EUREKA_APP=demo",
		"DRAINIT_EUREKA_INSTANCE_ID=pod-1:demo:8080"}
	old, _ := startSlowApp(t, env...)
	old.signal(unix.SIGTERM)
	old.expectExit(0, limit)
	if got := eureka.Status("demo", "pod-1:demo:8080"); got != "OUT_OF_SERVICE" {
		t.Fatalf("after the drain: %q", got)
	}
	eureka.Register("demo", "pod-1:demo:8080") // the new app's client, no cancel before it
	if got := eureka.Status("demo", "pod-1:demo:8080"); got != "OUT_OF_SERVICE" {
		t.Fatalf("the fake did not keep the override: %q", got)
	}
	fresh, _ := startSlowApp(t, env...)
	waitFor(t, limit, "the override to be cleared", func() bool { return eureka.Status("demo", "pod-1:demo:8080") == "UP" })
	waitForLog(t, fresh, "cleared the OUT_OF_SERVICE")
}

// The SIGKILL lands before the grace period ends, even when the steps ask
// for more time than there is and the app ignores SIGTERM.
func TestDrainBudgetKillsBeforeTheGracePeriod(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	dir := t.TempDir()
	r := start(t, opts{env: []string{"DRAINIT_PRESTOP=sleep 30s", "DRAINIT_GRACE_PERIOD=4s", "DRAINIT_STOP_TIMEOUT=1s"}}, testprog, "ignoreterm", dir)
	waitFor(t, limit, "the app to start", func() bool { return exists(dir + "/ready") })
	sent := time.Now()
	r.signal(unix.SIGTERM)
	r.expectExit(137, limit)
	t.Logf("exited %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
	stderr := r.stderr.String()
	if !strings.Contains(stderr, logging.StepCutShort) {
		t.Errorf("the sleep was not cut short:\n%s", stderr)
	}
	m := regexp.MustCompile(`killed the process tree.* at=([0-9.]+m?s)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no kill logged:\n%s", stderr)
	}
	if at, _ := time.ParseDuration(m[1]); at >= 4*time.Second || at < 3*time.Second {
		t.Errorf("SIGKILL at +%v, want shortly before the 4s grace period", at)
	}
}

func waitForLog(t *testing.T, r *run, text string) {
	t.Helper()
	waitFor(t, limit, "log line "+text, func() bool { return strings.Contains(r.stderr.String(), text) })
}

// A second drain signal skips the rest of the drain and forwards at once.
func TestDrainSecondSignalForwardsAtOnce(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	log := newSigLog(t)
	r := start(t, opts{env: []string{"DRAINIT_PRESTOP=sleep 60s", "DRAINIT_GRACE_PERIOD=120s"}}, testprog, "sigecho", log.path)
	log.waitReady()
	r.signal(unix.SIGTERM)
	waitForLog(t, r, logging.DrainStarted)
	// drainit forwards in the order it receives: had the first SIGTERM been
	// forwarded, the app would have exited on it before logging USR1.
	r.signal(unix.SIGUSR1)
	log.waitFor(unix.SIGUSR1)
	r.signal(unix.SIGTERM)
	r.expectExit(0, limit)
	if got := log.lines()[1:]; len(got) != 2 || got[1] != strconv.Itoa(int(unix.SIGTERM)) {
		t.Errorf("the app saw %q, want USR1 then one TERM", got)
	}
	waitForLog(t, r, "second stop signal")
}

// The child exiting mid-drain ends the drain; drainit exits with its status.
func TestDrainChildExitsMidDrain(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	dir := t.TempDir()
	sh := script(t, "touch "+dir+"/ready\nuntil [ -e "+dir+"/go ]; do sleep 0.05; done\nexit 5")
	r := start(t, opts{env: []string{"DRAINIT_PRESTOP=sleep 60s", "DRAINIT_GRACE_PERIOD=120s"}}, sh)
	waitFor(t, limit, "the child to start", func() bool { return exists(dir + "/ready") })
	r.signal(unix.SIGTERM)
	waitForLog(t, r, logging.DrainStarted)
	os.WriteFile(dir+"/go", nil, 0o644)
	r.expectExit(5, limit)
	waitForLog(t, r, logging.ChildExited)
}

// DRAINIT_DRAIN_SIGNALS picks the trigger; other signals are forwarded
// during the drain.
func TestDrainOtherTriggerSignal(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	log := newSigLog(t)
	r := start(t, opts{env: []string{"DRAINIT_PRESTOP=sleep 60s", "DRAINIT_GRACE_PERIOD=120s", "DRAINIT_DRAIN_SIGNALS=QUIT"}},
		testprog, "sigecho", log.path, strconv.Itoa(int(unix.SIGQUIT)))
	log.waitReady()
	r.signal(unix.SIGQUIT)
	waitForLog(t, r, logging.DrainStarted)
	r.signal(unix.SIGUSR1)
	log.waitFor(unix.SIGUSR1)
	if log.has(unix.SIGQUIT) {
		t.Fatal("QUIT reached the app before the drain ended")
	}
	r.signal(unix.SIGQUIT)
	r.expectExit(0, limit)
}

// A container restarted on the same ip:port registers disabled (Nacos
// remembers the last container's enabled=false for 60 s); drainit turns it
// back on once the app has registered, without delaying the app's start.
func TestNacosReenablesAtStart(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	nacos := fakeregistry.NewNacos()
	addr := serve(t, nacos)
	form := instanceForm(8080)
	register(t, addr, form)
	// The previous container: disabled by its drain, then gone.
	for _, req := range []string{http.MethodPatch + " enabled=false", http.MethodDelete + " "} {
		method, extra, _ := strings.Cut(req, " ")
		resp, err := http.DefaultClient.Do(mustRequest(t, method, addr+"/nacos/v1/ns/instance?"+form.Encode()+"&"+extra))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	log := newSigLog(t)
	r := start(t, opts{env: nacosEnv(addr, 8080, "nacos")}, testprog, "sigecho", log.path)
	log.waitReady() // the child started before any registration
	register(t, addr, form)
	if inst, _ := nacos.Lookup("demo", "10.1.2.3", 8080); inst.Enabled {
		t.Fatal("the fake did not remember enabled=false")
	}
	waitFor(t, limit, "drainit to re-enable the instance", func() bool {
		inst, _ := nacos.Lookup("demo", "10.1.2.3", 8080)
		return inst.Enabled
	})
	r.signal(unix.SIGTERM)
	r.expectExit(0, limit)
	waitForLog(t, r, "re-enabled the instance")
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
