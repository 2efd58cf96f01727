package hooks

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// httpStep is `http [METHOD] URL [-H 'Name: value']... [BODY]`. A body that
// starts with { or [ is sent as JSON, any other as a form.
type httpStep struct {
	method  string
	url     string
	headers []header
	body    string
}

var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

func parseHTTP(args []string) (Step, error) {
	s := &httpStep{}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "-H":
			if i+1 >= len(args) {
				return nil, errors.New("-H needs 'Name: value'")
			}
			i++
			name, value, ok := strings.Cut(args[i], ":")
			if !ok || strings.TrimSpace(name) == "" {
				return nil, fmt.Errorf("header %q: want 'Name: value'", args[i])
			}
			s.headers = append(s.headers, header{strings.TrimSpace(name), strings.TrimSpace(value)})
		case s.method == "" && s.url == "" && isMethod(arg):
			s.method = arg
		case s.url == "":
			if err := checkURL(arg); err != nil {
				return nil, err
			}
			s.url = arg
		case s.body == "":
			s.body = arg
		default:
			return nil, fmt.Errorf("unexpected %q (quote the body)", arg)
		}
	}
	if s.url == "" {
		return nil, errors.New("want http [METHOD] URL [-H 'Name: value'] [BODY]")
	}
	if s.method == "" {
		s.method = "GET"
	}
	return s, nil
}

func isMethod(s string) bool {
	for _, m := range methods {
		if s == m {
			return true
		}
	}
	return false
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", raw)
	}
	return nil
}

func (s *httpStep) String() string                             { return "http " + s.method + " " + s.url }
func (s *httpStep) Budget(timeout time.Duration) time.Duration { return timeout }

func (s *httpStep) Run(ctx context.Context, env *runEnv) error {
	contentType := ""
	if s.body != "" {
		contentType = "application/x-www-form-urlencoded"
		if strings.HasPrefix(s.body, "{") || strings.HasPrefix(s.body, "[") {
			contentType = "application/json"
		}
	}
	_, err := call(ctx, request{method: s.method, url: s.url, headers: s.headers, body: s.body, contentType: contentType})
	return err
}

type request struct {
	method      string
	url         string
	headers     []header
	body        string
	contentType string
}

// statusError is a non-2xx answer.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.code, e.body)
}

// call makes one request and returns the body of a 2xx answer.
func call(ctx context.Context, r request) ([]byte, error) {
	status, body, err := roundTrip(ctx, r)
	if err != nil {
		return nil, err
	}
	if status < 200 || status > 299 {
		return body, &statusError{code: status, body: strings.TrimSpace(string(body[:min(len(body), 200)]))}
	}
	return body, nil
}
