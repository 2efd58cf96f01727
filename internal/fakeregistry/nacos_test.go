package fakeregistry

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

func do(t *testing.T, base, method, path string, form url.Values) int {
	t.Helper()
	req, _ := http.NewRequest(method, base+path+"?"+form.Encode(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The fake keeps the Nacos behaviours drainit is built around.
func TestNacosBehaviours(t *testing.T) {
	n := NewNacos()
	srv := httptest.NewServer(n)
	defer srv.Close()
	inst := url.Values{"serviceName": {"s"}, "ip": {"10.0.0.1"}, "port": {"80"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vals := range inst {
			f[key] = vals
		}
		f.Set(k, v)
		return f
	}
	do(t, srv.URL, "POST", "/nacos/v1/ns/instance", inst)
	do(t, srv.URL, "PATCH", "/nacos/v1/ns/instance", with("weight", "3"))
	do(t, srv.URL, "PATCH", "/nacos/v1/ns/instance", with("enabled", "false"))
	if got, _ := n.Lookup("s", "10.0.0.1", 80); got.Enabled || got.Weight != 3 {
		t.Errorf("PATCH changed more than it sent: %+v", got)
	}
	do(t, srv.URL, "PUT", "/nacos/v1/ns/instance", with("enabled", "false"))
	if got, _ := n.Lookup("s", "10.0.0.1", 80); got.Weight != 1 {
		t.Errorf("PUT did not reset the omitted weight: %+v", got)
	}
	do(t, srv.URL, "DELETE", "/nacos/v1/ns/instance", inst)
	do(t, srv.URL, "POST", "/nacos/v1/ns/instance", inst)
	if got, _ := n.Lookup("s", "10.0.0.1", 80); got.Enabled {
		t.Errorf("a new registration within 60 s forgot enabled=false: %+v", got)
	}
	n.V3 = true
	if code := do(t, srv.URL, "PATCH", "/nacos/v1/ns/instance", with("enabled", "true")); code != http.StatusGone {
		t.Errorf("Nacos 3 answered %d to a v1 update, want 410", code)
	}
	if code := do(t, srv.URL, "PUT", "/nacos/v3/admin/ns/instance/partial", with("enabled", "true")); code != 200 {
		t.Errorf("v3 partial update: %d", code)
	}
	n.BeatExpiry = time.Nanosecond
	do(t, srv.URL, "GET", "/nacos/v1/ns/instance/list", url.Values{"serviceName": {"s"}})
	if _, ok := n.Lookup("s", "10.0.0.1", 80); ok {
		t.Error("an instance without heartbeats did not expire")
	}
}
