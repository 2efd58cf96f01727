package e2e

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/drainit/drainit/internal/testsupport/fakeregistry"
	"golang.org/x/sys/unix"
)

// A container restarted on the same ip:port after a drain (a liveness
// restart, an OOM kill: the pod keeps its IP) registers into the disabled
// flag its predecessor's drain left, which Nacos keeps 60 s and then keeps
// for the new instance for good. drainit finds it and re-enables it: callers
// see the new JVM again within seconds.
func TestRestartOnTheSameAddressIsListedAgain(t *testing.T) {
	t.Parallel() // waits on servers and processes of its own: see harness_test.go
	for _, v3 := range []bool{false, true} {
		t.Run("nacos 3="+strconv.FormatBool(v3), func(t *testing.T) {
			nacos := fakeregistry.NewNacos()
			nacos.V3, nacos.Username, nacos.Password = v3, "drainit", "pw"
			addr := serve(t, nacos)
			port := freePort(t)
			env := append(nacosEnv(addr, port, "nacos; sleep 500ms"), "DRAINIT_NACOS_USERNAME=drainit", "DRAINIT_NACOS_PASSWORD=pw",
				"DRAINIT_GRACE_PERIOD=20s", "DRAINIT_STOP_TIMEOUT=5s")
			form := instanceForm(port)

			old := startJavaApp(t, port, env...)
			register(t, addr, form) // the app's own registration
			old.signal(unix.SIGTERM)
			old.expectExit(143, limit)
			if nacos.Listed("demo", "10.1.2.3", port) {
				t.Fatal("the drain left the instance listed")
			}
			deregister(t, addr, form) // the old app's client goes

			fresh := startJavaApp(t, port, env...)
			registered := time.Now()
			register(t, addr, form)
			waitFor(t, limit, "the new instance to be listed", func() bool { return nacos.Listed("demo", "10.1.2.3", port) })
			t.Logf("listed again %v after it registered", time.Since(registered).Round(time.Millisecond))
			waitForLog(t, fresh.run, "re-enabled the instance")
		})
	}
}

func deregister(t *testing.T, base string, form url.Values) {
	t.Helper()
	resp, err := http.DefaultClient.Do(mustRequest(t, http.MethodDelete, base+"/nacos/v1/ns/instance?"+form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
