package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drainit/drainit/internal/testsupport/pidns"
	"github.com/drainit/drainit/signals"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestScripts runs the CLI-shaped cases in testdata/script as terminal
// sessions. drainit, tini and dumb-init are commands that run the real
// binary, as PID 1 of a new namespace when the test runs as root; `status N`
// checks the last one's exit code; `signal SIG` signals the last background
// command (PID 1 when it is unshare); `waitfile F` waits up to 10 s for F;
// [root] tells whether unshare works.
func TestScripts(t *testing.T) {
	codes := &exitCodes{m: map[*testscript.TestScript]int{}}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
			env.Setenv("TESTPROG", testprog)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"drainit":   codes.initCmd("drainit"),
			"tini":      codes.initCmd("tini"),
			"dumb-init": codes.initCmd("dumb-init"),
			"status":    codes.status,
			"signal":    signalCmd,
			"waitfile":  waitFileCmd,
		},
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, errors.New("unknown condition " + cond)
		},
	})
}

type exitCodes struct {
	mu sync.Mutex
	m  map[*testscript.TestScript]int
}

func (c *exitCodes) initCmd(name string) func(ts *testscript.TestScript, neg bool, args []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		bin := filepath.Join(binDir, name)
		var err error
		if os.Geteuid() == 0 {
			err = ts.Exec("unshare", append([]string{"--pid", "--fork", "--mount-proc", "--kill-child", bin}, args...)...)
		} else {
			err = ts.Exec(bin, args...)
		}
		code := 0
		var exitErr *exec.ExitError
		switch {
		case errors.As(err, &exitErr):
			code = exitErr.ExitCode()
		case err != nil:
			ts.Fatalf("%s: %v", name, err)
		}
		c.mu.Lock()
		c.m[ts] = code
		c.mu.Unlock()
		if (code != 0) != neg {
			ts.Fatalf("%s exited %d", name, code)
		}
	}
}

func (c *exitCodes) status(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: status CODE")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	c.mu.Lock()
	got, ok := c.m[ts]
	c.mu.Unlock()
	if !ok || got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// signalCmd sends a signal by name (TERM, USR1...) to the last command
// started in the background: the built-in kill sends only KILL or INT.
func signalCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: signal SIG")
	}
	sig, err := signals.Parse(args[0])
	ts.Check(err)
	bg := ts.BackgroundCmds()
	if len(bg) == 0 {
		ts.Fatalf("signal: no background command")
	}
	cmd := bg[len(bg)-1]
	pid := cmd.Process.Pid
	if filepath.Base(cmd.Path) == "unshare" {
		kids := pidns.Children(pid)
		if len(kids) == 0 {
			ts.Fatalf("signal: unshare %d has no PID 1 (yet)", pid)
		}
		pid = kids[0]
	}
	ts.Check(syscall.Kill(pid, sig))
}

func waitFileCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: waitfile FILE")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(10 * time.Second)
	for !exists(path) {
		if time.Now().After(deadline) {
			ts.Fatalf("no %s after 10s", args[0])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
