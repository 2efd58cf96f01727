package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/drainit/drainit/internal/redact"
)

// Words maps a drainit event (its message) to the line a peer prints for
// it, built from the event's attributes.
type Words map[string]func(attrs map[string]slog.Value) string

// Voice speaks as a peer does, for a personality whose users and tests read
// that peer's lines: each event in words becomes prefix(level) + the peer's
// line; other events keep drainit's own line, unless quiet drops them (a
// peer that prints nothing else at that level).
type Voice struct {
	Prefix func(level slog.Level) string
	Words  Words
	Quiet  func(level slog.Level) bool
}

// NewVoice writes one line per event to w in voice v, at verbosity, with
// secrets masked.
func NewVoice(w io.Writer, verbosity int, v Voice, secrets *redact.Secrets) *slog.Logger {
	w = redactingWriter{w, secrets}
	own := slog.NewTextHandler(prefixWriter{w: w, prefix: "drainit: "}, &slog.HandlerOptions{Level: levelFor(verbosity), ReplaceAttr: nameNotice})
	return slog.New(&voiceHandler{own: own, w: w, v: v, mu: &sync.Mutex{}})
}

type voiceHandler struct {
	own   slog.Handler
	w     io.Writer
	v     Voice
	mu    *sync.Mutex
	attrs []slog.Attr
}

func (h *voiceHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.own.Enabled(ctx, level)
}

func (h *voiceHandler) Handle(ctx context.Context, r slog.Record) error {
	say, ok := h.v.Words[r.Message]
	if !ok {
		if h.v.Quiet != nil && h.v.Quiet(r.Level) {
			return nil
		}
		return h.own.Handle(ctx, r)
	}
	attrs := map[string]slog.Value{}
	for _, a := range h.attrs {
		attrs[a.Key] = a.Value
	}
	r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.Resolve(); return true })
	line := say(attrs)
	if line == "" {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, h.v.Prefix(r.Level)+strings.TrimSuffix(line, "\n")+"\n")
	return err
}

func (h *voiceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.own = h.own.WithAttrs(attrs)
	c.attrs = append(append([]slog.Attr{}, h.attrs...), attrs...)
	return &c
}

func (h *voiceHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.own = h.own.WithGroup(name)
	return &c
}

// TiniPrefix is how tini marks its lines: "[WARN  tini (PID)] ".
func TiniPrefix(level slog.Level) string {
	name := "DEBUG"
	switch {
	case level >= slog.LevelError:
		name = "FATAL"
	case level >= slog.LevelWarn:
		name = "WARN "
	case level >= slog.LevelInfo:
		name = "INFO "
	}
	return fmt.Sprintf("[%s tini (%d)] ", name, os.Getpid())
}
