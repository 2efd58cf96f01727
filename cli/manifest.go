package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
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
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec objectSpec `yaml:"spec"`
}

type objectSpec struct {
	Replicas *int `yaml:"replicas"`
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
	Name           string   `yaml:"name"`
	Command        []string `yaml:"command"`
	Args           []string `yaml:"args"`
	Env            []envVar `yaml:"env"`
	ReadinessProbe any      `yaml:"readinessProbe"`
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
	} `yaml:"valueFrom"`
}

var workloads = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "Job": true, "Pod": true}

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
	for i, obj := range objects {
		spec := obj.Spec.Template.Spec
		if obj.Kind == "Pod" {
			spec = obj.Spec.podSpec
		}
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
	if found == 0 {
		fmt.Fprintf(os.Stderr, "drainit check: %s: no container runs drainit (no DRAINIT_* setting, no drainit in command)\n", path)
		return 2
	}
	if problems > 0 {
		return 2
	}
	fmt.Println("ok")
	return 0
}

func readManifests(path string) ([]object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var out []object
	for {
		var obj object
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(out)+1, err)
		}
		if workloads[obj.Kind] {
			out = append(out, obj)
		} else {
			out = append(out, object{Kind: obj.Kind}) // counted, not checked
		}
	}
}

func runsDrainit(c container) bool {
	for _, e := range c.Env {
		if strings.HasPrefix(e.Name, "DRAINIT_") {
			return true
		}
	}
	for _, word := range append(append([]string{}, c.Command...), c.Args...) {
		if name := filepath.Base(word); name == "drainit" {
			return true
		}
	}
	return false
}

func containerField(kind string, i int) string {
	if kind == "Pod" {
		return fmt.Sprintf("spec.containers[%d]", i)
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
	environ, inline := containerEnv(c)
	podGrace := int64(30)
	if spec.TerminationGracePeriodSeconds != nil {
		podGrace = *spec.TerminationGracePeriodSeconds
	}
	hook := preStopSleep(c)
	left := time.Duration(podGrace)*time.Second - hook
	_, graceSet := environ["DRAINIT_GRACE_PERIOD"]
	if !graceSet {
		environ["DRAINIT_GRACE_PERIOD"] = left.String()
	}
	s, err := p.configure(nil, environ, false)
	if err != nil {
		fail("%s.env: %v", field, err)
		return out
	}
	plan, err := s.drainPlan(environ)
	if err != nil {
		fail("%s.env: %v", field, err)
		return out
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

// containerEnv is the container's settings: literal values, and
// placeholders for what the Downward API gives. inline names the
// secret-looking variables written as literal values.
func containerEnv(c container) (environ map[string]string, inline []string) {
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
		case e.ValueFrom != nil:
			environ[e.Name] = "from-the-pod"
		}
	}
	if file := environ["DRAINIT_NACOS_PASSWORD_FILE"]; file != "" {
		// Mounted in the pod, not here: check the rest.
		delete(environ, "DRAINIT_NACOS_PASSWORD_FILE")
		environ["DRAINIT_NACOS_PASSWORD"] = "from-a-file"
	}
	return environ, inline
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
