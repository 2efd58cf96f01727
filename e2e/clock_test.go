package e2e

import (
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var (
	forwardLine = regexp.MustCompile(`\+(\S+)\s+forward the signal`)
	killLine    = regexp.MustCompile(`\+(\S+)\s+SIGKILL whatever is left`)
)

// drainit check and the run agree: the signal reaches the app, and the
// SIGKILL comes, when check said they would (for an app that ignores
// SIGTERM, so the kill is the end).
func TestCheckAndTheRunAgree(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  []string
	}{
		{"stop timeout, no steps", []string{"-t", "2s", "--grace-period", "10s"}, nil},
		{"no stop timeout: the grace period's end", []string{"--grace-period", "4s"}, nil},
		{"a step, then the stop timeout", []string{"-t", "1s", "--grace-period", "10s"}, []string{"DRAINIT_PRESTOP=sleep 1s"}},
		{"steps that do not fit", []string{"--grace-period", "5s"}, []string{"DRAINIT_PRESTOP=sleep 30s"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check := exec.Command(drainit, append([]string{"check"}, tc.args...)...)
			check.Env = tc.env
			out, _ := check.Output()
			forward, kill := planned(t, string(out), forwardLine), planned(t, string(out), killLine)

			dir := t.TempDir()
			args := append(append([]string{}, tc.args...), "--", testprog, "ignoreterm", dir)
			r := start(t, opts{env: tc.env}, args...)
			waitFor(t, limit, "the app to start", func() bool { return exists(dir + "/ready") })
			sent := time.Now()
			r.signal(unix.SIGTERM)
			r.expectExit(137, limit)
			killed := time.Since(sent)
			ms, err := strconv.ParseInt(strings.TrimSpace(readFile(t, dir+"/term")), 10, 64)
			if err != nil {
				t.Fatalf("the app never got SIGTERM\n%s", r.stderr.String())
			}
			forwarded := time.UnixMilli(ms).Sub(sent)
			agree(t, "the signal reached the app", forwarded, forward)
			agree(t, "SIGKILL", killed, kill)
		})
	}
}

func planned(t *testing.T, out string, line *regexp.Regexp) time.Duration {
	t.Helper()
	m := line.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("check printed no %v line:\n%s", line, out)
	}
	d, err := time.ParseDuration(m[1])
	if err != nil {
		t.Fatalf("check printed %q: %v", m[1], err)
	}
	return d
}

// agree allows what a busy machine adds, never an early action.
func agree(t *testing.T, what string, got, want time.Duration) {
	t.Helper()
	if got < want-50*time.Millisecond || got > want+time.Second {
		t.Errorf("%s at +%v, check said +%v", what, got.Round(time.Millisecond), want)
	}
}
