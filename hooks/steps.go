package hooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/drainit/drainit/internal/envconf"
	"golang.org/x/sys/unix"
)

// sleepStep waits: the time callers need to notice the instance is gone.
type sleepStep struct{ d time.Duration }

func parseSleep(args []string) (Step, error) {
	if len(args) != 1 {
		return nil, errors.New("want sleep DURATION")
	}
	d, err := envconf.ParseDuration(args[0])
	if err != nil || d < 0 {
		return nil, fmt.Errorf("%q is not %s", args[0], envconf.DurationForm)
	}
	return sleepStep{d}, nil
}

func (s sleepStep) String() string                     { return "sleep " + s.d.String() }
func (s sleepStep) Budget(time.Duration) time.Duration { return s.d }

func (s sleepStep) Run(ctx context.Context, _ *runEnv) error {
	end := time.Now().Add(s.d)
	if sleepCtx(ctx, s.d) {
		return nil
	}
	// The step's budget is its duration: its own deadline, set a moment
	// before the sleep began, comes first by that moment. That is the
	// sleep done (it was reported as failed), not cut.
	if deadline, ok := ctx.Deadline(); ok && ctx.Err() == context.DeadlineExceeded && !deadline.Before(end.Add(-50*time.Millisecond)) {
		return nil
	}
	return ctx.Err()
}

// sleepCtx waits d; it reports false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// execKillWait bounds the wait for a killed command: one stuck in
// uninterruptible sleep must not hold the drain.
const execKillWait = time.Second

// execStep runs a command without a shell, in its own process group so that
// a signal forwarded to the app's group does not reach it, and kills that
// group when the step times out.
type execStep struct{ argv []string }

func parseExec(args []string) (Step, error) {
	if len(args) == 0 {
		return nil, errors.New("want exec COMMAND [ARG...]")
	}
	return execStep{args}, nil
}

func (s execStep) String() string                             { return "exec " + strings.Join(s.argv, " ") }
func (s execStep) Budget(timeout time.Duration) time.Duration { return timeout }

func (s execStep) Run(ctx context.Context, env *runEnv) error {
	kill, exited, err := env.app.Spawn(s.argv)
	if err != nil {
		return err
	}
	select {
	case code := <-exited:
		if code != 0 {
			return fmt.Errorf("exited with status %d", code)
		}
		return nil
	case <-ctx.Done():
		kill(unix.SIGKILL)
		select {
		case <-exited:
			return fmt.Errorf("killed: %w", ctx.Err())
		case <-time.After(execKillWait):
			return fmt.Errorf("killed, but still not gone after %s (uninterruptible sleep?): %w", execKillWait, ctx.Err())
		}
	}
}
