package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/drainit/drainit/bench/benchdata"
)

// row summarizes one wrapper's runs.
type row struct {
	wrapper     string
	runs, hooks int
	sent        []int64
	failed      []int64
	kinds       map[string]int64
	stop        []time.Duration
	statuses    []string
}

func summarize(r benchdata.Rollout) []*row {
	var rows []*row
	byName := map[string]*row{}
	for _, res := range r.Results {
		w := byName[res.Wrapper]
		if w == nil {
			w = &row{wrapper: res.Wrapper, kinds: map[string]int64{}}
			byName[res.Wrapper] = w
			rows = append(rows, w)
		}
		w.runs++
		if res.HookDone {
			w.hooks++
		}
		w.sent = append(w.sent, res.Sent)
		w.failed = append(w.failed, res.Failed)
		w.stop = append(w.stop, res.StopTook)
		for k, n := range res.Failures {
			w.kinds[k] += n
		}
		if !slices.Contains(w.statuses, res.Status) {
			w.statuses = append(w.statuses, res.Status)
		}
	}
	return rows
}

func median[T int64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func rolloutSection(r benchdata.Rollout, rows []*row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## 2. The rollout's model: requests lost while the old instance stops\n\n")
	fmt.Fprintf(&b, "`go run ./bench/rollout -runs %d`: fake Nacos (beat 0.5 s, expiry 3 s), callers refreshing every 1 s and sending "+
		"%d requests/s round-robin (new connection each, no retries), an old and a new JVM instance (JDK 17 `com.sun.net.httpserver`, "+
		"graceful shutdown hook, then deregistration as Spring Cloud does it) behind a legacy `start.sh`, each as PID 1 of its own PID "+
		"namespace under the wrapper. The old one gets SIGTERM from outside its namespace and SIGKILL after the %s grace period; the "+
		"load goes on 5 s after it is gone. %d runs per wrapper; failed shows min / median / max.\n\n", r.Runs, r.Rate, r.Grace, r.Runs)
	b.WriteString(rolloutTable(rows))
	b.WriteString("\nThe kinds add up every run's failures. ![failed requests per wrapper](img/rollout.svg)\n")
	b.WriteString("\n![SIGTERM to exit per wrapper](img/rollout-stop.svg)\n\n")
	b.WriteString("**The adaptive drain** (the two *mixed callers* rows): callers refreshing every 1 s (a new connection per " +
		"request), 2 s and 6 s (kept-alive connections), a third of the rate each, and a kubelet-like probe of the old " +
		"instance every second from 127.0.0.2, which drainit is told is the node (`HOST_IP`). `nacos; sleep 30s` waits its " +
		"30 s whatever the callers do; `nacos; quiet 3s max 30s` goes on 3 s after the last caller (the 6 s one) has moved " +
		"on. Both lose nothing. In this bench every instance shares the host's network namespace, so the quiet step runs " +
		"with `DRAINIT_QUIET_OPENS=false` (the host's PassiveOpens counter is everyone's); in a pod it is the pod's own.\n")
	if hasPrefix(rows, consulPrefix) {
		b.WriteString("\n**A real Consul agent** (the two *consul callers* rows): Consul v1.16.3 (the last release under the MPL-2.0, " +
			"built from the module proxy by `scripts/consul-build.sh`) in `-dev` mode on loopback holds each instance as a service " +
			"definition with an HTTP check every second, as the agent on a node does; callers read " +
			"`/v1/health/service/demo?passing` every second instead of the fake Nacos. Without a drain the old instance stays listed " +
			"until its check fails after it has stopped; the `consul` step puts it in maintenance, which Consul's health answer " +
			"leaves out at once, and forwards SIGTERM 2 s later. Nacos and Eureka servers are Java programs that cannot be had " +
			"on these machines (no registry, no internet): their rows use the fakes in `internal/testsupport/fakeregistry`, which follow what " +
			"their sources do (expiry, `enabled`, caches).\n")
	}
	b.WriteString(restartSection(r))
	b.WriteString("\n")
	b.WriteString("Why: bash as PID 1 ignores SIGTERM, so the JVM is SIGKILLed at the end of the grace period; tini (direct " +
		"child) and tini -g / dumb-init (whole group) exit as soon as bash dies, and the kernel kills the JVM with the namespace, " +
		"before it deregisters; drainit without a drain lets the JVM finish, but the JVM stops accepting before callers have " +
		"noticed; drainit with a drain takes the instance out first and forwards SIGTERM once callers have moved on.\n")
	return b.String()
}

// restartSection is the restart on the same address, when it was run.
func restartSection(r benchdata.Rollout) string {
	if len(r.Restarts) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n**Restart on the same address.** The instance is drained, exits, and a new one starts on the same " +
		"ip:port (a liveness restart or OOM kill keeps the pod's IP) while a stable instance serves; Nacos keeps the " +
		"drain's enabled=false 60 s after the old instance went and hands it to the new registration for good. Time from " +
		"the new registration until callers list it (15 s window):\n\n")
	b.WriteString("| variant | listed again | median time | failed requests |\n|---|---|---|---|\n")
	byVariant := map[string][]benchdata.RestartResult{}
	var order []string
	for _, x := range r.Restarts {
		if _, ok := byVariant[x.Variant]; !ok {
			order = append(order, x.Variant)
		}
		byVariant[x.Variant] = append(byVariant[x.Variant], x)
	}
	for _, v := range order {
		var listed int
		var times []time.Duration
		var failed int64
		for _, x := range byVariant[v] {
			if x.Listed {
				listed++
				times = append(times, x.ListedAfter)
			}
			failed += x.Failed
		}
		med := "never"
		if len(times) > 0 {
			med = median(times).Round(time.Millisecond).String()
		}
		fmt.Fprintf(&b, "| %s | %d of %d | %s | %d |\n", v, listed, len(byVariant[v]), med, failed)
	}
	return b.String()
}

