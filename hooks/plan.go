// Package hooks owns the drain steps that take an instance out of traffic
// before the app is told to stop: http calls, commands, sleeps and the
// registry presets (Nacos, Eureka, Consul). It knows HTTP, commands and
// registries; it never touches a process it did not start itself.
package hooks

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/internal/proc"
	"github.com/drainit/drainit/internal/redact"
)

// App is what the drain may use of the app (the supervisor's view; the
// same type as supervisor.App): Spawn starts a command in a process group
// of its own through drainit's reaper (the only caller of wait4), reports
// its exit code on the channel, and kill signals its group safely; Sockets
// says which sockets the app's processes hold, and TakeSockets duplicates
// some of them, so that the quiet step may end an idle connection.
type App = interface {
	Spawn(argv []string) (kill func(syscall.Signal), exited <-chan int, err error)
	Sockets() proc.Owners
	TakeSockets(inodes map[uint32]bool) (map[uint32]*os.File, error)
}

// Step is one drain step.
type Step interface {
	String() string
	// Budget is the longest the step may take given the per-step timeout.
	Budget(stepTimeout time.Duration) time.Duration
	Run(ctx context.Context, env *runEnv) error
}

// starter is a step with work to do once the child has started (the Nacos
// re-enable).
type starter interface {
	Start(ctx context.Context, env *runEnv)
}

type runEnv struct {
	app  App
	log  *slog.Logger
	pod  func(ctx context.Context) (PodTraffic, error) // nil outside a pod
	note func(string)                                  // says how the step ended, for the Event
}

// Plan is the ordered drain.
type Plan struct {
	Steps       []Step
	StepTimeout time.Duration
	// Secrets are the credentials the steps were given (a password, a
	// header's value) or obtain (a token): whoever prints for drainit
	// masks them (logging.New).
	Secrets *redact.Secrets
	Log     *slog.Logger // set before the drain runs; discards by default
	// Pod reads what the pod says of traffic that is not callers' (the
	// kubelet's probes); nil outside a pod.
	Pod func(ctx context.Context) (PodTraffic, error)
	// Done, when set, is told how the steps went as soon as the drain
	// ends (the Events), before the signal is forwarded; it must not block.
	Done func([]Result)

	mu      sync.Mutex
	results []Result
}

// Result is how one step went.
type Result struct {
	Step string
	Took time.Duration
	Err  error  // nil when it succeeded
	Cut  bool   // stopped by the drain's end (the app's share, a second signal, the child's exit)
	Note string // how the step ended, when it says more than ok (quiet: by silence or its maximum)
}

// Results are the steps run so far, in order.
func (p *Plan) Results() []Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.results)
}

func (p *Plan) record(r Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.results = append(p.results, r)
}

// input is what the steps' parsers read: the environment (the registry
// steps' settings), and where they register the secrets they find.
type input struct {
	environ map[string]string
	secrets *redact.Secrets
}

// Parse reads a DRAINIT_PRESTOP value; registry steps read their settings
// from environ. An error's text has the secrets found so far masked.
func Parse(spec string, environ map[string]string, stepTimeout time.Duration) (*Plan, error) {
	texts, err := splitSteps(spec)
	if err != nil {
		return nil, err
	}
	plan := &Plan{StepTimeout: stepTimeout, Secrets: &redact.Secrets{}, Log: slog.New(slog.DiscardHandler)}
	in := input{environ: environ, secrets: plan.Secrets}
	var total time.Duration
	for i, text := range texts {
		step, err := parseStep(text, in)
		if err != nil {
			return nil, plan.Secrets.Error(fmt.Errorf("step %d %q: %w", i+1, text, err))
		}
		if total += step.Budget(stepTimeout); total < 0 {
			return nil, fmt.Errorf("step %d %q: the steps add up to more time than drainit can count (%s)", i+1, text, time.Duration(math.MaxInt64))
		}
		plan.Steps = append(plan.Steps, step)
	}
	return plan, nil
}

func parseStep(text string, in input) (Step, error) {
	words, err := splitWords(text)
	if err != nil {
		return nil, err
	}
	args := words[1:]
	switch words[0] {
	case "sleep":
		return parseSleep(args)
	case "http":
		return parseHTTP(args, in.secrets)
	case "exec":
		return parseExec(args)
	case "nacos":
		return parseNacos(args, in)
	case "eureka":
		return parseEureka(args, in)
	case "consul":
		return parseConsul(args, in)
	case "quiet":
		return parseQuiet(args, in.environ)
	}
	return nil, fmt.Errorf("unknown step %q (want sleep, http, exec, nacos, eureka, consul or quiet)", words[0])
}

