package signals

import "testing"

// FuzzParse: any accepted signal is in range and survives a round trip
// through its name.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"TERM", "15", "SIGRTMIN+3", "rtmax-1", "0", "RTMIN+-1", "SIG", " hup "} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := Parse(s)
		if err != nil {
			return
		}
		if sig < 1 || sig > RTMax {
			t.Fatalf("Parse(%q) = %d, out of range", s, sig)
		}
		if sig == 32 || sig == 33 {
			return // glibc's: they have no name of their own
		}
		back, err := Parse(Name(sig))
		if err != nil || back != sig {
			t.Errorf("Parse(Name(%d)) = %d, %v", sig, back, err)
		}
	})
}

// FuzzRewrites: what ParseRewrite accepts maps a signal in range to one in
// range or to 0 (drop).
func FuzzRewrites(f *testing.F) {
	for _, seed := range []string{"TERM:QUIT", "10:0", "1:99", ":", "HUP:RTMIN+1", "a:b:c"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		from, to, err := ParseRewrite(s)
		if err != nil {
			return
		}
		if from < 1 || from > RTMax || to < 0 || to > RTMax {
			t.Errorf("ParseRewrite(%q) = %d:%d", s, from, to)
		}
	})
}
