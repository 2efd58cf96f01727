package fakeregistry

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func do(t *testing.T, base, method, path string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, base+path+"?"+form.Encode(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func with(form url.Values, kv ...string) url.Values {
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// The fake keeps the Nacos 2.x behaviours drainit is built around.
func TestNacosBehaviours(t *testing.T) {
	n := NewNacos()
	srv := httptest.NewServer(n)
	defer srv.Close()
	inst := url.Values{"serviceName": {"s"}, "ip": {"10.0.0.1"}, "port": {"80"}}
	if code, body := do(t, srv.URL, "PATCH", "/nacos/v1/ns/instance", with(inst, "enabled", "false")); code != 404 || !strings.Contains(body, "no matched ip found") {
		t.Errorf("PATCH of an unknown instance: %d %q, want 404 no matched ip found!", code, body)
	}
	do(t, srv.URL, "POST", "/nacos/v1/ns/instance", with(inst, "weight", "5"))
	do(t, srv.URL, "PATCH", "/nacos/v1/ns/instance", with(inst, "enabled", "false"))
	if got, _ := n.Lookup("s", "10.0.0.1", 80); got.Enabled || got.Weight != 1 {
		t.Errorf("the first PATCH did not pin weight 1: %+v", got)
	}
	do(t, srv.URL, "PATCH", "/nacos/v1/ns/instance", with(inst, "weight", "3"))
	do(t, srv.URL, "PATCH", "/nacos/v1/ns/instance", with(inst, "enabled", "false"))
	if got, _ := n.Lookup("s", "10.0.0.1", 80); got.Enabled || got.Weight != 3 {
		t.Errorf("a later PATCH changed more than it sent: %+v", got)
	}
	if _, body := do(t, srv.URL, "GET", "/nacos/v1/ns/instance/list", inst); strings.Contains(body, "10.0.0.1") {
		t.Errorf("the list shows a disabled instance: %s", body)
	}
	if code, body := do(t, srv.URL, "GET", "/nacos/v1/ns/instance", inst); code != 200 || !strings.Contains(body, `"enabled":false`) {
		t.Errorf("the detail call: %d %s", code, body)
	}
	do(t, srv.URL, "PUT", "/nacos/v1/ns/instance", with(inst, "enabled", "false"))
	if got, _ := n.Lookup("s", "10.0.0.1", 80); got.Weight != 1 {
		t.Errorf("PUT did not reset the omitted weight: %+v", got)
	}
	do(t, srv.URL, "DELETE", "/nacos/v1/ns/instance", inst)
	do(t, srv.URL, "POST", "/nacos/v1/ns/instance", inst)
	if got, _ := n.Lookup("s", "10.0.0.1", 80); got.Enabled {
		t.Errorf("a new registration within 60 s forgot enabled=false: %+v", got)
	}
	n.ClientAuth, n.Username = true, "u"
	if code, _ := do(t, srv.URL, "GET", "/nacos/v1/ns/instance/list", inst); code != http.StatusForbidden {
		t.Errorf("with client auth on, a call without a token: %d, want 403", code)
	}
	n.ClientAuth = false
	n.BeatExpiry = time.Nanosecond
	do(t, srv.URL, "GET", "/nacos/v1/ns/instance/list", url.Values{"serviceName": {"s"}})
	if _, ok := n.Lookup("s", "10.0.0.1", 80); ok {
		t.Error("an instance without heartbeats did not expire")
	}
}

// Nacos 3: v1 updates and detail answer 410, admin calls need a token even
// with client auth off, and login is at /nacos/v3/auth/user/login.
func TestNacos3Behaviours(t *testing.T) {
	n := NewNacos()
	n.V3, n.Username, n.Password = true, "drainit", "pw"
	srv := httptest.NewServer(n)
	defer srv.Close()
	inst := url.Values{"serviceName": {"s"}, "ip": {"10.0.0.1"}, "port": {"80"}}
	do(t, srv.URL, "POST", "/nacos/v1/ns/instance", inst)
	for _, m := range []string{"PATCH", "PUT", "GET"} {
		if code, _ := do(t, srv.URL, m, "/nacos/v1/ns/instance", with(inst, "enabled", "false")); code != http.StatusGone {
			t.Errorf("%s v1 instance: %d, want 410", m, code)
		}
	}
	if code, _ := do(t, srv.URL, "PUT", "/nacos/v3/admin/ns/instance/partial", with(inst, "enabled", "false")); code != http.StatusForbidden {
		t.Errorf("v3 partial update without a token: %d, want 403", code)
	}
	code, body := do(t, srv.URL, "POST", "/nacos/v3/auth/user/login", url.Values{"username": {"drainit"}, "password": {"pw"}})
	var login struct{ AccessToken string }
	if json.Unmarshal([]byte(body), &login); code != 200 || login.AccessToken == "" {
		t.Fatalf("v3 login: %d %s", code, body)
	}
	if code, _ := do(t, srv.URL, "PUT", "/nacos/v3/admin/ns/instance/partial", with(inst, "enabled", "false", "accessToken", login.AccessToken)); code != 200 {
		t.Errorf("v3 partial update with a token: %d", code)
	}
	if code, body := do(t, srv.URL, "GET", "/nacos/v3/admin/ns/instance", with(inst, "accessToken", login.AccessToken)); code != 200 || !strings.Contains(body, `"enabled":false`) {
		t.Errorf("v3 detail: %d %s", code, body)
	}
	if got, _ := n.Lookup("s", "10.0.0.1", 80); got.Weight != 1 {
		t.Errorf("the v3 partial update did not fill the omitted weight with its default: %+v", got)
	}
}
