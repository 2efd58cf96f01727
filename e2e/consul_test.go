package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// consulAgent is a real Consul agent (scripts/consul-build.sh: v1.16.3,
// the last under the MPL-2.0) in -dev mode on loopback, on ports of its own.
type consulAgent struct {
	t    *testing.T
	addr string
}

func startConsul(t *testing.T) *consulAgent {
	t.Helper()
	out, _ := exec.Command("bash", "-c", `echo "${DRAINIT_CACHE:-/var/cache/drainit}/consul/${CONSUL_VERSION:-v1.16.3}/consul"`).Output()
	bin := strings.TrimSpace(string(out))
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Consul agent at %s: .ci/run builds one with scripts/consul-build.sh", bin)
		}
		t.Skipf("no Consul agent at %s: scripts/consul-build.sh builds one (about 5 minutes)", bin)
	}
	ports := make([]int, 6)
	for i := range ports {
		ports[i] = freePort(t)
	}
	a := &consulAgent{t: t, addr: fmt.Sprintf("127.0.0.1:%d", ports[0])}
	cmd := exec.Command(bin, "agent", "-dev", "-client", "127.0.0.1", "-bind", "127.0.0.1", "-data-dir", t.TempDir(),
		fmt.Sprintf("-http-port=%d", ports[0]), fmt.Sprintf("-dns-port=%d", ports[1]), fmt.Sprintf("-grpc-port=%d", ports[2]),
		fmt.Sprintf("-serf-lan-port=%d", ports[3]), fmt.Sprintf("-serf-wan-port=%d", ports[4]), fmt.Sprintf("-server-port=%d", ports[5]),
		"-hcl", "ports { grpc_tls = -1 }")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, limit, "the Consul agent's leader", func() bool {
		resp, err := http.Get("http://" + a.addr + "/v1/status/leader")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var leader string
		return json.NewDecoder(resp.Body).Decode(&leader) == nil && leader != ""
	})
	return a
}

func (a *consulAgent) call(method, path, body string) []byte {
	a.t.Helper()
	req, _ := http.NewRequest(method, "http://"+a.addr+path, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			break
		}
	}
	if resp.StatusCode/100 != 2 {
		a.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
	}
	return out
}

// passing is how many instances of the service callers would get.
func (a *consulAgent) passing(service string) int {
	var entries []any
	json.Unmarshal(a.call("GET", "/v1/health/service/"+service+"?passing", ""), &entries)
	return len(entries)
}

// The consul step against a real agent: the service goes into maintenance
// before the app gets SIGTERM, the health answer callers read leaves it out
// while the catalog still lists it, as Consul's own sources say.
func TestConsulStepAgainstARealAgent(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	a := startConsul(t)
	a.call("PUT", "/v1/agent/service/register", `{"ID": "demo-1", "Name": "demo", "Port": 8080,
		"Check": {"TTL": "60s", "Status": "passing"}}`)
	if n := a.passing("demo"); n != 1 {
		t.Fatalf("%d passing instances before the drain, want 1", n)
	}
	r, dir := startSlowApp(t, "DRAINIT_PRESTOP=consul", "CONSUL_HTTP_ADDR="+a.addr, "DRAINIT_CONSUL_SERVICE_ID=demo-1")
	sent := time.Now()
	r.signal(unix.SIGTERM)
	r.expectExit(0, limit)
	if n := a.passing("demo"); n != 0 {
		t.Errorf("%d passing instances after the drain, want 0", n)
	}
	var catalog []struct{ ServiceID string }
	json.Unmarshal(a.call("GET", "/v1/catalog/service/demo", ""), &catalog)
	if len(catalog) != 1 || catalog[0].ServiceID != "demo-1" {
		t.Errorf("the catalog no longer lists the instance: %+v", catalog)
	}
	var checks []struct{ CheckID, Status string }
	json.Unmarshal(a.call("GET", "/v1/health/checks/demo", ""), &checks)
	maintenance := false
	for _, c := range checks {
		maintenance = maintenance || (c.CheckID == "_service_maintenance:demo-1" && c.Status == "critical")
	}
	if !maintenance {
		t.Errorf("no critical maintenance check: %+v", checks)
	}
	if !happenedBefore(sent, termTime(t, dir)) || !strings.Contains(r.stderr.String(), `msg="drain step done" step="consul maintenance demo-1"`) {
		t.Errorf("the step did not complete before the app's SIGTERM:\n%s", r.stderr.String())
	}
}
