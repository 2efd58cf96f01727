package e2e

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// drainit check -f on manifests: each of testdata/manifests fails for the
// reason its first line names (or passes where it says ok), and every
// manifest in examples/ passes. A secret in a manifest is never echoed.
func TestCheckManifests(t *testing.T) {
	files, _ := filepath.Glob("testdata/manifests/*.yaml")
	examples, _ := filepath.Glob("../examples/*/*.yaml")
	if len(files) < 8 || len(examples) == 0 {
		t.Fatalf("%d manifests, %d examples", len(files), len(examples))
	}
	want := regexp.MustCompile(`^# want: (.*)`)
	for _, file := range append(files, examples...) {
		expected := "ok"
		if m := want.FindStringSubmatch(readFile(t, file)); m != nil {
			expected = m[1]
		}
		out, err := exec.Command(drainit, "check", "-f", file).CombinedOutput()
		switch {
		case expected == "ok" && err != nil:
			t.Errorf("%s: check failed: %v\n%s", file, err, out)
		case expected != "ok" && (err == nil || !strings.Contains(string(out), expected)):
			t.Errorf("%s: want a failure saying %q, got %v:\n%s", file, expected, err, out)
		}
		if strings.Contains(string(out), "0f3c7a51") || strings.Contains(string(out), "eyJhbGciOi") {
			t.Errorf("%s: a secret was echoed:\n%s", file, out)
		}
	}
}
