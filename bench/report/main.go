// Command report turns bench/results/{rollout,costs}.json into
// docs/benchmarks.md and its charts (rendered by gnuplot), and puts the
// headline rollout result on the README's first screen. Every figure in the
// page comes from those files.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/drainit/drainit/bench/benchdata"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run() error {
	var rollout benchdata.Rollout
	var costs benchdata.Costs
	if err := readJSON("bench/results/rollout.json", &rollout); err != nil {
		return err
	}
	if err := readJSON("bench/results/costs.json", &costs); err != nil {
		return err
	}
	if err := os.MkdirAll("docs/img", 0o755); err != nil {
		return err
	}
	rows := summarize(rollout)
	if err := plotRollout(rows); err != nil {
		return err
	}
	if err := plotCosts(costs); err != nil {
		return err
	}
	sections := []string{header(costs)}
	line := headline(rollout, rows)
	var k8s benchdata.K8sRollout
	if readJSON("bench/results/rollout-k8s.json", &k8s) == nil {
		k8sRows, callers := summarizeK8s(k8s)
		if err := plotK8s(k8sRows, callers); err != nil {
			return err
		}
		sections = append(sections, k8sSection(k8s, k8sRows, callers))
		line = k8sHeadline(k8s, k8sRows) + line
		if err := updateBlock("bench:k8s", k8sReadmeTable(k8sRows)); err != nil {
			return err
		}
	}
	sections = append(sections, rolloutSection(rollout, rows))
	var docker benchdata.Rollout
	if readJSON("bench/results/rollout-docker.json", &docker) == nil {
		sections = append(sections, dockerSection(docker, summarize(docker)))
	}
	sections = append(sections, costsSection(costs), behindSection(costs))
	page := strings.Join(sections, "\n")
	if err := os.WriteFile("docs/benchmarks.md", []byte(page), 0o644); err != nil {
		return err
	}
	return updateBlock("bench:headline", line)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w (run make bench)", err)
	}
	return json.Unmarshal(data, v)
}

// output runs a command and returns its first line, for the versions table.
func output(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil && len(out) == 0 {
		return "not found"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// updateBlock replaces what stands between <!-- name --> and
// <!-- /name --> in the README.
func updateBlock(name, content string) error {
	data, err := os.ReadFile("README.md")
	if err != nil {
		return err
	}
	text := string(data)
	open, end := "<!-- "+name+" -->", "<!-- /"+name+" -->"
	start, stop := strings.Index(text, open), strings.Index(text, end)
	if start < 0 || stop < start {
		return fmt.Errorf("README.md has no %s ... %s markers", open, end)
	}
	text = text[:start+len(open)] + content + text[stop:]
	return os.WriteFile("README.md", []byte(text), 0o644)
}
