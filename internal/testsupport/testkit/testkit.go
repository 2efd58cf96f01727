// Package testkit holds what the end-to-end suites (e2e, e2e/docker,
// e2e/k8s) share: waiting on a condition and a buffer a running process
// writes to while the test reads it.
package testkit

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// Poll checks cond every interval until it holds, and fails the test once
// limit has passed: tests wait on conditions, never on fixed sleeps.
func Poll(t testing.TB, limit, interval time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(interval)
	}
}

// SyncBuffer lets a test read a process's output while it is still
// running.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
