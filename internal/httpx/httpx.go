// Package httpx holds what the drain steps (hooks) and the Kubernetes
// client (kube) share of HTTP: the error for a non-2xx answer, and the
// first of several settings that is set.
package httpx

import (
	"errors"
	"fmt"
)

// StatusError is a non-2xx answer: its code, and what of its body may be
// quoted (short, one line, masked by whoever made it).
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Code, e.Message) }

// IsStatus reports whether err is a non-2xx answer with one of codes.
func IsStatus(err error, codes ...int) bool {
	var status *StatusError
	if !errors.As(err, &status) {
		return false
	}
	for _, c := range codes {
		if status.Code == c {
			return true
		}
	}
	return false
}

// FirstSet is the first value that is not empty.
func FirstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
