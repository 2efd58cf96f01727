package hooks

import (
	"slices"
	"testing"
)

func TestSplitSteps(t *testing.T) {
	got, err := splitSteps("http http://a/x; sleep 30s\n\nexec sh -c 'a; b' ;http POST http://a/y '{\"k\":\"v;w\"}'")
	want := []string{"http http://a/x", "sleep 30s", "exec sh -c 'a; b'", `http POST http://a/y '{"k":"v;w"}'`}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("splitSteps = %q, %v; want %q", got, err, want)
	}
	if _, err := splitSteps("exec 'a; b"); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`exec touch /tmp/a`, []string{"exec", "touch", "/tmp/a"}},
		{`exec sh -c 'echo "hi there"'`, []string{"exec", "sh", "-c", `echo "hi there"`}},
		{`http -H "Authorization: Bearer x y" URL`, []string{"http", "-H", "Authorization: Bearer x y", "URL"}},
		{`a\ b "" c`, []string{"a b", "", "c"}},
		{`  spaced   out  `, []string{"spaced", "out"}},
		// A backslash escapes inside double quotes, not inside single ones.
		{`"d\"e" "a\\b" 'c\d'`, []string{`d"e`, `a\b`, `c\d`}},
	}
	for _, tt := range tests {
		got, err := splitWords(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`a 'b`, `a "b`, `a\`} {
		if _, err := splitWords(bad); err == nil {
			t.Errorf("splitWords(%q) accepted", bad)
		}
	}
}
