package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/drainit/drainit/internal/redact"
	"go.yaml.in/yaml/v3"
)

// The parts of Kubernetes objects drainit check -f reads: workloads
// (Deployment, StatefulSet, DaemonSet, Job, Pod) and, in their pod
// template, the containers that run drainit.
type object struct {
	Kind     string      `yaml:"kind"`
	Items    []yaml.Node `yaml:"items"` // a List's
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec objectSpec `yaml:"spec"`
}

type objectSpec struct {
	Replicas    *int `yaml:"replicas"`
	JobTemplate struct {
		Spec struct {
			Template struct {
				Spec podSpec `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	} `yaml:"jobTemplate"` // a CronJob's
	Strategy struct {
		RollingUpdate struct {
			MaxUnavailable any `yaml:"maxUnavailable"` // a number or a percentage
		} `yaml:"rollingUpdate"`
	} `yaml:"strategy"`
	Template struct {
		Spec podSpec `yaml:"spec"`
	} `yaml:"template"`
	podSpec `yaml:",inline"` // a Pod's own spec
}

type podSpec struct {
	TerminationGracePeriodSeconds *int64      `yaml:"terminationGracePeriodSeconds"`
	AutomountServiceAccountToken  *bool       `yaml:"automountServiceAccountToken"`
	Containers                    []container `yaml:"containers"`
}

type container struct {
	Name    string   `yaml:"name"`
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
	Env     []envVar `yaml:"env"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	ReadinessProbe any `yaml:"readinessProbe"`
	Lifecycle      struct {
		PreStop *struct {
			Exec *struct {
				Command []string `yaml:"command"`
			} `yaml:"exec"`
			Sleep *struct {
				Seconds int64 `yaml:"seconds"`
			} `yaml:"sleep"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
}

type envVar struct {
	Name      string  `yaml:"name"`
	Value     *string `yaml:"value"`
	ValueFrom *struct {
		FieldRef *struct {
			FieldPath string `yaml:"fieldPath"`
		} `yaml:"fieldRef"`
		ConfigMapKeyRef *keyRef `yaml:"configMapKeyRef"`
		SecretKeyRef    *keyRef `yaml:"secretKeyRef"`
	} `yaml:"valueFrom"`
}

type keyRef struct {
	Name string `yaml:"name"`
	Key  string `yaml:"key"`
}

var workloads = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true,
	"Job": true, "CronJob": true, "Pod": true}

// podSpecOf is the pod template of a workload, or a Pod's own spec.
func podSpecOf(obj object) podSpec {
	switch obj.Kind {
	case "Pod":
		return obj.Spec.podSpec
	case "CronJob":
		return obj.Spec.JobTemplate.Spec.Template.Spec
	}
	return obj.Spec.Template.Spec
}

// checkManifests runs drainit check against each container that runs
// drainit in the file's workloads, with the pod's own numbers, and lists
// what does not fit, one line each naming the field. It returns the exit
// code: 2 when something is wrong.
func checkManifests(p personality, path string) int {
	objects, err := readManifests(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "drainit check: %s: %v\n", path, err)
		return 2
	}
	found, problems := 0, 0
	skipped := map[string]int{}
	for i, obj := range objects {
		if !workloads[obj.Kind] {
			skipped[obj.Kind]++
			continue
		}
		spec := podSpecOf(obj)
		for j, c := range spec.Containers {
			if !runsDrainit(c) {
				continue
			}
			found++
			where := fmt.Sprintf("%s %s (document %d), container %s", obj.Kind, obj.Metadata.Name, i+1, c.Name)
			field := containerField(obj.Kind, j)
			lines := checkContainer(p, obj, spec, c, field)
			fmt.Printf("%s:\n", where)
			for _, line := range lines {
				if line.problem {
					problems++
					fmt.Fprintf(os.Stderr, "drainit check: %s: %s\n", path, line.text)
				} else {
					fmt.Print("  " + line.text)
				}
			}
		}
	}
	sayKinds(skipped)
	if found == 0 {
		fmt.Fprintf(os.Stderr, "drainit check: %s: no container runs drainit (no DRAINIT_* setting, no drainit in command, no drainit flags in args)\n", path)
		return 2
	}
	if problems > 0 {
		return 2
	}
	fmt.Println("ok")
	return 0
}

// sayKinds lists the kinds of object that hold no pod, which are not
// checked.
func sayKinds(skipped map[string]int) {
	var kinds []string
	for kind, n := range skipped {
		if kind == "" {
			kind = "(no kind)"
		}
		kinds = append(kinds, fmt.Sprintf("%s %d", kind, n))
	}
	if len(kinds) > 0 {
		sort.Strings(kinds)
		fmt.Printf("not checked (no pod in them): %s\n", strings.Join(kinds, ", "))
	}
}

// readManifests reads every document of the file (- for standard input),
// and the items of a List.
func readManifests(path string) ([]object, error) {
	in := io.Reader(os.Stdin)
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in = f
	}
	data, err := io.ReadAll(io.LimitReader(in, 64<<20))
	if err != nil {
		return nil, err
	}
	objects, err := decodeManifests(data)
	if err == nil {
		return objects, nil
	}
	// One line: the YAML library's errors span several.
	err = errors.New(strings.Join(strings.Fields(err.Error()), " "))
	if line := templateLine(data); line > 0 {
		return nil, fmt.Errorf("%w; this looks like an unrendered template ({{ at line %d): render it first, as in helm template RELEASE CHART | drainit check -f -", err, line)
	}
	return nil, err
}

// templateLine is the first line, not a comment, with a template's {{.
func templateLine(data []byte) int {
	for i, line := range bytes.Split(data, []byte("\n")) {
		if bytes.Contains(line, []byte("{{")) && !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			return i + 1
		}
	}
	return 0
}

func decodeManifests(data []byte) ([]object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []object
	for n := 1; ; n++ {
		var obj object
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", n, err)
		}
		if obj.Kind != "List" {
			out = append(out, obj)
			continue
		}
		for i, item := range obj.Items {
			var o object
			if err := item.Decode(&o); err != nil {
				return nil, fmt.Errorf("document %d, items[%d]: %w", n, i, err)
			}
			out = append(out, o)
		}
	}
}

func runsDrainit(c container) bool {
	for _, e := range c.Env {
		if strings.HasPrefix(e.Name, "DRAINIT_") {
			return true
		}
	}
	if _, ok := drainitArgs(c); ok {
		return true
	}
	for _, word := range append(append([]string{}, c.Command...), c.Args...) {
		if name := filepath.Base(word); name == "drainit" {
			return true
		}
	}
	return false
}

// drainitArgs is drainit's own command line in the container's: the words
// after drainit in command and args, or, with no command (drainit as the
// image's ENTRYPOINT), args that start with an option. It is read as
// drainit reads it, flags and the command after them.
func drainitArgs(c container) ([]string, bool) {
	words := append(append([]string{}, c.Command...), c.Args...)
	start := -1
	for i, w := range words {
		if filepath.Base(w) == "drainit" {
			start = i + 1
			break
		}
	}
	if start < 0 && len(c.Command) == 0 && len(c.Args) > 0 && strings.HasPrefix(c.Args[0], "-") {
		start = 0
	}
	if start < 0 {
		return nil, false
	}
	return words[start:], true
}

func containerField(kind string, i int) string {
	switch kind {
	case "Pod":
		return fmt.Sprintf("spec.containers[%d]", i)
	case "CronJob":
		return fmt.Sprintf("spec.jobTemplate.spec.template.spec.containers[%d]", i)
	}
	return fmt.Sprintf("spec.template.spec.containers[%d]", i)
}

type checkLine struct {
	text    string
	problem bool
}

// checkContainer is one container's plan and problems.
func checkContainer(p personality, obj object, spec podSpec, c container, field string) []checkLine {
	var out []checkLine
	fail := func(format string, args ...any) { out = append(out, checkLine{fmt.Sprintf(format, args...), true}) }
	environ, inline, unknown := containerEnv(c)
	podGrace := int64(30)
	if spec.TerminationGracePeriodSeconds != nil {
		podGrace = *spec.TerminationGracePeriodSeconds
	}
	hook := preStopSleep(c)
	left := time.Duration(podGrace)*time.Second - hook
	if left <= 0 {
		fail("%s.lifecycle.preStop: sleeps %s, no less than terminationGracePeriodSeconds %d: the kubelet kills the container "+
			"at the grace period's end (2 s later for a hook still running), so drainit never gets SIGTERM and nothing drains", field, hook, podGrace)
		return out
	}
	_, graceSet := environ["DRAINIT_GRACE_PERIOD"]
	if !graceSet {
		environ["DRAINIT_GRACE_PERIOD"] = left.String()
	}
	for _, u := range unknown {
		out = append(out, checkLine{text: fmt.Sprintf("%s.env[%s]: from %s, whose value the manifest does not hold: not checked\n", field, u.name, u.from)})
	}
	args, _ := drainitArgs(c)
	s, err := p.configure(args, environ, false)
	if err != nil {
		return append(out, unknownOr(fmt.Sprintf("%s: %v", argsField(field, c), err), unknown, fail)...)
	}
	plan, err := s.drainPlan(environ)
	if err != nil {
		return append(out, unknownOr(fmt.Sprintf("%s.env: %v", field, err), unknown, fail)...)
	}
	if !graceSet {
		s.graceFrom = fmt.Sprintf("terminationGracePeriodSeconds %d less the preStop hook's %s", podGrace, hook)
	}
	out = append(out, checkLine{text: plan.Secrets.String(timeline(s, plan))})
	if s.GracePeriod != left {
		fail("%s.env[DRAINIT_GRACE_PERIOD]=%s disagrees with the pod: terminationGracePeriodSeconds %d less the preStop hook's %s leaves %s",
			field, s.GracePeriod, podGrace, hook, left)
	}
	if problem := overBudget(s, plan); problem != "" {
		fail("%s: %s", field, problem)
	}
	for _, name := range inline {
		fail("%s.env[%s]: a secret written inline: take it from a Secret (valueFrom.secretKeyRef) or a file", field, name)
	}
	if prestop := environ["DRAINIT_PRESTOP"]; redact.Shapes(prestop) != prestop {
		fail("%s.env[DRAINIT_PRESTOP]: a credential written inline in the steps: take it from a Secret", field)
	}
	out = append(out, containerProblems(obj, spec, c, field, environ)...)
	return out
}

// containerProblems are what a pod needs around drainit: probes, the
// Downward API's addresses, a rolling update that keeps pods serving.
func containerProblems(obj object, spec podSpec, c container, field string, environ map[string]string) []checkLine {
	var out []checkLine
	fail := func(format string, args ...any) { out = append(out, checkLine{fmt.Sprintf(format, args...), true}) }
	steps := environ["DRAINIT_PRESTOP"]
	if hasStep(steps, "quiet") && spec.AutomountServiceAccountToken != nil && !*spec.AutomountServiceAccountToken {
		fail("automountServiceAccountToken: false: the quiet step cannot read the pod, so the kubelet's probes would count as callers (mount the token and give the account get on pods)")
	}
	if hasStep(steps, "nacos") && environ["DRAINIT_NACOS_IP"] == "" && fieldRef(c, "POD_IP") != "status.podIP" {
		fail("%s.env: the nacos step without POD_IP from fieldRef status.podIP (or DRAINIT_NACOS_IP): it would guess the instance's address", field)
	}
	if c.ReadinessProbe == nil && obj.Kind != "Job" {
		fail("%s.readinessProbe: none: callers are sent to a pod before it answers, and a rolling update waits for nothing", field)
	}
	if obj.Kind == "Deployment" && allUnavailable(obj.Spec) {
		fail("spec.strategy.rollingUpdate.maxUnavailable lets every old pod go at once: no pod is left to serve while they drain")
	}
	return out
}

// unknownSetting is a variable whose value comes from outside the
// manifest (a ConfigMap, a Secret, envFrom).
type unknownSetting struct{ name, from string }

// containerEnv is the container's settings: literal values, and
// placeholders for what the Downward API gives. inline names the
// secret-looking variables written as literal values; unknown, the
// drainit settings the manifest cannot tell (left unset).
func containerEnv(c container) (environ map[string]string, inline []string, unknown []unknownSetting) {
	environ = map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.Value != nil:
			environ[e.Name] = *e.Value
			if redact.IsSecretName(e.Name) && !strings.HasSuffix(e.Name, "_FILE") && *e.Value != "" {
				inline = append(inline, e.Name)
			}
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && strings.HasSuffix(e.ValueFrom.FieldRef.FieldPath, "IP"):
			environ[e.Name] = "10.0.0.1"
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
			environ[e.Name] = "from-the-pod"
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && redact.IsSecretName(e.Name):
			environ[e.Name] = "from-a-secret" // a credential: its value is no setting to check
		case e.ValueFrom != nil && strings.HasPrefix(e.Name, "DRAINIT_"):
			unknown = append(unknown, unknownSetting{e.Name, refName(e)})
		}
	}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			unknown = append(unknown, unknownSetting{"*", "envFrom ConfigMap " + from.ConfigMapRef.Name})
		case from.SecretRef != nil:
			unknown = append(unknown, unknownSetting{"*", "envFrom Secret " + from.SecretRef.Name})
		}
	}
	if file := environ["DRAINIT_NACOS_PASSWORD_FILE"]; file != "" {
		// Mounted in the pod, not here: check the rest.
		delete(environ, "DRAINIT_NACOS_PASSWORD_FILE")
		environ["DRAINIT_NACOS_PASSWORD"] = "from-a-file"
	}
	return environ, inline, unknown
}

func refName(e envVar) string {
	if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
		return fmt.Sprintf("ConfigMap %s key %s", r.Name, r.Key)
	}
	if r := e.ValueFrom.SecretKeyRef; r != nil {
		return fmt.Sprintf("Secret %s key %s", r.Name, r.Key)
	}
	return "valueFrom"
}

// unknownOr reports problem, unless settings the manifest cannot tell may
// be its cause: then it says the check stopped there, and why.
func unknownOr(problem string, unknown []unknownSetting, fail func(string, ...any)) []checkLine {
	if len(unknown) == 0 {
		fail("%s", problem)
		return nil
	}
	return []checkLine{{text: fmt.Sprintf("not checked further: %s (it may be set from outside the manifest)\n", problem)}}
}

// argsField names where drainit's command line was read.
func argsField(field string, c container) string {
	if len(c.Command) == 0 {
		return field + ".args"
	}
	return field + ".command"
}

func fieldRef(c container, name string) string {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			return e.ValueFrom.FieldRef.FieldPath
		}
	}
	return ""
}

func hasStep(steps, name string) bool {
	return regexp.MustCompile(`(^|[;\n])\s*` + name + `\b`).MatchString(steps)
}

// preStopSleep is how long the preStop hook sleeps before the kubelet's
// SIGTERM: a sleep action, or the sleeps of an exec command.
func preStopSleep(c container) time.Duration {
	hook := c.Lifecycle.PreStop
	switch {
	case hook == nil:
		return 0
	case hook.Sleep != nil:
		return time.Duration(hook.Sleep.Seconds) * time.Second
	case hook.Exec != nil:
		var total time.Duration
		for _, m := range regexp.MustCompile(`\bsleep\s+(\d+)`).FindAllStringSubmatch(strings.Join(hook.Exec.Command, " "), -1) {
			n, _ := strconv.Atoi(m[1])
			total += time.Duration(n) * time.Second
		}
		return total
	}
	return 0
}

// allUnavailable: maxUnavailable of 100%, or at least the replicas.
func allUnavailable(spec objectSpec) bool {
	replicas := 1
	if spec.Replicas != nil {
		replicas = *spec.Replicas
	}
	switch v := spec.Strategy.RollingUpdate.MaxUnavailable.(type) {
	case int:
		return v >= replicas
	case string:
		pct, ok := strings.CutSuffix(v, "%")
		n, err := strconv.Atoi(pct)
		return ok && err == nil && n >= 100
	}
	return false
}
