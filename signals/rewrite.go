package signals

import (
	"fmt"
	"strings"
	"syscall"
)

// Rewrites maps a received signal to the one forwarded; 0 drops it.
type Rewrites map[syscall.Signal]syscall.Signal

// ParseRewrite reads "S:R" where S and R are numbers or names; R may be 0.
func ParseRewrite(s string) (from, to syscall.Signal, err error) {
	left, right, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want FROM:TO", s)
	}
	if from, err = Parse(left); err != nil {
		return 0, 0, err
	}
	if !Forwardable(from) {
		return 0, 0, fmt.Errorf("%q: %s never reaches drainit to be rewritten", s, Name(from))
	}
	if strings.TrimSpace(right) == "0" {
		return from, 0, nil
	}
	if to, err = Parse(right); err != nil {
		return 0, 0, err
	}
	return from, to, nil
}

// Add parses and records one rewrite.
func (r Rewrites) Add(s string) error {
	from, to, err := ParseRewrite(s)
	if err != nil {
		return err
	}
	r[from] = to
	return nil
}

// Apply returns what sig becomes; 0 means drop it.
func (r Rewrites) Apply(sig syscall.Signal) syscall.Signal {
	if to, ok := r[sig]; ok {
		return to
	}
	return sig
}

// UnmarshalText reads a comma-separated list of rewrites, for the
// environment: DRAINIT_REWRITE=TERM:QUIT,USR1:0.
func (r *Rewrites) UnmarshalText(text []byte) error {
	*r = Rewrites{}
	for _, item := range strings.Split(string(text), ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		if err := r.Add(item); err != nil {
			return err
		}
	}
	return nil
}
