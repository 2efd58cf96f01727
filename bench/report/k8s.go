package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/drainit/drainit/bench/benchdata"
)

// k8sRow is one wrapper's rollouts in the cluster, by kind of caller.
type k8sRow struct {
	wrapper  string
	runs     int
	failed   map[string][]int64 // by kind of caller
	sent     map[string][]int64
	kinds    map[string]map[string]int64
	rollout  []float64
	podStops []float64
	killed   int // rollouts where the kubelet had to SIGKILL
	retried  map[string][]int64
	causes   []string // drainit's lines that end its steps, every old pod of every run
}

func summarizeK8s(r benchdata.K8sRollout) ([]*k8sRow, []string) {
	var rows []*k8sRow
	var callers []string
	byName := map[string]*k8sRow{}
	seenRun := map[string]bool{}
	for _, res := range r.Results {
		w := byName[res.Wrapper]
		if w == nil {
			w = &k8sRow{wrapper: res.Wrapper, failed: map[string][]int64{}, sent: map[string][]int64{}, kinds: map[string]map[string]int64{},
				retried: map[string][]int64{}}
			byName[res.Wrapper] = w
			rows = append(rows, w)
		}
		if !slices.Contains(callers, res.Callers) {
			callers = append(callers, res.Callers)
		}
		w.failed[res.Callers] = append(w.failed[res.Callers], res.Failed)
		w.sent[res.Callers] = append(w.sent[res.Callers], res.Sent)
		w.retried[res.Callers] = append(w.retried[res.Callers], res.Retried)
		if w.kinds[res.Callers] == nil {
			w.kinds[res.Callers] = map[string]int64{}
		}
		for k, n := range res.Failures {
			w.kinds[res.Callers][k] += n
		}
		key := fmt.Sprintf("%s/%d", res.Wrapper, res.Run)
		if !seenRun[key] { // one rollout, seen by each kind of caller
			seenRun[key] = true
			w.runs++
			w.rollout = append(w.rollout, res.RolloutS)
			w.podStops = append(w.podStops, res.PodStopS...)
			w.causes = append(w.causes, res.Causes...)
			if res.KubeletKilled {
				w.killed++
			}
		}
	}
	return rows, callers
}

// quietCauses sums up how the quiet step ended on each old pod, as its
// log says: by silence or at its maximum, with the kept-alive connections
// it ended and the probes it let pass.
func quietCauses(lines []string) string {
	var silent, atMax, ended, probes int
	var notEnded []string
	for _, l := range lines {
		switch {
		case strings.Contains(l, `msg="quiet: callers have stopped"`):
			silent++
		case strings.Contains(l, `msg="quiet: maximum reached`):
			atMax++
		default:
			continue
		}
		ended += intField(l, "connections_ended=")
		probes += intField(l, "probes_passed=")
		if i := strings.Index(l, `kept_alive="could not be ended (`); i >= 0 && len(notEnded) == 0 {
			reason := l[i+len(`kept_alive="could not be ended (`):]
			notEnded = append(notEnded, reason[:strings.Index(reason+`)"`, `)"`)])
		}
	}
	if silent+atMax == 0 {
		return ""
	}
	text := fmt.Sprintf("callers stopped %d, maximum %d; %d kept-alive connection(s) ended, %d probe(s) passed", silent, atMax, ended, probes)
	if len(notEnded) > 0 {
		text += "; could not end them: " + notEnded[0]
	}
	return text
}

func intField(line, key string) int {
	i := strings.Index(line, key)
	if i < 0 {
		return 0
	}
	var n int
	fmt.Sscanf(line[i+len(key):], "%d", &n)
	return n
}