// rolloutTable has a row per wrapper.
func rolloutTable(rows []*row) string {
	var b strings.Builder
	b.WriteString("| wrapper | sent (median) | failed (min / median / max) | refused | reset | timeout | non-2xx | JVM hook completed | SIGTERM to exit (median, range) | exit |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, w := range rows {
		lo, hi := slices.Min(w.failed), slices.Max(w.failed)
		fmt.Fprintf(&b, "| %s | %d | %d / %d / %d | %d | %d | %d | %d | %d of %d | %v (%v to %v) | %s |\n",
			w.wrapper, median(w.sent), lo, median(w.failed), hi, w.kinds["refused"], w.kinds["reset"], w.kinds["timeout"], w.kinds["non-2xx"],
			w.hooks, w.runs, median(w.stop).Round(time.Millisecond), slices.Min(w.stop).Round(time.Millisecond),
			slices.Max(w.stop).Round(time.Millisecond), strings.Join(w.statuses, ", "))
	}
	return b.String()
}

// dockerSection is the same rollout across containers, beside the first.
func dockerSection(r benchdata.Rollout, rows []*row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n### 2b. The same rollout across containers\n\n")
	fmt.Fprintf(&b, "`make bench-docker` (`go run ./bench/rollout -docker -runs %d`): the same service, wrappers, registry and "+
		"callers, each in a container of its own under the Docker engine, on a Docker network made for the run, with real "+
		"addresses (the drain finds the container's own address; no `DRAINIT_NACOS_IP`). The old container is stopped with "+
		"`docker stop -t %d`: SIGTERM to PID 1, SIGKILL when the grace period is over. %d requests/s.\n\n",
		r.Runs, int(mustDuration(r.Grace).Seconds()), r.Rate)
	b.WriteString(rolloutTable(rows))
	b.WriteString("\nWhere the two tables differ, and why: every stop takes about 0.4 s longer here (docker stop goes through the " +
		"engine, containerd and runc, and returns once the container's network and cgroup are torn down); and the requests " +
		"lost are mostly timeouts rather than refusals, since a stopped container's address on the Docker network drops " +
		"connection attempts where a closed port on loopback refuses them, so each lost request also holds its caller for the " +
		"client's 2 s timeout. The ranking, and the drains' zero, are the same.\n")
	return b.String()
}

func mustDuration(s string) time.Duration {
	d, _ := time.ParseDuration(s)
	return d
}

