package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/drainit/drainit/internal/testsupport/loopback"
)

// consulAgent is a real Consul agent (scripts/consul-build.sh: v1.16.3, the
// last under the MPL-2.0) in -dev mode on loopback, for the consul rows.
// Each instance is registered with it as a service definition with an HTTP
// check every second, the way an agent on the node holds a pod's service;
// callers read /v1/health/service/demo?passing, as Consul's clients do.
type consulAgent struct {
	addr string
	cmd  *exec.Cmd
	dir  string
}

func consulBinary() string {
	cache := os.Getenv("DRAINIT_CACHE")
	if cache == "" {
		cache = "/var/cache/drainit"
	}
	version := os.Getenv("CONSUL_VERSION")
	if version == "" {
		version = "v1.16.3"
	}
	return cache + "/consul/" + version + "/consul"
}

func startConsul() (*consulAgent, error) {
	bin := consulBinary()
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("no Consul agent at %s: scripts/consul-build.sh builds one (about 5 minutes)", bin)
	}
	ports := make([]int, 6)
	for i := range ports {
		var err error
		if ports[i], err = loopback.FreePort(); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "rollout-consul-")
	if err != nil {
		return nil, err
	}
	a := &consulAgent{addr: "127.0.0.1:" + strconv.Itoa(ports[0]), dir: dir}
	a.cmd = exec.Command(bin, "agent", "-dev", "-client", "127.0.0.1", "-bind", "127.0.0.1", "-data-dir", dir,
		fmt.Sprintf("-http-port=%d", ports[0]), fmt.Sprintf("-dns-port=%d", ports[1]), fmt.Sprintf("-grpc-port=%d", ports[2]),
		fmt.Sprintf("-serf-lan-port=%d", ports[3]), fmt.Sprintf("-serf-wan-port=%d", ports[4]), fmt.Sprintf("-server-port=%d", ports[5]),
		"-hcl", "ports { grpc_tls = -1 }")
	if err := a.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := a.waitLeader(); err != nil {
		a.stop()
		return nil, err
	}
	return a, nil
}

func (a *consulAgent) waitLeader() error {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var leader string
		if a.get("/v1/status/leader", &leader) == nil && leader != "" {
			return nil
		}
	}
	return fmt.Errorf("the Consul agent at %s elected no leader within 60 s", a.addr)
}

func (a *consulAgent) stop() {
	a.cmd.Process.Kill()
	a.cmd.Wait()
	os.RemoveAll(a.dir)
}

func serviceID(port int) string { return "demo-" + strconv.Itoa(port) }

// register holds the instance on port as the agent would from a service
// definition, and waits until its check passes.
func (a *consulAgent) register(port int) error {
	def, _ := json.Marshal(map[string]any{"ID": serviceID(port), "Name": "demo", "Address": "127.0.0.1", "Port": port,
		"Check": map[string]string{"HTTP": instanceURL("127.0.0.1", port), "Interval": "1s", "Timeout": "1s"}})
	if err := a.put("/v1/agent/service/register", def); err != nil {
		return err
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		urls, _ := consulList(a.addr)()
		for _, u := range urls {
			if u == instanceURL("127.0.0.1", port) {
				return nil
			}
		}
	}
	return fmt.Errorf("the instance on port %d never passed its Consul check", port)
}

func (a *consulAgent) deregister(port int) {
	a.put("/v1/agent/service/deregister/"+serviceID(port), nil)
}

func (a *consulAgent) put(path string, body []byte) error {
	req, _ := http.NewRequest("PUT", "http://"+a.addr+path, bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("consul PUT %s: %s", path, resp.Status)
	}
	return nil
}

func (a *consulAgent) get(path string, v any) error {
	resp, err := http.Get("http://" + a.addr + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// consulList is the instances whose checks pass (maintenance mode makes one
// critical), as Consul's clients and its DNS interface hand them out.
func consulList(addr string) lister {
	a := &consulAgent{addr: addr}
	return func() ([]string, error) {
		var entries []struct {
			Service struct {
				Address string
				Port    int
			}
		}
		if err := a.get("/v1/health/service/demo?passing", &entries); err != nil {
			return nil, err
		}
		var urls []string
		for _, e := range entries {
			urls = append(urls, instanceURL(e.Service.Address, e.Service.Port))
		}
		return urls, nil
	}
}
