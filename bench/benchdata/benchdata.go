// Package benchdata holds the benchmarks' result files: what bench/costs and
// bench/rollout write and bench/report reads.
package benchdata

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// Costs is bench/results/costs.json.
type Costs struct {
	Startup   []StartupResult
	Latency   []LatencyResult
	Memory    []MemoryResult
	Reaping   []ReapResult
	Idle      []IdleResult
	QuietIdle []QuietIdleResult
	Storm     []StormResult
	Repeats   map[string]int
	StartedAt time.Time
}

// StartupResult is hyperfine's timing of `INIT -- /bin/true`.
type StartupResult struct {
	Name               string
	Command            string
	MedianMs, P25, P75 float64
	MinMs, MaxMs       float64
	OverheadMs, Runs   float64
}

// LatencyResult is the time from kill(INIT, SIGUSR1) until the child's
// handler has answered.
type LatencyResult struct {
	Name                string
	P50us, P99us, MaxUs float64
	Samples             int
}

// MemoryResult is the init's idle footprint with a sleeping child.
type MemoryResult struct {
	Name           string
	RSSKiB, PSSKiB int
	BinaryBytes    int64
	Binary         string
}

// ReapResult is how long the init took to reap 10,000 orphans handed to it.
type ReapResult struct {
	Name                   string
	MedianMs, MinMs, MaxMs float64
	Runs                   int
}

// StormResult is how the init passes on 1000 queued real-time signals, and
// how long after its child's exit it exits while two senders flood it.
type StormResult struct {
	Name                            string
	Sent, Delivered                 int
	ExitLateMedianMs, ExitLateMaxMs float64
	WrongCodes, Runs                int
}

// QuietIdleResult is what the init used while its child held thousands of
// connections: the quiet step's cost while the app runs.
type QuietIdleResult struct {
	Name        string
	Sockets     int
	Seconds     float64
	CPUMsPerSec float64
	RSSKiB      int
	Threads     int
}

// IdleResult is what the init used while its child slept.
type IdleResult struct {
	Name            string
	Seconds         float64
	CPUMs           float64
	ContextSwitches int
}

// Rollout is bench/results/rollout.json.
type Rollout struct {
	Rate     int
	Grace    string
	Runs     int
	Results  []RolloutResult
	Restarts []RestartResult
}

// RestartResult is one restart of an instance on the same address after a
// drain, beside a stable one: how soon callers list it again.
type RestartResult struct {
	Variant     string
	Run         int
	Listed      bool          // listed again within the window
	ListedAfter time.Duration // from its registration
	Failed      int64         // requests lost meanwhile (the stable instance serves)
	Sent        int64
}

// K8sRollout is bench/results/rollout-k8s.json: the rolling update in a
// real Kubernetes.
type K8sRollout struct {
	Rate    int // requests a second, in all
	Grace   int // terminationGracePeriodSeconds
	Runs    int
	Results []K8sResult
}

// K8sResult is one rollout under one wrapper, as one kind of caller saw it.
type K8sResult struct {
	Wrapper, Callers string
	Run              int
	Sent, Failed     int64
	Failures         map[string]int64 // refused, reset, timeout...
	// Retried: requests that Go's transport sent a second time, on a new
	// connection, after the server closed a reused one before answering
	// (a GET is replayable: RFC 9110 9.2.2); they succeeded or are in Failed.
	Retried       int64
	Causes        []string  // each old pod's drain, from drainit's log (the step's last line)
	RolloutS      float64   // from kubectl rollout restart to the last old pod gone
	PodStopS      []float64 // each old pod, from its deletion to gone
	KubeletKilled bool      // a container ended by the kubelet's SIGKILL
}

// RolloutResult is one run of one wrapper.
type RolloutResult struct {
	Wrapper  string
	Run      int
	Sent     int64
	Failed   int64
	Failures map[string]int64
	HookDone bool
	StopTook time.Duration // SIGTERM to the old instance's PID 1 exiting
	Status   string
}

// Write stores v as indented JSON in dir/name.
func Write(dir, name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), data, 0o644)
}
