// Package envconf parses DRAINIT_* variables into tagged structs with
// caarlos0/env and turns its errors into one line that names the variable
// and the value at fault.
package envconf

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/caarlos0/env/v10"
)

// Parse fills v (a pointer to a struct with env tags) from environ.
func Parse(v any, environ map[string]string) error {
	err := env.ParseWithOptions(v, env.Options{Environment: environ})
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
		return "a duration (like 10s or 1m30s)"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Int:
		return "a whole number"
	}
	return "a valid " + t.String()
}
