package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every drain configuration a user can copy from the README or the
// examples passes drainit check: the steps fit in the grace period with the
// app's share.
func TestEverySnippetPassesCheck(t *testing.T) {
	readme := readFile(t, "../README.md")
	deployment := yamlEnv(readFile(t, "../examples/legacy-java/deployment.yaml"))
	password := filepath.Join(t.TempDir(), "password")
	os.WriteFile(password, []byte("s3cret"), 0o600)
	registries := map[string]string{"DRAINIT_NACOS_ADDR": "127.0.0.1:8848", "DRAINIT_NACOS_SERVICE": "demo",
		"DRAINIT_NACOS_PORT": "8080", "DRAINIT_NACOS_IP": "10.0.0.5", "DRAINIT_EUREKA_URL": "http://127.0.0.1:8761/eureka",
		"DRAINIT_EUREKA_APP": "DEMO", "DRAINIT_EUREKA_INSTANCE_ID": "demo-1", "DRAINIT_CONSUL_SERVICE_ID": "demo"}
	snippets := map[string]map[string]string{}
	// Inline in the prose: the steps, against the example Deployment's numbers.
	for i, m := range regexp.MustCompile("`DRAINIT_PRESTOP=\"([^\"]+)\"`").FindAllStringSubmatch(readme, -1) {
		snippets["README inline #"+string(rune('1'+i))] = merge(registries, map[string]string{
			"DRAINIT_PRESTOP": m[1], "DRAINIT_GRACE_PERIOD": deployment["DRAINIT_GRACE_PERIOD"],
			"DRAINIT_STOP_TIMEOUT": deployment["DRAINIT_STOP_TIMEOUT"]})
	}
	for i, block := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(readme, -1) {
		if env := yamlEnv(block[1]); env["DRAINIT_PRESTOP"] != "" {
			snippets["README yaml #"+string(rune('1'+i))] = merge(registries, env)
		}
	}
	snippets["examples/legacy-java/deployment.yaml"] = merge(registries, deployment, map[string]string{"DRAINIT_NACOS_PASSWORD_FILE": password})
	snippets["examples/legacy-java/Dockerfile"] = merge(registries, dockerfileEnv(readFile(t, "../examples/legacy-java/Dockerfile")))
	if len(snippets) < 4 {
		t.Fatalf("found only %d snippets: %v", len(snippets), snippets)
	}
	for name, env := range snippets {
		check := exec.Command(drainit, "check")
		for k, v := range env {
			check.Env = append(check.Env, k+"="+v)
		}
		out, err := check.CombinedOutput()
		if err != nil {
			t.Errorf("%s: drainit check failed: %v\n%s", name, err, out)
		}
	}
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// yamlEnv reads a container's env list, in either form: {name: X, value: "Y"}
// or name: X / value: "Y" on two lines. A grace period in seconds is taken
// as DRAINIT_GRACE_PERIOD when the list has none.
func yamlEnv(text string) map[string]string {
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`\{name: (\w+), value: "([^"]*)"\}`).FindAllStringSubmatch(text, -1) {
		env[m[1]] = m[2]
	}
	for _, m := range regexp.MustCompile(`- name: (\w+)\n\s+value: "([^"]*)"`).FindAllStringSubmatch(text, -1) {
		env[m[1]] = m[2]
	}
	if m := regexp.MustCompile(`terminationGracePeriodSeconds: (\d+)`).FindStringSubmatch(text); m != nil && env["DRAINIT_GRACE_PERIOD"] == "" {
		env["DRAINIT_GRACE_PERIOD"] = m[1]
	}
	return env
}

// dockerfileEnv reads the ENV instruction's KEY=VALUE pairs.
func dockerfileEnv(text string) map[string]string {
	env := map[string]string{}
	start := strings.Index(text, "\nENV ")
	if start < 0 {
		return env
	}
	block := text[start:]
	if end := strings.Index(block[1:], "\n\n"); end > 0 {
		block = block[:end+1]
	}
	block = strings.ReplaceAll(block, "\\\n", " ")
	for _, m := range regexp.MustCompile(`(\w+)=("[^"]*"|\S+)`).FindAllStringSubmatch(block, -1) {
		env[m[1]] = strings.Trim(m[2], `"`)
	}
	return env
}