func noArgs(name string, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s takes no arguments (its settings come from DRAINIT_%s_*)", name, strings.ToUpper(name))
	}
	return nil
}

// openEnded is a step that runs until the drain's own end: its Budget is
// not its whole time (quiet with no max).
type openEnded interface{ openEnded() bool }

func isOpen(s Step) bool {
	o, ok := s.(openEnded)
	return ok && o.openEnded()
}

// Budget is the longest the whole drain may take if each step takes all of
// its budget; open when a step runs until the drain's own end.
func (p *Plan) Budget() (total time.Duration, open bool) {
	for _, s := range p.Steps {
		total += s.Budget(p.StepTimeout)
		open = open || isOpen(s)
	}
	return total, open
}

// Drain runs the steps in order. A step that fails or times out is logged
// and the drain goes on; when ctx ends (the app's share of the grace period
// is reached, a second signal, the child exited) the rest is skipped.
func (p *Plan) Drain(ctx context.Context, app App) {
	if p.Done != nil {
		defer func() { p.Done(p.Results()) }()
	}
	env := &runEnv{app: app, log: p.Log, pod: p.Pod}
	start := time.Now()
	for i, step := range p.Steps {
		if ctx.Err() != nil {
			p.Log.Warn(logging.StepsSkipped, "skipped", len(p.Steps)-i, "reason", context.Cause(ctx), "at", since(start))
			return
		}
		p.runStep(ctx, env, step, start)
	}
}

func (p *Plan) runStep(ctx context.Context, env *runEnv, step Step, start time.Time) {
	stepCtx, cancel := context.WithCancel(ctx) // budget 0: until the drain's own deadline
	if budget := step.Budget(p.StepTimeout); budget > 0 {
		cancel()
		stepCtx, cancel = context.WithTimeout(ctx, budget)
	}
	defer cancel()
	began := time.Now()
	// A line as each step starts: if the container is killed before the
	// plan ends (docker stop's 10 s), the log shows where the drain was.
	started := []any{"step", step.String(), "at", since(start)}
	if deadline, ok := stepCtx.Deadline(); ok {
		started = append(started, "ends_by", deadline.Sub(start).Round(time.Millisecond))
	}
	p.Log.Log(ctx, logging.LevelNotice, logging.StepStarted, started...)
	var note string
	stepEnv := *env
	stepEnv.note = func(text string) { note = text }
	err := step.Run(stepCtx, &stepEnv)
	p.record(Result{Step: step.String(), Took: since(began), Err: err, Cut: err != nil && ctx.Err() != nil, Note: note})
	attrs := []any{"step", step.String(), "took", since(began), "at", since(start)}
	switch {
	case err == nil:
		p.Log.Log(ctx, logging.LevelNotice, logging.StepDone, attrs...)
	case ctx.Err() != nil:
		p.Log.Warn(logging.StepCutShort, append(attrs, "reason", context.Cause(ctx), "err", err)...)
	default:
		p.Log.Warn(logging.StepFailed, append(attrs, "err", err)...)
	}
}

// Start runs the steps' start-up work (never delaying the child) until ctx ends.
func (p *Plan) Start(ctx context.Context, app App) {
	env := &runEnv{app: app, log: p.Log}
	for _, s := range p.Steps {
		if st, ok := s.(starter); ok {
			go st.Start(ctx, env)
		}
	}
}

// Describe lists the steps on the stop's timeline for drainit check, each
// at the time it starts if those before it take their whole budget, and
// none past appShare, where the drain is cut.
func (p *Plan) Describe(appShare time.Duration) []string {
	var lines []string
	var at time.Duration
	for _, s := range p.Steps {
		budget := s.Budget(p.StepTimeout)
		switch {
		case at >= appShare:
			lines = append(lines, fmt.Sprintf("+%-8s %s (skipped: the app's share of the grace period has begun)", appShare, s))
		case isOpen(s) || at+budget > appShare:
			lines = append(lines, fmt.Sprintf("+%-8s %s (cut at +%s)", at, s, appShare))
			at = appShare
		case budget == 0:
			lines = append(lines, fmt.Sprintf("+%-8s %s", at, s))
		default:
			lines = append(lines, fmt.Sprintf("+%-8s %s (at most %s)", at, s, budget))
			at += budget
		}
	}
	return lines
}

func since(t time.Time) time.Duration {
	return time.Since(t).Round(time.Millisecond)
}

// tell says how the step ended, for the Event (nowhere outside a drain).
func (e *runEnv) tell(text string) {
	if e.note != nil {
		e.note(text)
	}
}
