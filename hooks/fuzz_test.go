package hooks

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary DRAINIT_PRESTOP values through the step parser:
// it may reject them, never panic, and what it accepts has a budget that is
// the sum of its steps' and fits in a time.Duration, and a description
// whose times never go backwards nor past where the drain is cut.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"sleep 30s", "http POST http://127.0.0.1:1/x -H 'A: b' '{}'", "exec sh -c 'exit 3'",
		"nacos; sleep 1s\neureka", `http "http://a/b c" -H "X: \"q\""`, "sleep 2562047h; sleep 2562047h", "'", `"\`,
		"sleep 40; quiet 3s max 20s; sleep 5s", "quiet; sleep 1s",
	} {
		f.Add(seed, int64(30*time.Second))
	}
	environ := map[string]string{"DRAINIT_NACOS_ADDR": "127.0.0.1:8848", "DRAINIT_NACOS_SERVICE": "a", "DRAINIT_NACOS_PORT": "80"}
	f.Fuzz(func(t *testing.T, spec string, share int64) {
		plan, err := Parse(spec, environ, time.Second)
		if err != nil {
			return
		}
		var sum time.Duration
		for _, s := range plan.Steps {
			sum += s.Budget(plan.StepTimeout)
		}
		if total, _ := plan.Budget(); total != sum || total < 0 {
			t.Errorf("%q: budget %v, the steps' add up to %v", spec, total, sum)
		}
		appShare := time.Duration(share % int64(time.Hour))
		if appShare < 0 {
			appShare = -appShare
		}
		lines := plan.Describe(appShare)
		if len(lines) != len(plan.Steps) {
			t.Errorf("%q: %d steps, %d described", spec, len(plan.Steps), len(lines))
		}
		var last time.Duration
		for _, line := range lines {
			at, err := time.ParseDuration(strings.TrimPrefix(strings.Fields(line)[0], "+"))
			if err != nil || at < last || at > appShare {
				t.Fatalf("%q cut at %v: line %q goes back or past the cut (after %v)", spec, appShare, line, last)
			}
			last = at
		}
	})
}

// FuzzSplitWords: the shell-like word splitter returns no words for blank
// input, and gives back any words quoted as a user would quote them.
func FuzzSplitWords(f *testing.F) {
	for _, seed := range []string{`a 'b c' "d\"e"`, `''`, `a\ b`, `"unterminated`, "tab\tsep", "it's\x00x y\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := splitWords(s)
		if err == nil && strings.Trim(s, " \t") == "" && len(words) != 0 {
			t.Errorf("%q: blank input gave words %q", s, words)
		}
		if !utf8.ValidString(s) {
			return
		}
		want := strings.Split(s, "\x00")
		quoted := make([]string, len(want))
		for i, w := range want {
			quoted[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
		got, err := splitWords(strings.Join(quoted, " "))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q quoted as %q: split into %q, %v", want, strings.Join(quoted, " "), got, err)
		}
	})
}
