// Package docker runs drainit in real containers under the Docker engine,
// driven by the engine's own commands (docker run, stop, kill), with the
// images that `make docker-images` builds. `make test-docker` runs it; set
// DRAINIT_DOCKER_TESTS=1 to run it by hand.
//
// Every container and network a test creates carries the label
// drainit.test.run and is removed when the test ends, pass or fail.
package docker

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	kit "github.com/drainit/drainit/internal/testsupport/testkit"
)

const (
	testkit = "drainit-testkit:dev"
	javaApp = "drainit-example-java:dev"
	limit   = 60 * time.Second
)

// runID tells this run's containers from another's.
var runID = strconv.Itoa(os.Getpid())

func TestMain(m *testing.M) {
	if os.Getenv("DRAINIT_DOCKER_TESTS") != "1" {
		fmt.Println("e2e/docker: skipped: container tests run under make test-docker (DRAINIT_DOCKER_TESTS=1)")
		os.Exit(0)
	}
	if out, err := exec.Command("docker", "image", "inspect", testkit, javaApp).CombinedOutput(); err != nil {
		fmt.Printf("e2e/docker: the images are missing (make docker-images): %s\n", firstLine(out))
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// docker runs the docker command with args, bounded by limit; it returns
// its combined output.
func docker(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func mustDocker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := docker(t, args...)
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// container is one `docker run -d` under test.
type container struct {
	t    *testing.T
	name string
}

// run starts a detached container; opts go before the image, argv after it.
// It is removed when the test ends.
func run(t *testing.T, opts []string, image string, argv ...string) *container {
	t.Helper()
	name := fmt.Sprintf("drainit-test-%s-%d", runID, time.Now().UnixNano())
	args := append([]string{"run", "-d", "--name", name, "--label", "drainit.test.run=" + runID}, opts...)
	args = append(append(args, image), argv...)
	c := &container{t: t, name: name}
	t.Cleanup(c.remove)
	mustDocker(t, args...)
	return c
}

func (c *container) remove() {
	exec.Command("docker", "rm", "-f", c.name).Run()
}

func (c *container) logs() string {
	out, _ := docker(c.t, "logs", c.name)
	return out
}

// waitLog waits until the container's output contains want.
func (c *container) waitLog(want string) {
	c.t.Helper()
	waitFor(c.t, limit, fmt.Sprintf("%q in the logs", want), func() bool { return strings.Contains(c.logs(), want) })
}

// exitCode waits for the container to stop and returns its exit code.
func (c *container) exitCode() int {
	c.t.Helper()
	out := mustDocker(c.t, "wait", c.name)
	code, err := strconv.Atoi(out)
	if err != nil {
		c.t.Fatalf("docker wait %s: %q", c.name, out)
	}
	return code
}

func (c *container) expectExit(want int) {
	c.t.Helper()
	if got := c.exitCode(); got != want {
		c.t.Fatalf("exit code %d, want %d\nlogs:\n%s", got, want, c.logs())
	}
}

// stop runs docker stop with the given -t and returns how long it took.
func (c *container) stop(timeout int) time.Duration {
	c.t.Helper()
	start := time.Now()
	mustDocker(c.t, "stop", "-t", strconv.Itoa(timeout), c.name)
	return time.Since(start)
}

func (c *container) ip(network string) string {
	c.t.Helper()
	return mustDocker(c.t, "inspect", "-f", "{{(index .NetworkSettings.Networks \""+network+"\").IPAddress}}", c.name)
}

// network creates a Docker network for the test and removes it at the end.
func network(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("drainit-test-%s-%d", runID, time.Now().UnixNano())
	mustDocker(t, "network", "create", "--label", "drainit.test.run="+runID, name)
	t.Cleanup(func() { exec.Command("docker", "network", "rm", name).Run() })
	return name
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	kit.Poll(t, limit, 100*time.Millisecond, what, cond)
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(bytes.TrimSpace(b), []byte("\n"))
	return string(line)
}

// pidsCgroup is the container's pids cgroup.
func (c *container) pidsCgroup() kit.PidsCgroup {
	c.t.Helper()
	pid, err := strconv.Atoi(mustDocker(c.t, "inspect", "-f", "{{.State.Pid}}", c.name))
	if err != nil {
		c.t.Fatal(err)
	}
	return kit.PidsCgroupOf(c.t, pid)
}