func medianF(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func k8sSection(r benchdata.K8sRollout, rows []*k8sRow, callers []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## 1. Rolling update in a real Kubernetes\n\n")
	fmt.Fprintf(&b, "`make bench-k8s` (`go run ./bench/rollout -k8s -rate %d`), on the single-node cluster `make k8s-up` "+
		"starts (Kubernetes v1.34.4 built from the module proxy; kubelet, kube-proxy in iptables mode, containerd, a bridge "+
		"network), on a 2-core machine: a Deployment of the JVM service behind its legacy `start.sh`, 3 replicas, maxSurge 1, "+
		"maxUnavailable 0, a readiness probe every 2 s, `terminationGracePeriodSeconds: %d`, rolled with `kubectl rollout "+
		"restart`. The callers run in a pod of the cluster, as real callers do (their address is a pod's; the kubelet's "+
		"probes come from the node's side), %d requests/s in all, a third each: through the Service's ClusterIP with a new "+
		"connection per request, through it over kept-alive connections, and to the pods the fake Nacos in the cluster lists "+
		"(it drops an instance 3 s after its last heartbeat) with caches of 1 s (a connection per request), 2 s and 6 s "+
		"(kept-alive). Rows marked *service* have the ClusterIP callers alone, *registry* the registry's alone, *both* all "+
		"three with the service in its Tomcat mode (a request that arrives on a kept-alive connection once the shutdown began "+
		"is rejected, the connection closed unanswered, as Spring Boot's graceful shutdown on Tomcat does). The service stops "+
		"as Spring Boot's graceful shutdown does (requests in flight finish, then the server closes), then deregisters itself. "+
		"drainit runs with the env of examples/legacy-java/deployment.yaml and its Role, and no setting about the network. "+
		"Callers use Go's HTTP client with a 2 s timeout; it retries a GET once, on a new connection, when the server closed "+
		"a reused one before answering (RFC 9110 9.2.2): *retried* counts those, which succeeded or are in *failed*. "+
		"failed is the median of the rows' rollouts (1 or 2, the n column); every row's drain is read from drainit's log "+
		"(each old pod's, followed from its deletion).\n\n", r.Rate, r.Grace, r.Rate)
	b.WriteString("| wrapper |")
	for _, c := range callers {
		fmt.Fprintf(&b, " failed: %s |", c)
	}
	b.WriteString(" n | how (all runs) | retried (all runs) | rollout (median) | old pod, deletion to gone (median, range) | kubelet SIGKILL | quiet, from drainit's log (every old pod) |\n|---|")
	for range callers {
		b.WriteString("---|")
	}
	b.WriteString("---|---|---|---|---|---|---|\n")
	for _, w := range rows {
		fmt.Fprintf(&b, "| %s |", w.wrapper)
		kinds := map[string]int64{}
		for _, c := range callers {
			if len(w.sent[c]) == 0 {
				b.WriteString(" |")
				continue
			}
			fmt.Fprintf(&b, " %d of %d |", median(w.failed[c]), median(w.sent[c]))
			for k, n := range w.kinds[c] {
				kinds[k] += n
			}
		}
		var how []string
		for _, k := range []string{"refused", "reset", "timeout", "non-2xx", "no instance", "other"} {
			if kinds[k] > 0 {
				how = append(how, fmt.Sprintf("%s %d", k, kinds[k]))
			}
		}
		var retried int64
		for _, c := range callers {
			for _, n := range w.retried[c] {
				retried += n
			}
		}
		fmt.Fprintf(&b, " %d | %s | %d | %.1f s | %.1f s (%.1f to %.1f) | %d of %d | %s |\n", w.runs, strings.Join(how, ", "), retried, medianF(w.rollout),
			medianF(w.podStops), slices.Min(w.podStops), slices.Max(w.podStops), w.killed, w.runs, quietCauses(w.causes))
	}
	b.WriteString("\n![failed requests per wrapper and kind of caller](img/rollout-k8s.svg)\n")
	b.WriteString(k8sWhy)
	return b.String()
}

// k8sWhy reads the table (written from the runs of 2026-12-07 on commit
// 66f0044, whose drain is HEAD's; the figures above are regenerated, this
// reading is not).
const k8sWhy = `
**Reading it** (every figure from one bench of the binary built at 66f0044; the commits after it change no
drain step: the Events' timing, GOMAXPROCS, check -f, logging names).
*Callers through the Service alone.* A deleted pod leaves the Service's endpoints at once and kube-proxy
rewrites its rules about a second later (here, on a loaded 2-core node, 1 to 2.6 s, from drainit's log). tini
loses what reaches the JVM in that time once it has died (refused, reset). The native preStop sleep 5 waits
out the sync and loses nothing, always 5 s. drainit's quiet, with no setting about the network, goes on 3 s
after the last caller: it lets the kubelet's probes pass (from the node's side, as their periods explain:
probes_passed in its log), and ends the kept-alive connections through the Service while they are idle
(7 to 10 per pod), so that those callers reconnect to other pods instead of holding it to its maximum as
before (30 s). Each old pod went in 6.6 to 8.2 s (median 7.0), beside 5.9 to 7.9 s (median 6.9) for the sleep
5: as fast at equal loss, not faster on this machine. The 6 s the issue asked for is not reached: 1 to 2.6 s
for kube-proxy, 3 s of quiet, and about 1.7 s from the app's SIGTERM to the pod's removal (the JVM's stop and
the kubelet's teardown, which the sleep 5 row pays too: 5 s, gone at 6.9). Ending a kept-alive connection
races a request the caller sends at that instant: 2 of about 9,000 requests were retried, and none lost.
*Registry callers alone.* The native sleep 5 does not deregister: callers with a 6 s cache keep sending to
a pod that is gone (414 failed). The seed's hook deregisters first and loses nothing, in 32 s. drainit's
nacos + quiet deregisters, ends the kept-alive connections the registry's callers reuse (they come back
until their cache drops the pod, and are counted), and goes on 3 s after the last: 6.0 to 10.1 s, median 9,
and nothing lost in 2 rollouts.
*Both at once, the app in Tomcat's way.* Requests on kept-alive connections after the shutdown began are
rejected: under the sleep 5 the JVM's shutdown meets the kept-alive callers (15 retried) and the registry's
(354 failed). drainit ends those connections while idle before the app's shutdown: nothing lost, 8.8 to
9.8 s. *With seccompProfile RuntimeDefault* the kernel refuses pidfd_getfd (no CAP_SYS_PTRACE): drainit says
so in its log and the Event (kept_alive="could not be ended (pidfd_getfd(pid 16, fd 13): operation not permitted)"), the
kept-alive callers hold quiet to its 30 s maximum, as before, and nothing is lost either (the Tomcat
rejection comes after the callers had moved on: 3 retried). capabilities add SYS_PTRACE gives the first row's
behaviour under RuntimeDefault.
`

func plotK8s(rows []*k8sRow, callers []string) error {
	var data strings.Builder
	for i, w := range rows {
		fmt.Fprintf(&data, "%d \"%s\"", i, w.wrapper)
		for _, c := range callers {
			if len(w.failed[c]) == 0 {
				data.WriteString(" ?") // this row had no such callers
				continue
			}
			fmt.Fprintf(&data, " %d", median(w.failed[c]))
		}
		data.WriteString("\n")
	}
	if err := os.WriteFile("docs/img/rollout-k8s.dat", []byte(data.String()), 0o644); err != nil {
		return err
	}
	var plots []string
	colours := []string{"#c0392b", "#e67e22", "#2980b9"}
	for i, c := range callers {
		plots = append(plots, fmt.Sprintf(`"docs/img/rollout-k8s.dat" using %d:xtic(2) title "%s" lc rgb "%s"`, i+3, c, colours[i%len(colours)]))
	}
	return gnuplot(`set terminal svg size 1200,560 font "sans,11"
set output "docs/img/rollout-k8s.svg"
set title "Failed requests during a rolling update in Kubernetes (median of the rollouts)"
set ylabel "failed requests"
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.7
set yrange [0:*]
set xtics rotate by -20
set grid ytics
set key top right
plot ` + strings.Join(plots, ", \\\n     ") + "\n")
}

// k8sHeadline is the README's line on the Kubernetes rollout.
func k8sHeadline(r benchdata.K8sRollout, rows []*k8sRow) string {
	var parts []string
	for _, w := range rows {
		parts = append(parts, fmt.Sprintf("%s %d failed, pods gone in %.1f s", w.wrapper, failedInAll(w), medianF(w.podStops)))
	}
	return fmt.Sprintf("\n**Rolling update in a real Kubernetes** (`make bench-k8s`: a 3-replica Deployment of a JVM behind a legacy "+
		"start.sh rolled under %d requests/s from callers in a pod, through its ClusterIP (*service*), a registry (*registry*) "+
		"or both with a Tomcat-style app; median requests failed and median time from an old pod's deletion to its removal): %s. "+
		"[Numbers, method, the unshare and Docker benches](docs/benchmarks.md).\n", r.Rate, strings.Join(parts, "; "))
}

// failedInAll is the median, over a row's rollouts, of the requests that
// failed for every kind of caller together.
func failedInAll(w *k8sRow) int64 {
	var total []int64
	for i := range w.rollout {
		var sum int64
		for _, fails := range w.failed {
			if i < len(fails) {
				sum += fails[i]
			}
		}
		total = append(total, sum)
	}
	return median(total)
}

// k8sReadmeTable is the README's table of the Kubernetes rollout.
func k8sReadmeTable(rows []*k8sRow) string {
	var b strings.Builder
	b.WriteString("\n| callers: wrapper | failed (median, all callers) | retried | old pod, deletion to gone (median) | drainit's quiet |\n|---|---|---|---|---|\n")
	for _, w := range rows {
		var retried int64
		for _, n := range w.retried {
			for _, x := range n {
				retried += x
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %.1f s | %s |\n", w.wrapper, failedInAll(w), retried, medianF(w.podStops), quietCauses(w.causes))
	}
	return b.String()
}
