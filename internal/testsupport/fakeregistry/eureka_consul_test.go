package fakeregistry

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// The fake keeps the Eureka behaviours drainit is built around.
func TestEurekaBehaviours(t *testing.T) {
	e := &Eureka{User: "u", Password: "p"}
	srv := httptest.NewServer(e)
	defer srv.Close()
	authed := "http://u:p@" + strings.TrimPrefix(srv.URL, "http://")
	if code, _ := do(t, srv.URL, "PUT", "/eureka/apps/DEMO/i-1/status", url.Values{"value": {"OUT_OF_SERVICE"}}); code != 401 {
		t.Errorf("without Basic auth: %d, want 401", code)
	}
	if code, _ := do(t, authed, "PUT", "/eureka/apps/DEMO/i-1/status", url.Values{"value": {"OUT_OF_SERVICE"}}); code != 404 {
		t.Errorf("an instance the server does not hold: %d, want 404", code)
	}
	e.Register("demo", "i-1")
	if code, _ := do(t, authed, "PUT", "/eureka/apps/DEMO/i-1/status", url.Values{"value": {"BOGUS"}}); code != 500 {
		t.Errorf("a bad value: %d, want 500", code)
	}
	do(t, authed, "PUT", "/eureka/apps/demo/i-1/status", url.Values{"value": {"OUT_OF_SERVICE"}})
	if code, body := do(t, authed, "GET", "/eureka/apps/DEMO", nil); code != 200 || !strings.Contains(body, `"status":"OUT_OF_SERVICE"`) {
		t.Errorf("GET the app: %d %s", code, body)
	}
	e.Register("demo", "i-1") // a new container with the same id, no cancel before it
	if got := e.Status("demo", "i-1"); got != "OUT_OF_SERVICE" {
		t.Errorf("the override did not outlive the instance: %q", got)
	}
	do(t, authed, "DELETE", "/eureka/apps/DEMO/i-1/status", url.Values{"value": {"UP"}})
	if got := e.Status("demo", "i-1"); got != "UP" {
		t.Errorf("after clearing the override: %q", got)
	}
	do(t, authed, "PUT", "/eureka/apps/DEMO/i-1/status", url.Values{"value": {"OUT_OF_SERVICE"}})
	do(t, authed, "DELETE", "/eureka/apps/DEMO/i-1", nil)
	e.Register("demo", "i-1")
	if got := e.Status("demo", "i-1"); got != "UP" {
		t.Errorf("a cancel did not remove the override: %q", got)
	}
}

// The fake keeps the Consul agent behaviours drainit is built around.
func TestConsulBehaviours(t *testing.T) {
	c := &Consul{Token: "tok"}
	srv := httptest.NewServer(c)
	defer srv.Close()
	call := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("X-Consul-Token", "tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		return resp.StatusCode, b.String()
	}
	if code, body := call("PUT", "/v1/agent/service/maintenance/web-1?enable=true"); code != 404 || !strings.Contains(body, "No service registered with ID") {
		t.Errorf("a service this agent does not hold: %d %q", code, body)
	}
	c.Register("web-1", "web")
	if code, _ := call("PUT", "/v1/agent/service/maintenance/web-1"); code != 400 {
		t.Errorf("without enable: %d, want 400", code)
	}
	call("PUT", "/v1/agent/service/maintenance/web-1?enable=true")
	if _, body := call("GET", "/v1/health/service/web?passing"); strings.Contains(body, "web-1") {
		t.Errorf("?passing lists an instance in maintenance: %s", body)
	}
	if _, body := call("GET", "/v1/health/service/web"); !strings.Contains(body, "web-1") {
		t.Errorf("without ?passing the instance is gone: %s", body)
	}
	if code, _ := do(t, srv.URL, "GET", "/v1/agent/service/web-1", nil); code != 403 {
		t.Errorf("without the token: %d, want 403", code)
	}
}
