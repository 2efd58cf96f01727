package logging

// The events drainit logs, one line each. The supervisor and the drain log
// them by these names, and the peers' voices (cli/personality.go) recognise
// them by the same names: a message is renamed here or nowhere.
const (
	// The run: its first debug line says the version and the build.
	Starting = "drainit starting"

	// The child and the tree.
	ChildStarted       = "child started"
	ChildExited        = "child exited"
	ZombieReaped       = "reaped zombie"
	TreeWait           = "waiting for the rest of the process tree"
	TreeKilled         = "time is up; killed the process tree"
	TreeGone           = "process tree gone; exiting"
	GaveUp             = "processes still alive after SIGKILL; exiting anyway"
	SignalForwarded    = "forwarded"
	SignalNotForwarded = "not forwarded"
	SignalRewrittenOff = "dropped by rewrite"
	TerminalHandOff    = "dropped the signal sent by releasing the terminal"
	SignalsLost        = "signals lost: the intake pipe was full while drainit was behind"
	SignalsLostInAll   = "signals lost in all: the intake pipe was full"

	// The stop and the drain, shown at the default verbosity with the time
	// since the drain signal (at).
	DrainStarted   = "drain started"
	DrainNoTime    = "no time left for drain steps: the stop timeout fills the grace period"
	DrainOverdue   = "drain steps did not stop at their deadline; forwarding the signal without them"
	SecondStop     = "second stop signal: skipping the rest of the drain"
	StepStarted    = "drain step started"
	StepDone       = "drain step done"
	StepFailed     = "drain step failed"
	StepCutShort   = "drain step cut short"
	StepsSkipped   = "drain cut short; steps skipped"
	StopForwarded  = "stop signal forwarded"
	StepsOverGrace = "drain steps will be cut short: "
	QuietSampled   = "quiet: the namespace's TCP counters sampled"
	QuietWatching  = "quiet: watching the app's inbound traffic"
	QuietStopped   = "quiet: callers have stopped"
	QuietTraffic   = "quiet: caller traffic"
	QuietEnded     = "quiet: ended idle kept-alive connections"
	QuietEndRound  = "quiet: kept-alive connections to end when idle"
	QuietTooIdle   = "quiet: too little traffic before the drain to tell callers gone from idle; waiting for the maximum"
	QuietMaxIdle   = "quiet: maximum reached (too little traffic before the drain to trust a silence)"
	QuietMaxBusy   = "quiet: maximum reached with callers still sending"
	QuietCut       = "quiet: cut short before callers were silent for the quiet time"
	QuietCannotEnd = "quiet: cannot end the app's idle kept-alive connections; callers that keep them will hold the step to its maximum"
	QuietNoPod     = "quiet: the pod was not read; the kubelet's probes cannot be told from callers"

	// The real deadline, read from the pod when the stop begins.
	DeadlineRead  = "deadline read from the pod; stop replanned"
	DeadlineLater = "the pod allows more time than DRAINIT_GRACE_PERIOD; kept the earlier"
	DeadlineKept  = "deadline not read from the pod; kept the configured grace period"
	ReportSkipped = "no time left to report the stop"
	EventPosted   = "event posted on the pod"
	EventNotSent  = "event not posted"

	// The start, the child's directory and terminal.
	NoWorkingDir     = "cannot read the working directory; staying in it"
	CannotMoveToRoot = "cannot move to /"
	TerminalKept     = "cannot release the terminal"

	// The reaper and the forward.
	WaitidFailed          = "waitid failed"
	Wait4Failed           = "wait4 failed"
	ChildGoneNotForwarded = "child gone; signal not forwarded"

	// The registry steps' start-up work and their waits.
	EurekaNotShownYet    = "eureka: the server took OUT_OF_SERVICE, but its answer to callers does not show it yet (its read cache refreshes every 30 s)"
	EurekaCannotClear    = "eureka: cannot clear the OUT_OF_SERVICE a previous container left"
	EurekaCleared        = "eureka: cleared the OUT_OF_SERVICE a previous container left"
	NacosNeverRegistered = "nacos: the instance never registered; nothing to re-enable"
	NacosCannotRead      = "nacos: cannot read the instance yet"
	NacosCannotReenable  = "nacos: cannot re-enable the instance left disabled"
	NacosReenabled       = "nacos: re-enabled the instance a previous container left disabled"
	QuietNoCounters      = "quiet: cannot read the namespace's TCP counters; the drain will judge by the table alone"

	// The pod.
	PodNotRead = "not reading the pod from the Kubernetes API"
)
