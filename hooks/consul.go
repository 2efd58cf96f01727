package hooks

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/drainit/drainit/internal/envconf"
	"github.com/drainit/drainit/internal/redact"
)

// ConsulConfig is read from DRAINIT_CONSUL_*, falling back to Consul's own
// CONSUL_HTTP_ADDR and CONSUL_HTTP_TOKEN.
type ConsulConfig struct {
	Addr      string `env:"DRAINIT_CONSUL_ADDR"`
	ServiceID string `env:"DRAINIT_CONSUL_SERVICE_ID"`
	Token     string `env:"DRAINIT_CONSUL_TOKEN"`
}

// consulStep puts the service in maintenance mode on the local agent, which
// fails its health and takes it out of DNS and catalog answers.
type consulStep struct {
	cfg  ConsulConfig
	base string
}

func parseConsul(args []string, environ map[string]string) (Step, error) {
	if err := noArgs("consul", args); err != nil {
		return nil, err
	}
	var cfg ConsulConfig
	if err := envconf.Parse(&cfg, environ); err != nil {
		return nil, err
	}
	cfg.Addr = firstSet(cfg.Addr, environ["CONSUL_HTTP_ADDR"], "127.0.0.1:8500")
	cfg.Token = firstSet(cfg.Token, environ["CONSUL_HTTP_TOKEN"])
	redact.Add(cfg.Token)
	base, err := baseURL(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("DRAINIT_CONSUL_ADDR: %w", err)
	}
	if err := required("DRAINIT_CONSUL_SERVICE_ID", cfg.ServiceID); err != nil {
		return nil, err
	}
	return &consulStep{cfg: cfg, base: base}, nil
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func (s *consulStep) String() string { return "consul maintenance " + s.cfg.ServiceID }

func (s *consulStep) Budget(timeout time.Duration) time.Duration { return timeout }

func (s *consulStep) Run(ctx context.Context, env *runEnv) error {
	u := s.base + "/v1/agent/service/maintenance/" + url.PathEscape(s.cfg.ServiceID) + "?enable=true&reason=" + url.QueryEscape("drainit: pod stopping")
	var headers []header
	if s.cfg.Token != "" {
		headers = append(headers, header{"X-Consul-Token", s.cfg.Token})
	}
	_, err := call(ctx, request{method: "PUT", url: u, headers: headers})
	return err
}
