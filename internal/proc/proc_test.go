package proc

import (
	"os"
	"os/exec"
	"slices"
	"testing"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		in   string
		want Stat
		ok   bool
	}{
		{"1 (sleep) S 0 1 1", Stat{State: 'S', PPID: 0}, true},
		{"42 (odd) name () Z 7 42 42", Stat{State: 'Z', PPID: 7}, true},
		{"42 (a b c) R 12", Stat{State: 'R', PPID: 12}, true},
		{"42 (trunc", Stat{}, false},
		{"42 (x) S", Stat{}, false},
		{"42 (x) S ppid", Stat{}, false},
		{"", Stat{}, false},
		{"9 (j) S 1 9 9 0 -1 4194560 100 0 0 0 25 17 0 0", Stat{State: 'S', PPID: 1, CPU: 42}, true},
	}
	for _, tt := range tests {
		got, ok := parseStat([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseStat(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestReadStatSelfAndGone(t *testing.T) {
	st, ok := ReadStat(os.Getpid())
	if !ok || st.PPID != os.Getppid() {
		t.Errorf("ReadStat(self) = %+v, %v; want ppid %d", st, ok, os.Getppid())
	}
	if _, ok := ReadStat(1 << 30); ok {
		t.Error("ReadStat of a pid that cannot exist reported ok")
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("42 (odd) name () Z 7 42 42"))
	f.Add([]byte("1 (x) S 0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, ok := parseStat(data)
		if !ok && st != (Stat{}) {
			t.Errorf("not ok but %+v", st)
		}
	})
}

// A command name with spaces and parentheses must not confuse the /proc
// parser that finds the tree.
func TestDescendantsWithOddNames(t *testing.T) {
	dir := t.TempDir()
	odd := dir + "/odd) name ("
	if err := os.Symlink("/bin/sleep", odd); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(odd, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if !slices.Contains(Descendants(os.Getpid()), cmd.Process.Pid) {
		t.Errorf("descendants misses pid %d", cmd.Process.Pid)
	}
}
