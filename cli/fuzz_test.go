package cli

import (
	"strings"
	"testing"
)

// FuzzConfigure runs each personality's option parser and environment
// reading over arbitrary arguments and DRAINIT_* values: bad input is an
// error of one line, and accepted input leaves settings that make sense.
func FuzzConfigure(f *testing.F) {
	seeds := [][2]string{
		{"-vv -e 3 -- ls", "10s"}, {"--stop-timeout=1m -r TERM:QUIT x", "TERM:0"}, {"-e143 -c ls -v", "0"},
		{"-g -p SIGKILL prog -- a", "-1s"}, {"--rewrite", "2562047h"}, {"-t 9999999999h x", "1,x"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], uint8(0))
	}
	f.Fuzz(func(t *testing.T, args, value string, who uint8) {
		p := []personality{drainit, tini, dumbInit}[int(who)%3]
		environ := map[string]string{}
		for _, key := range []string{"DRAINIT_STOP_TIMEOUT", "DRAINIT_REWRITE", "DRAINIT_EXPECT_STATUS", "DRAINIT_GRACE_PERIOD", "DRAINIT_DRAIN_SIGNALS"} {
			if len(value)%5 == len(key)%5 {
				environ[key] = value
			}
		}
		s, err := p.configure(strings.Fields(args), environ, false)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error of more than one line: %q", err)
			}
			return
		}
		if s.StopTimeout < 0 || s.GracePeriod < 0 || s.Verbosity < 0 || len(s.DrainSignals) == 0 {
			t.Errorf("settings out of range: %+v", s)
		}
	})
}
