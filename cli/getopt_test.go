package cli

import (
	"slices"
	"strings"
	"testing"
)

func TestParser(t *testing.T) {
	tests := []struct {
		args    []string
		permute bool
		want    []string // flags seen, then "|", then operands
		err     string
	}{
		{args: []string{"--", "ls", "-l"}, want: []string{"|", "ls", "-l"}},
		{args: []string{"-vv", "-e", "3", "ls"}, want: []string{"v", "v", "e=3", "|", "ls"}},
		{args: []string{"-e143", "-c", "ls", "-v"}, want: []string{"e=143", "c", "|", "ls", "-v"}},
		{args: []string{"--expect=1", "--single-child", "x"}, want: []string{"e=1", "c", "|", "x"}},
		{args: []string{"--expect", "2", "x"}, want: []string{"e=2", "|", "x"}},
		{args: []string{"-ve4", "x"}, want: []string{"v", "e=4", "|", "x"}},
		{args: []string{"ls", "-v", "--", "-x"}, permute: true, want: []string{"v", "|", "ls", "-x"}},
		{args: []string{"ls", "-v"}, want: []string{"|", "ls", "-v"}},
		{args: []string{"-x"}, err: "unknown flag -x"},
		{args: []string{"--nope"}, err: "unknown flag --nope"},
		{args: []string{"-e"}, err: "flag -e needs a value"},
		{args: []string{"--expect"}, err: "flag --expect needs a value"},
		{args: []string{"--single-child=1"}, err: "flag --single-child takes no value"},
	}
	for _, tt := range tests {
		var seen []string
		p := parser{permute: tt.permute, opts: []option{
			{short: 'v', long: "verbose", set: func(string) error { seen = append(seen, "v"); return nil }},
			{short: 'c', long: "single-child", set: func(string) error { seen = append(seen, "c"); return nil }},
			{short: 'e', long: "expect", arg: true, set: func(v string) error { seen = append(seen, "e="+v); return nil }},
		}}
		rest, err := p.parse(tt.args)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parse(%q) error = %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		got := append(append(seen, "|"), rest...)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("parse(%q) = %q, %v; want %q", tt.args, got, err, tt.want)
		}
	}
}
