package hooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/drainit/drainit/internal/redact"
)

// baseURL accepts "host:port" or a full URL and returns it without a
// trailing slash.
func baseURL(raw string, secrets *redact.Secrets) (string, error) {
	raw = strings.TrimSpace(raw)
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("%q is not an address or http(s) URL", raw)
	}
	addURLSecrets(u, secrets)
	return strings.TrimRight(u.String(), "/"), nil
}

// addURLSecrets registers a URL's password and the values of its
// credential-named query parameters, to be masked wherever drainit prints.
func addURLSecrets(u *url.URL, secrets *redact.Secrets) {
	if pw, ok := u.User.Password(); ok {
		secrets.Add(pw, url.PathEscape(pw), url.QueryEscape(pw))
	}
	for name, values := range u.Query() {
		if redact.IsSecretName(name) {
			secrets.Add(values...)
		}
	}
}

func baseURLs(list []string, key string, secrets *redact.Secrets) ([]string, error) {
	var out []string
	for _, item := range list {
		if strings.TrimSpace(item) == "" {
			continue
		}
		u, err := baseURL(item, secrets)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		out = append(out, u)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s is not set", key)
	}
	return out, nil
}

// podIP is $POD_IP (the Downward API's status.podIP), else the first
// non-loopback IPv4 address of this host.
func podIP(environ map[string]string) (string, error) {
	if ip := environ["POD_IP"]; ip != "" {
		return ip, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String(), nil
		}
	}
	return "", errors.New("no non-loopback IPv4 address; set POD_IP")
}

func required(key, value string) error {
	if strings.TrimSpace(value) == "" {
		return fmt.Errorf("%s is not set", key)
	}
	return nil
}

// Start-up work (the Nacos re-enable, the Eureka override clear) waits for
// the app to register: tried once a second, for 5 minutes at most.
var (
	startEvery = time.Second
	startFor   = 5 * time.Minute
)

// untilDone calls try on each server in turn, every startEvery, until one
// reports done or startFor has passed; it reports whether one did.
func untilDone(ctx context.Context, servers []string, try func(ctx context.Context, server string) bool) bool {
	ctx, cancel := context.WithTimeout(ctx, startFor)
	defer cancel()
	for {
		for _, server := range servers {
			if try(ctx, server) {
				return true
			}
		}
		if !sleepCtx(ctx, startEvery) {
			return false
		}
	}
}

// joinedError is several servers' errors on one line (errors.Join's
// newlines would split a log line).
type joinedError []error

func (e joinedError) Error() string {
	texts := make([]string, len(e))
	for i, err := range e {
		texts[i] = err.Error()
	}
	return strings.Join(texts, "; ")
}

func (e joinedError) Unwrap() []error { return e }

// joinErrors is nil for no errors, the error itself for one.
func joinErrors(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return joinedError(errs)
}
