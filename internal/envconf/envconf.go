// Package envconf parses DRAINIT_* variables into tagged structs with
// caarlos0/env and turns its errors into one line that names the variable
// and the value at fault.
package envconf

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/caarlos0/env/v10"
)

// Parse fills v (a pointer to a struct with env tags) from environ.
// Durations are read by ParseDuration.
func Parse(v any, environ map[string]string) error {
	funcs := map[reflect.Type]env.ParserFunc{
		reflect.TypeOf(time.Duration(0)): func(v string) (any, error) { return ParseDuration(v) },
	}
	err := env.ParseWithOptions(v, env.Options{Environment: environ, FuncMap: funcs})
	if err == nil {
		return nil
	}
	var agg env.AggregateError
	if !errors.As(err, &agg) || len(agg.Errors) == 0 {
		return fmt.Errorf("environment: %w", err)
	}
	var perr env.ParseError
	if !errors.As(agg.Errors[0], &perr) {
		return fmt.Errorf("environment: %w", agg.Errors[0])
	}
	field, _ := reflect.TypeOf(v).Elem().FieldByName(perr.Name)
	key := field.Tag.Get("env")
	if reflect.PointerTo(perr.Type).Implements(textUnmarshaler) {
		// Our own types say what is wrong better than their type name.
		return fmt.Errorf("%s=%q: %w", key, environ[key], perr.Err)
	}
	return fmt.Errorf("%s=%q: not %s", key, environ[key], kindName(perr.Type))
}

var textUnmarshaler = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()

func kindName(t reflect.Type) string {
	switch {
	case t == reflect.TypeOf(time.Duration(0)):
		return DurationForm
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Int:
		return "a whole number"
	}
	return "a valid " + t.String()
}

// DurationForm says what ParseDuration takes, for error messages.
const DurationForm = "a duration (like 10s, 1m30s, or 60 for seconds)"

// ParseDuration reads a Go duration ("30s", "1m30s") or, as Kubernetes
// users write terminationGracePeriodSeconds, a whole number of seconds.
func ParseDuration(text string) (time.Duration, error) {
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return 0, fmt.Errorf("%q: too many seconds", text)
		}
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(text)
}
