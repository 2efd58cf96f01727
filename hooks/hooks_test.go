package hooks

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drainit/drainit/internal/redact"
	"github.com/drainit/drainit/internal/testsupport/fakeregistry"
)

func TestParseErrors(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"sleep", "want sleep DURATION"},
		{"sleep -1s", "is not a duration"},
		{"http", "want http [METHOD] URL"},
		{"http GET", "want http [METHOD] URL"},
		{"http localhost:8080/x", "is not an http(s) URL"},
		{"http POST http://a/x body extra", `unexpected "extra"`},
		{"http http://a/x -H NoColon", "want 'Name: value'"},
		{"http http://a/x -H", "-H needs"},
		{"http http://a/x -H 'X-A: 1\r\nX-Injected: 2'", "header X-A: the value has a control character"},
		{"http http://a/x -H 'X A: 1'", "want 'Name: value' with a name of"},
		{"sleep 2562047h; sleep 2562047h", "the steps add up to more time than drainit can count"},
		{"exec", "want exec COMMAND"},
		{"nacos now", "nacos takes no arguments"},
		{"consul", "DRAINIT_CONSUL_SERVICE_ID is not set"},
		{"eureka", "DRAINIT_EUREKA_URL is not set"},
		{"sleep 1s; wait 2s", `step 2 "wait 2s": unknown step "wait"`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.spec, map[string]string{}, time.Second)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want %q", tt.spec, err, tt.want)
		}
	}
}

type seen struct {
	method, path, contentType, auth, body string
}

// The http step sends the method, headers and body it was given, JSON when
// the body looks like JSON, and fails on a non-2xx answer.
func TestHTTPStep(t *testing.T) {
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), string(body)}
		if r.URL.Path == "/fail" {
			http.Error(w, "nope", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	tests := []struct {
		spec    string
		want    seen
		wantErr string
	}{
		{spec: "http " + srv.URL + "/a", want: seen{method: "GET", path: "/a"}},
		{spec: `http POST ` + srv.URL + `/b -H 'Authorization: Bearer t0k' '{"status":"DOWN"}'`,
			want: seen{"POST", "/b", "application/json", "Bearer t0k", `{"status":"DOWN"}`}},
		{spec: "http PUT " + srv.URL + "/c a=1&b=2", want: seen{"PUT", "/c", "application/x-www-form-urlencoded", "", "a=1&b=2"}},
		{spec: "http DELETE " + srv.URL + "/fail", want: seen{method: "DELETE", path: "/fail"}, wantErr: "HTTP 503: nope"},
	}
	for _, tt := range tests {
		plan, err := Parse(tt.spec, nil, time.Second)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.spec, err)
		}
		err = plan.Steps[0].Run(context.Background(), &runEnv{})
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%q: err = %v, want %q", tt.spec, err, tt.wantErr)
		}
		select {
		case s := <-got:
			if s != tt.want {
				t.Errorf("%q: server saw %+v, want %+v", tt.spec, s, tt.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%q: the server saw no request", tt.spec)
		}
	}
}