// headline is the README's one line on the rollout result.
func headline(r benchdata.Rollout, rows []*row) string {
	var best, worst []string
	var mixed, consul []*row
	for _, w := range rows {
		text := fmt.Sprintf("%s %d", w.wrapper, median(w.failed))
		switch {
		case strings.HasPrefix(w.wrapper, "mixed callers: "):
			mixed = append(mixed, w)
		case strings.HasPrefix(w.wrapper, consulPrefix):
			consul = append(consul, w)
		case strings.HasPrefix(w.wrapper, "drainit, "):
			best = append(best, text)
		default:
			worst = append(worst, text)
		}
	}
	line := fmt.Sprintf("\n**Rolling-update bench** (median requests failed at %d requests/s while one JVM instance behind a legacy "+
		"start.sh is replaced, %d runs each): %s; %s.", r.Rate, r.Runs, strings.Join(worst, ", "), strings.Join(best, ", "))
	if len(mixed) > 0 {
		var parts []string
		for _, w := range mixed {
			parts = append(parts, fmt.Sprintf("`%s` stops in %v with %d failed", strings.TrimPrefix(w.wrapper, "mixed callers: "),
				median(w.stop).Round(100*time.Millisecond), median(w.failed)))
		}
		line += " With callers refreshing every 1, 2 and 6 s: " + strings.Join(parts, ", ") + "."
	}
	if len(consul) > 0 {
		var parts []string
		for _, w := range consul {
			parts = append(parts, fmt.Sprintf("%s %d", strings.TrimPrefix(w.wrapper, consulPrefix), median(w.failed)))
		}
		line += " With a real Consul agent: " + strings.Join(parts, ", ") + "."
	}
	return line + " [Numbers and method](docs/benchmarks.md).\n"
}

// consulPrefix names the rows whose callers read a real Consul agent.
const consulPrefix = "consul callers: "

func hasPrefix(rows []*row, prefix string) bool {
	return slices.ContainsFunc(rows, func(w *row) bool { return strings.HasPrefix(w.wrapper, prefix) })
}

// plotStops charts SIGTERM-to-exit per wrapper: what a drain costs a rollout.
func plotStops(rows []*row) error {
	var data strings.Builder
	for i, w := range rows {
		fmt.Fprintf(&data, "%d \"%s\" %.2f\n", i, w.wrapper, median(w.stop).Seconds())
	}
	if err := os.WriteFile("docs/img/rollout-stop.dat", []byte(data.String()), 0o644); err != nil {
		return err
	}
	return gnuplot(`set terminal svg size 900,420 font "sans,12"
set output "docs/img/rollout-stop.svg"
set title "SIGTERM to the old instance's exit, per wrapper (median)"
set ylabel "seconds"
set style fill solid 0.6
set boxwidth 0.6
set yrange [0:*]
set xtics rotate by -20
set grid ytics
plot "docs/img/rollout-stop.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#2980b9", \
     "" using 1:3:(sprintf("%.1f s", $3)) with labels offset 0,1 notitle
`)
}

func plotRollout(rows []*row) error {
	var data strings.Builder
	for i, w := range rows {
		fmt.Fprintf(&data, "%d \"%s\" %d %d %d\n", i, w.wrapper, median(w.failed), slices.Min(w.failed), slices.Max(w.failed))
	}
	if err := os.WriteFile("docs/img/rollout.dat", []byte(data.String()), 0o644); err != nil {
		return err
	}
	if err := plotStops(rows); err != nil {
		return err
	}
	script := `set terminal svg size 900,420 font "sans,12"
set output "docs/img/rollout.svg"
set title "Failed requests while one instance is replaced (median, min-max)"
set ylabel "failed requests"
set style fill solid 0.6
set boxwidth 0.6
set yrange [0:*]
set xtics rotate by -20
set grid ytics
plot "docs/img/rollout.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#c0392b", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0, \
     "" using 1:3:(sprintf("%d", $3)) with labels offset 0,1 notitle
`
	return gnuplot(script)
}

func gnuplot(script string) error {
	cmd := exec.Command("gnuplot")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gnuplot: %v: %s", err, out)
	}
	return nil
}
