package supervisor

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

// Wait4(-1) is process-wide: every Run in a process must share one reaper,
// or the reaper of an earlier Run takes the next one's child and that Run
// never learns its child exited. Back-to-back Runs give an earlier reaper
// the chance.
func TestRunsOneAfterAnotherEachGetTheirChildsCode(t *testing.T) {
	for i := range 100 {
		code := make(chan int, 1)
		go func() {
			cfg := DefaultConfig()
			cfg.Argv = []string{"sh", "-c", "exit 7"}
			cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
			c, err := Run(cfg, nil)
			if err != nil {
				t.Errorf("Run: %v", err)
			}
			code <- c
		}()
		select {
		case c := <-code:
			if c != 7 {
				t.Fatalf("run %d: code %d, want 7", i, c)
			}
		case <-time.After(bound):
			t.Fatalf("run %d did not return within %v: another reaper took its child", i, bound)
		}
	}
}
