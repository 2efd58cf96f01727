package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// No secret drainit was given, or a server sent back, reaches any output:
// not the timeline at -vvv, not the step failures (the server refuses and
// echoes what it got), not drainit check, not a usage error.
func TestNoSecretInAnyOutput(t *testing.T) {
	secrets := []string{"pw-in-url-1", "token-in-query-2", "bearer-3", "nacos-pass-4", "consul-token-5", "server-token-6"}
	echo := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"accessToken":"server-token-6","query":%q,"auth":%q,"body":%q}`, r.URL.RawQuery, r.Header.Get("Authorization"), body)
	}))
	host := strings.TrimPrefix(echo, "http://")
	env := []string{
		"DRAINIT_PRESTOP=http POST http://admin:pw-in-url-1@" + host + "/x?accessToken=token-in-query-2 -H 'Authorization: Bearer bearer-3'; nacos; consul",
		"DRAINIT_NACOS_ADDR=" + echo, "DRAINIT_NACOS_SERVICE=demo", "DRAINIT_NACOS_IP=10.1.2.3", "DRAINIT_NACOS_PORT=8080",
		"DRAINIT_NACOS_USERNAME=nacos", "DRAINIT_NACOS_PASSWORD=nacos-pass-4",
		"DRAINIT_CONSUL_ADDR=" + echo, "DRAINIT_CONSUL_SERVICE_ID=demo-1", "DRAINIT_CONSUL_TOKEN=consul-token-5",
		"DRAINIT_GRACE_PERIOD=20s", "DRAINIT_STOP_TIMEOUT=2s",
	}
	outputs := map[string]string{}
	for _, format := range []string{"text", "json"} {
		r := start(t, opts{env: append(env, "DRAINIT_LOG_FORMAT="+format)}, "-vvv", "--", "sleep", "30")
		waitFor(t, limit, "the child to start", func() bool { return strings.Contains(r.stderr.String(), "child started") })
		r.signal(unix.SIGTERM)
		r.exitCode(limit)
		outputs["run, "+format] = r.stdout.String() + r.stderr.String()
		if !strings.Contains(r.stderr.String(), "drain step failed") {
			t.Errorf("%s: the steps did not fail as planned:\n%s", format, r.stderr.String())
		}
	}
	check := exec.Command(drainit, "check")
	check.Env = env
	out, _ := check.CombinedOutput()
	outputs["check"] = string(out)
	usage := exec.Command(drainit, "--", "true")
	usage.Env = []string{"DRAINIT_PRESTOP=http GET http://u:pw-in-url-1@h/x?token=token-in-query-2 extra words"}
	out, _ = usage.CombinedOutput()
	outputs["usage error"] = string(out)
	for where, text := range outputs {
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows %q:\n%s", where, secret, text)
			}
		}
	}
}
