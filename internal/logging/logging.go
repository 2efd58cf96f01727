// Package logging sets up drainit's slog output: one line per event on
// stderr, marked as drainit's, with a NOTICE level for the drain timeline.
package logging

import (
	"io"
	"log/slog"

	"github.com/drainit/drainit/internal/redact"
)

// LevelNotice sits between INFO and WARN: the drain timeline is shown at the
// default verbosity (operators want it in the pod's logs), the routine start
// and exit of the child are not.
const LevelNotice = slog.LevelInfo + 2

// New writes one line per event to w, with secrets masked. verbosity: 0
// errors, 1 warnings and notices, 2 info, 3 debug.
func New(w io.Writer, verbosity int, format string, secrets *redact.Secrets) *slog.Logger {
	w = redactingWriter{w, secrets}
	opts := &slog.HandlerOptions{Level: levelFor(verbosity), ReplaceAttr: nameNotice}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)).With("logger", "drainit")
	}
	return slog.New(slog.NewTextHandler(prefixWriter{w: w, prefix: "drainit: "}, opts))
}

func levelFor(verbosity int) slog.Level {
	switch {
	case verbosity <= 0:
		return slog.LevelError
	case verbosity == 1:
		return LevelNotice
	case verbosity == 2:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

func nameNotice(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.LevelKey && a.Value.Any() == LevelNotice {
		a.Value = slog.StringValue("NOTICE")
	}
	return a
}

// prefixWriter relies on slog's handlers writing each record in one Write.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	_, err := p.w.Write(append([]byte(p.prefix), b...))
	return len(b), err
}

// redactingWriter masks credentials in every line, whatever its format
// (see package redact): slog's handlers write each record in one Write.
type redactingWriter struct {
	w       io.Writer
	secrets *redact.Secrets
}

func (r redactingWriter) Write(b []byte) (int, error) {
	_, err := io.WriteString(r.w, r.secrets.String(string(b)))
	return len(b), err
}
