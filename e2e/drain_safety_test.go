package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/internal/testsupport/loopback"
	"golang.org/x/sys/unix"
)

// No secret drainit was given, or a server sent back, reaches any output:
// not the timeline at -vvv, not the step failures (the server refuses and
// echoes what it got), not drainit check, not a usage error.
func TestNoSecretInAnyOutput(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
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
		waitFor(t, limit, "the child to start", func() bool { return strings.Contains(r.stderr.String(), logging.ChildStarted) })
		r.signal(unix.SIGTERM)
		r.exitCode(limit)
		outputs["run, "+format] = r.stdout.String() + r.stderr.String()
		if !strings.Contains(r.stderr.String(), logging.StepFailed) {
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

// Endpoints that never stop sending keep PID 1 small, and the app gets its
// signal at the step's timeout at the latest.
func TestHostileEndpointsKeepPID1Small(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	endless := func(head, fill string) string {
		return serveRaw(t, func(conn io.Writer) {
			io.WriteString(conn, head)
			chunk := strings.Repeat(fill, 64<<10)
			for {
				if _, err := io.WriteString(conn, chunk); err != nil {
					return
				}
			}
		})
	}
	steps := []string{
		"http " + endless("HTTP/1.1 200 OK\r\nX-Endless: ", "a") + "/header",
		"http " + endless("HTTP/1.1 200 ", "O") + "/status",
		"http " + endless("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "1") + "/chunk",
		"http " + endless("HTTP/1.1 200 OK\r\nContent-Length: 10485760\r\n\r\n", "x") + "/10mb",
	}
	dir := t.TempDir()
	r := start(t, opts{env: []string{"DRAINIT_PRESTOP=" + strings.Join(steps, "; "), "DRAINIT_STEP_TIMEOUT=2s"}},
		testprog, "slowterm", dir, "1s")
	waitFor(t, limit, "the app to start", func() bool { return exists(dir + "/ready") })
	sent := time.Now()
	r.signal(unix.SIGTERM)
	waitFor(t, limit, "the app to get SIGTERM", func() bool { return exists(dir + "/term") })
	if took := time.Since(sent); took > 4*2*time.Second {
		t.Errorf("the app got SIGTERM %v after the drain signal, past the four steps' timeouts", took)
	}
	if peak := procKiB(r.pid, "VmHWM:"); peak > 64<<10 {
		t.Errorf("drainit peaked at %d MiB", peak>>10)
	}
	r.expectExit(0, limit)
	if n := strings.Count(r.stderr.String(), logging.StepFailed); n != len(steps) {
		t.Errorf("%d steps failed, want all %d:\n%s", n, len(steps), r.stderr.String())
	}
}

// serveRaw runs answer on every connection after reading the request.
func serveRaw(t *testing.T, answer func(io.Writer)) string {
	t.Helper()
	url, stop, err := loopback.ServeRaw(func(conn net.Conn) { answer(conn) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return url
}

// procKiB reads a "Name:   N kB" line of /proc/pid/status.
func procKiB(pid int, field string) int {
	for _, line := range strings.Split(string(mustRead("/proc/"+strconv.Itoa(pid)+"/status")), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.Atoi(strings.Fields(rest)[0])
			return n
		}
	}
	return 0
}

func mustRead(path string) []byte {
	data, _ := os.ReadFile(path)
	return data
}
