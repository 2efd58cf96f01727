package hooks

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary DRAINIT_PRESTOP values through the step parser:
// it may reject them, never panic, and what it accepts has a plan that fits
// in a time.Duration and describes each step.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"sleep 30s", "http POST http://127.0.0.1:1/x -H 'A: b' '{}'", "exec sh -c 'exit 3'",
		"nacos; sleep 1s\neureka", `http "http://a/b c" -H "X: \"q\""`, "sleep 2562047h; sleep 2562047h", "'", `"\`,
	} {
		f.Add(seed)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	environ := map[string]string{"DRAINIT_NACOS_ADDR": "127.0.0.1:8848", "DRAINIT_NACOS_SERVICE": "a", "DRAINIT_NACOS_PORT": "80"}
	f.Fuzz(func(t *testing.T, spec string) {
		plan, err := Parse(spec, environ, time.Second, log)
		if err != nil {
			return
		}
		if len(plan.Describe()) < len(plan.Steps) {
			t.Errorf("%q: %d steps, %d described", spec, len(plan.Steps), len(plan.Describe()))
		}
		plan.Budget()
	})
}

// FuzzSplitWords: the shell-like word splitter either errors or returns
// words none of which is empty unless quoted.
func FuzzSplitWords(f *testing.F) {
	for _, seed := range []string{`a 'b c' "d\"e"`, `''`, `a\ b`, `"unterminated`, "tab\tsep"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := splitWords(s)
		if err == nil && strings.Trim(s, " \t") == "" && len(words) != 0 {
			t.Errorf("%q: blank input gave words %q", s, words)
		}
	})
}
