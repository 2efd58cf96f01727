package e2e

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// drainit check -f on manifests: each of testdata/manifests fails for the
// reason its first line names (or passes where it says ok) and prints what
// its "# says:" lines say, and every manifest in examples/ passes. A secret in a manifest is never echoed.
func TestCheckManifests(t *testing.T) {
	files, _ := filepath.Glob("testdata/manifests/*.yaml")
	examples, _ := filepath.Glob("../examples/*/*.yaml")
	if len(files) < 8 || len(examples) == 0 {
		t.Fatalf("%d manifests, %d examples", len(files), len(examples))
	}
	want := regexp.MustCompile(`^# want: (.*)`)
	says := regexp.MustCompile(`(?m)^# says: (.*)$`)
	for _, file := range append(files, examples...) {
		expected := "ok"
		text := readFile(t, file)
		if m := want.FindStringSubmatch(text); m != nil {
			expected = m[1]
		}
		out, err := exec.Command(drainit, "check", "-f", file).CombinedOutput()
		for _, m := range says.FindAllStringSubmatch(text, -1) {
			if !strings.Contains(string(out), m[1]) {
				t.Errorf("%s: the output does not say %q:\n%s", file, m[1], out)
			}
		}
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
