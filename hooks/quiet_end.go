package hooks

import (
	"context"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/internal/sockdiag"
)

// connEnder ends the app's kept-alive connections that callers still use
// while they are idle between requests, so that each caller shows how it
// routes: a caller through a Service reconnects through it and kube-proxy,
// which no longer picks a terminating pod, sends it elsewhere; a caller
// that routes by the pod's address (a registry's list) reconnects here,
// and is still counted, until its list drops the pod. Left alone, a
// kept-alive connection through a Service never ends: kube-proxy does not
// break established connections, so the step would wait its maximum.
//
// A connection is ended with shutdown(2) on a duplicate of the app's
// socket (App.TakeSockets), only when the app has answered its last
// request and the answer has been acknowledged, checked on the socket
// itself just before: the peer sees the server close an idle connection,
// as at any keep-alive timeout. Rounds come every endEvery from endAfter
// on, each taking every connection the callers hold open, those idle in a
// pool too (a client takes them up again later); the first at once would
// only see callers come back before kube-proxy has synced (about a second
// after the pod's deletion).
type connEnder struct {
	app     App
	next    time.Time
	pending map[connKey]bool
	ended   int
	refused error // the kernel's refusal to duplicate the app's sockets
}

const (
	endAfter = 500 * time.Millisecond
	endEvery = 500 * time.Millisecond
)

func newConnEnder(app App, began time.Time) *connEnder {
	return &connEnder{app: app, next: began.Add(endAfter), pending: map[connKey]bool{}}
}

// poll ends what it can of the pending connections in socks, after
// starting a new round when one is due.
func (e *connEnder) poll(ctx context.Context, env *runEnv, t *tracker, socks []sockdiag.Socket, now time.Time) {
	if e == nil || e.refused != nil {
		return
	}
	if !now.Before(e.next) {
		for _, s := range t.callers(socks) {
			if s.State == sockdiag.Established && !t.probes.fromNode(s) {
				e.pending[connKey{s.Local, s.Remote}] = true
			}
		}
		e.next = now.Add(endEvery)
		e.logRound(env, t, socks)
	}
	if len(e.pending) == 0 {
		return
	}
	idle := map[uint32]bool{}
	still := map[connKey]bool{}
	for _, s := range t.callers(socks) {
		key := connKey{s.Local, s.Remote}
		if !e.pending[key] || s.State != sockdiag.Established {
			continue
		}
		still[key] = true
		if s.Answered() && s.Inode != 0 {
			idle[s.Inode] = true
		}
	}
	e.pending = still
	if len(idle) == 0 {
		return
	}
	files, err := e.app.TakeSockets(idle)
	before := e.ended
	for _, f := range files {
		e.end(f)
	}
	if e.ended > before {
		env.log.Debug(logging.QuietEnded, "connections", e.ended-before, "idle", len(idle), "pending", len(e.pending))
	}
	if err != nil {
		e.refused = err
		env.log.Log(ctx, logging.LevelNotice, logging.QuietCannotEnd, "reason", err,
			"needs", "ptrace access to the app: no seccomp profile (the kubelet's default), or capabilities add SYS_PTRACE under RuntimeDefault")
	}
}

// logRound says, at debug level, which connections the round waits on
// and in what state.
func (e *connEnder) logRound(env *runEnv, t *tracker, socks []sockdiag.Socket) {
	var states []string
	for _, s := range t.callers(socks) {
		if e.pending[connKey{s.Local, s.Remote}] {
			states = append(states, fmt.Sprintf("%s inode=%d rq=%d wq=%d sent=%dms recv=%dms", s.Remote, s.Inode, s.RQueue, s.WQueue, s.LastDataSent, s.LastDataRecv))
		}
	}
	if len(states) > 0 {
		env.log.Debug(logging.QuietEndRound, "pending", states)
	}
}

// waiting: a connection is to be ended once idle.
func (e *connEnder) waiting() bool { return e != nil && e.refused == nil && len(e.pending) > 0 }

// end shuts an idle connection down, for both sides of the app's socket:
// the peer gets a FIN and the app's next read an end of file.
func (e *connEnder) end(f *os.File) {
	defer f.Close()
	fd := int(f.Fd())
	if sockdiag.AnsweredFD(fd) && unix.Shutdown(fd, unix.SHUT_RDWR) == nil {
		e.ended++
	}
}

// way says how kept-alive connections were dealt with, for the log and
// the Event.
func (e *connEnder) way() string {
	switch {
	case e == nil:
		return "left alone (DRAINIT_QUIET_END_IDLE=false)"
	case e.refused != nil:
		return "could not be ended (" + e.refused.Error() + ")"
	}
	return "ended when idle"
}
