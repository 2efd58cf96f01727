package kube

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A recorded answer of the API server for a pod deleted with
// kubectl delete --grace-period=5 (spec: 60), trimmed.
const deletedPod = `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"app","namespace":"demo",
"uid":"0d9a2f1e-6b1c-4d4e-9f0a-2b8e6c1d7a55","deletionTimestamp":"2026-12-06T18:00:05Z","deletionGracePeriodSeconds":5},
"spec":{"terminationGracePeriodSeconds":60},"status":{"phase":"Running"}}`

const runningPod = `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"app","namespace":"demo","uid":"u1"},
"spec":{"terminationGracePeriodSeconds":60}}`

func TestDeadlineOf(t *testing.T) {
	sent := time.Date(2026, 12, 6, 18, 0, 0, 300e6, time.UTC) // this node's clock
	began := sent.Add(-50 * time.Millisecond)
	tests := []struct {
		name string
		pod  string
		date time.Time // the answer's Date, the API server's clock, whole seconds
		want time.Time
		from string
	}{
		{"deleted, clocks in step: a second early at most, for Date's resolution", deletedPod,
			time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC), time.Date(2026, 12, 6, 18, 0, 4, 300e6, time.UTC), "deleted with a 5s grace period"},
		{"deleted, the API server's clock 3 s ahead: 3 s earlier here", deletedPod,
			time.Date(2026, 12, 6, 18, 0, 3, 0, time.UTC), time.Date(2026, 12, 6, 18, 0, 1, 300e6, time.UTC), "at most 3.7s ahead"},
		{"deleted, its clock 2 s behind: later here, by what Date proves", deletedPod,
			time.Date(2026, 12, 6, 17, 59, 58, 0, time.UTC), time.Date(2026, 12, 6, 18, 0, 6, 300e6, time.UTC), "deletionTimestamp 2026-12-06T18:00:05Z"},
		{"not deleted (a restart): the spec's grace from the stop's start", runningPod,
			time.Time{}, began.Add(time.Minute), "not deleted"},
	}
	for _, tt := range tests {
		var p podJSON
		if err := json.Unmarshal([]byte(tt.pod), &p); err != nil {
			t.Fatal(err)
		}
		d, err := deadlineOf(p, tt.date, sent, began)
		if err != nil || !d.At.Equal(tt.want) || !strings.Contains(d.From, tt.from) {
			t.Errorf("%s: %v %q %v; want %v and %q", tt.name, d.At, d.From, err, tt.want, tt.from)
		}
	}
}

// fakeAPI is an API server in miniature over TLS: the pod, and events kept
// by name (409 for a name that exists, as the real one answers).
type fakeAPI struct {
	mu     sync.Mutex
	pod    string
	deny   bool
	events map[string]map[string]any
	tokens []string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = append(f.tokens, r.Header.Get("Authorization"))
	if f.deny {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"kind":"Status","message":"pods \"app\" is forbidden: User \"system:serviceaccount:demo:default\" cannot get resource \"pods\""}`)
		return
	}
	switch {
	case r.Method == "GET" && r.URL.Path == "/api/v1/namespaces/demo/pods/app":
		io.WriteString(w, f.pod)
	case r.Method == "POST" && r.URL.Path == "/api/v1/namespaces/demo/events":
		var e map[string]any
		json.NewDecoder(r.Body).Decode(&e)
		name := e["metadata"].(map[string]any)["name"].(string)
		if _, ok := f.events[name]; ok {
			w.WriteHeader(http.StatusConflict)
			return
		}
		f.events[name] = e
		w.WriteHeader(http.StatusCreated)
	case strings.HasPrefix(r.URL.Path, "/api/v1/namespaces/demo/events/"):
		name := strings.TrimPrefix(r.URL.Path, "/api/v1/namespaces/demo/events/")
		if r.Method == "PATCH" {
			var patch map[string]any
			json.NewDecoder(r.Body).Decode(&patch)
			for k, v := range patch {
				f.events[name][k] = v
			}
		}
		json.NewEncoder(w).Encode(f.events[name])
	default:
		http.NotFound(w, r)
	}
}

// inPod starts the fake API and a service account mount for it.
func inPod(t *testing.T, f *fakeAPI) *Client {
	t.Helper()
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	os.WriteFile(filepath.Join(dir, "ca.crt"), ca, 0o644)
	os.WriteFile(filepath.Join(dir, "token"), []byte("t0ken-from-the-mount\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "namespace"), []byte("demo"), 0o644)
	saved := accountDir
	accountDir = dir
	t.Cleanup(func() { accountDir = saved })
	u, _ := url.Parse(srv.URL)
	c, err := FromEnvironment(map[string]string{"KUBERNETES_SERVICE_HOST": u.Hostname(), "KUBERNETES_SERVICE_PORT": u.Port(), "POD_NAME": "app"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDeadlineFromTheAPI(t *testing.T) {
	f := &fakeAPI{pod: deletedPod, events: map[string]map[string]any{}}
	c := inPod(t, f)
	d, err := c.Deadline(context.Background(), time.Now())
	if err != nil || d.UID != "0d9a2f1e-6b1c-4d4e-9f0a-2b8e6c1d7a55" || !strings.Contains(d.From, "5s grace period") {
		t.Errorf("%+v, %v", d, err)
	}
	if f.tokens[0] != "Bearer t0ken-from-the-mount" {
		t.Errorf("sent %q, want the mount's token", f.tokens[0])
	}
	f.deny = true
	if _, err := c.Deadline(context.Background(), time.Now()); !Forbidden(err) || !strings.Contains(err.Error(), "cannot get resource") {
		t.Errorf("denied: %v", err)
	}
}

// The same reason twice on the same pod is one Event with count 2 and the
// last message, whatever timings the messages carry; another reason is
// another Event.
func TestPostDeduplicates(t *testing.T) {
	f := &fakeAPI{pod: deletedPod, events: map[string]map[string]any{}}
	c := inPod(t, f)
	for _, msg := range []string{"drainit sent SIGKILL at +2.1s", "drainit sent SIGKILL at +2.3s"} {
		if err := c.Post(context.Background(), "u1", Event{Type: "Warning", Reason: "Killed", Message: msg}); err != nil {
			t.Fatal(err)
		}
	}
	c.Post(context.Background(), "u1", Event{Type: "Normal", Reason: "Drained", Message: "ok"})
	if len(f.events) != 2 {
		t.Fatalf("%d events, want 2", len(f.events))
	}
	for _, ev := range f.events {
		obj := ev["involvedObject"].(map[string]any)
		if obj["kind"] != "Pod" || obj["name"] != "app" || obj["uid"] != "u1" {
			t.Errorf("involvedObject %v", obj)
		}
		if ev["reason"] == "Killed" && (ev["count"] != float64(2) || ev["message"] != "drainit sent SIGKILL at +2.3s") {
			t.Errorf("count %v, message %v: want 2 and the last message", ev["count"], ev["message"])
		}
	}
}

func TestNotInAPod(t *testing.T) {
	if _, err := FromEnvironment(map[string]string{}); err != ErrNotInPod {
		t.Errorf("%v, want ErrNotInPod", err)
	}
}
