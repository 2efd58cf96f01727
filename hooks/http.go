package hooks

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/drainit/drainit/internal/redact"
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

func parseHTTP(args []string, secrets *redact.Secrets) (Step, error) {
	s := &httpStep{}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "-H":
			if i+1 >= len(args) {
				return nil, errors.New("-H needs 'Name: value'")
			}
			i++
			h, err := parseHeader(args[i], secrets)
			if err != nil {
				return nil, err
			}
			s.headers = append(s.headers, h)
		case s.method == "" && s.url == "" && isMethod(arg):
			s.method = arg
		case s.url == "":
			u, err := checkURL(arg)
			if err != nil {
				return nil, err
			}
			addURLSecrets(u, secrets)
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

// parseHeader reads 'Name: value'. A control character in the value (CR or
// LF would start a header of its own) or a name that is not an HTTP token is
// refused here, before any child starts; the value is never echoed, it may
// be a credential.
func parseHeader(text string, secrets *redact.Secrets) (header, error) {
	name, value, ok := strings.Cut(text, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || name == "" || strings.IndexFunc(name, notTokenChar) >= 0 {
		return header{}, fmt.Errorf("header %q: want 'Name: value' with a name of letters, digits and !#$%%&'*+-.^_`|~", name)
	}
	if strings.IndexFunc(value, isControl) >= 0 {
		return header{}, fmt.Errorf("header %s: the value has a control character (CR, LF...)", name)
	}
	if redact.IsSecretName(name) {
		_, credential, _ := strings.Cut(value, " ") // after Bearer or Basic
		secrets.Add(value, credential)
	}
	return header{name, value}, nil
}

func notTokenChar(r rune) bool {
	return r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
}

func isControl(r rune) bool { return (r < ' ' && r != '\t') || r == 0x7f }

func isMethod(s string) bool {
	for _, m := range methods {
		if s == m {
			return true
		}
	}
	return false
}

func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL", raw)
	}
	return u, nil
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