// The planned budget counts a sleep at its length and every other step at
// the step timeout.
func TestBudget(t *testing.T) {
	plan, err := Parse("http http://a/x; sleep 30s\nexec true", nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got, open := plan.Budget(); got != 40*time.Second || open {
		t.Errorf("Budget = %v, %v; want 40s and not open", got, open)
	}
	if lines := plan.Describe(time.Minute); len(lines) != 3 || !strings.HasPrefix(lines[2], "+35s") {
		t.Errorf("Describe = %q", lines)
	}
}

// Steps that do not fit are shown cut where the app's share begins, and
// those after it skipped, at that time: the timeline never goes back.
func TestDescribeCutsAtTheAppsShare(t *testing.T) {
	plan, err := Parse("http http://a/x; sleep 35s; quiet 3s max 20s; quiet", nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, open := plan.Budget(); !open {
		t.Error("a quiet with no max is not open-ended")
	}
	want := []string{"+0s       http GET http://a/x (at most 5s)", "+5s       sleep 35s (cut at +19s)",
		"+19s      quiet 3s max 20s (skipped: the app's share of the grace period has begun)",
		"+19s      quiet 3s (until the app's share of the grace period) (skipped: the app's share of the grace period has begun)"}
	if got := plan.Describe(19 * time.Second); !slices.Equal(got, want) {
		t.Errorf("Describe =\n%q\nwant\n%q", got, want)
	}
}

// A server that is not Nacos answers 404 to everything: the step says so,
// rather than that the instance is not registered, and the errors of two
// such servers stay on one line.
func TestNacosStepAgainstServersThatAreNotNacos(t *testing.T) {
	notNacos := httptest.NewServer(http.NotFoundHandler())
	defer notNacos.Close()
	environ := map[string]string{"DRAINIT_NACOS_ADDR": notNacos.URL + "," + notNacos.URL, "DRAINIT_NACOS_SERVICE": "demo",
		"DRAINIT_NACOS_IP": "10.1.2.3", "DRAINIT_NACOS_PORT": "8080"}
	step, err := parseNacos(nil, input{environ: environ, secrets: &redact.Secrets{}})
	if err != nil {
		t.Fatal(err)
	}
	err = step.Run(context.Background(), &runEnv{log: slog.Default()})
	if err == nil || strings.Contains(err.Error(), "not registered") || !strings.Contains(err.Error(), "not a Nacos server's answer") {
		t.Errorf("error %v, want it to say the server is not Nacos", err)
	}
	if err != nil && (strings.Contains(err.Error(), "\n") || strings.Count(err.Error(), "; ") != 1) {
		t.Errorf("two servers' errors not on one line joined by '; ': %q", err)
	}
}

// The start-up re-enable and the drain may want a token at once: one login
// serves both (each is a bcrypt check on the server).
func TestNacosLogsInOnceWhenAskedAtOnce(t *testing.T) {
	nacos := fakeregistry.NewNacos()
	nacos.V3, nacos.Username, nacos.Password = true, "drainit", "s3cret"
	srv := httptest.NewServer(nacos)
	defer srv.Close()
	environ := map[string]string{"DRAINIT_NACOS_ADDR": srv.URL, "DRAINIT_NACOS_SERVICE": "demo", "DRAINIT_NACOS_IP": "10.1.2.3",
		"DRAINIT_NACOS_PORT": "8080", "DRAINIT_NACOS_USERNAME": "drainit", "DRAINIT_NACOS_PASSWORD": "s3cret"}
	step, err := parseNacos(nil, input{environ: environ, secrets: &redact.Secrets{}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	tokens := make([]string, 8)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tokens[i], _ = step.(*nacosStep).token(context.Background(), srv.URL)
		}()
	}
	wg.Wait()
	if n := nacos.Count("nacos login /nacos/v3/auth/user/login"); n != 1 {
		t.Errorf("%d logins for 8 callers at once, want 1", n)
	}
	for _, tok := range tokens {
		if tok == "" || tok != tokens[0] {
			t.Fatalf("tokens %q, want one and the same", tokens)
		}
	}
}

// The drain cancels the start-up re-enable, maybe while it logs in: the
// login goes on, and the drain, asking next, waits for it and reuses its
// token rather than logging in a second time.
func TestNacosLoginCancelledMidwayServesTheNextCaller(t *testing.T) {
	nacos := fakeregistry.NewNacos()
	nacos.V3, nacos.Username, nacos.Password = true, "drainit", "s3cret"
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/login") {
			<-release
		}
		nacos.ServeHTTP(w, r)
	}))
	defer srv.Close()
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock()
	environ := map[string]string{"DRAINIT_NACOS_ADDR": srv.URL, "DRAINIT_NACOS_SERVICE": "demo", "DRAINIT_NACOS_IP": "10.1.2.3",
		"DRAINIT_NACOS_PORT": "8080", "DRAINIT_NACOS_USERNAME": "drainit", "DRAINIT_NACOS_PASSWORD": "s3cret"}
	parsed, err := parseNacos(nil, input{environ: environ, secrets: &redact.Secrets{}})
	if err != nil {
		t.Fatal(err)
	}
	step := parsed.(*nacosStep)
	startUp, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := step.token(startUp, srv.URL); first <- err }()
	waitUntil(t, func() bool { step.mu.Lock(); defer step.mu.Unlock(); return step.logins[srv.URL] != nil })
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled caller got %v, want context.Canceled", err)
	}
	second := make(chan string, 1)
	go func() { tok, _ := step.token(context.Background(), srv.URL); second <- tok }()
	unblock()
	if tok := <-second; tok == "" {
		t.Fatal("no token for the second caller")
	}
	if n := nacos.Count("nacos login /nacos/v3/auth/user/login"); n != 1 {
		t.Errorf("%d logins, want the one the start-up work began", n)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

// A sleep step runs its whole budget, which is its duration: it succeeds
// (its own deadline, a moment earlier than the sleep's end, used to make it
// "failed ... context deadline exceeded" in the log and the Events); cut by
// the drain, it fails.
func TestSleepStepSucceedsAtItsOwnBudget(t *testing.T) {
	for range 5 {
		plan, err := Parse("sleep 10ms", nil, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		plan.Log = slog.New(slowHandler{slog.DiscardHandler}) // a log line takes a while, as on a busy stderr
		plan.Drain(context.Background(), nil)
		if r := plan.Results(); len(r) != 1 || r[0].Err != nil {
			t.Fatalf("results %+v, want the sleep ok", r)
		}
	}
	plan, _ := Parse("sleep 10s", nil, time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	plan.Drain(ctx, nil)
	if r := plan.Results(); len(r) != 1 || r[0].Err == nil || !r[0].Cut {
		t.Fatalf("results %+v, want the sleep cut", r)
	}
}

// slowHandler takes 5 ms a line.
type slowHandler struct{ slog.Handler }

func (h slowHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h slowHandler) Handle(ctx context.Context, r slog.Record) error {
	time.Sleep(5 * time.Millisecond)
	return h.Handler.Handle(ctx, r)
}
