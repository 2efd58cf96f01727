package hooks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/drainit/drainit/internal/envconf"
	"github.com/drainit/drainit/internal/httpx"
)

// ConsulConfig is read from DRAINIT_CONSUL_*, falling back to Consul's own
// CONSUL_HTTP_ADDR and CONSUL_HTTP_TOKEN.
type consulConfig struct {
	Addr      string `env:"DRAINIT_CONSUL_ADDR"`
	ServiceID string `env:"DRAINIT_CONSUL_SERVICE_ID"`
	Token     string `env:"DRAINIT_CONSUL_TOKEN"`
}

// consulStep puts the service in maintenance mode on the local agent, which
// fails its health and takes it out of DNS and catalog answers.
type consulStep struct {
	cfg  consulConfig
	base string
}

func parseConsul(args []string, in input) (Step, error) {
	environ := in.environ
	if err := noArgs("consul", args); err != nil {
		return nil, err
	}
	var cfg consulConfig
	if err := envconf.Parse(&cfg, environ); err != nil {
		return nil, err
	}
	cfg.Addr = httpx.FirstSet(cfg.Addr, environ["CONSUL_HTTP_ADDR"], "127.0.0.1:8500")
	cfg.Token = httpx.FirstSet(cfg.Token, environ["CONSUL_HTTP_TOKEN"])
	in.secrets.Add(cfg.Token)
	base, err := baseURL(cfg.Addr, in.secrets)
	if err != nil {
		return nil, fmt.Errorf("DRAINIT_CONSUL_ADDR: %w", err)
	}
	if err := required("DRAINIT_CONSUL_SERVICE_ID", cfg.ServiceID); err != nil {
		return nil, err
	}
	return &consulStep{cfg: cfg, base: base}, nil
}

func (s *consulStep) String() string { return "consul maintenance " + s.cfg.ServiceID }

func (s *consulStep) Budget(timeout time.Duration) time.Duration { return timeout }

// Run puts the service in maintenance on the agent, then waits until the
// health answer callers use (?passing, and DNS) leaves it out; the catalog
// would still list it.
func (s *consulStep) Run(ctx context.Context, env *runEnv) error {
	u := s.base + "/v1/agent/service/maintenance/" + url.PathEscape(s.cfg.ServiceID) + "?enable=true&reason=" + url.QueryEscape("drainit: pod stopping")
	_, err := call(ctx, request{method: "PUT", url: u, headers: s.headers()})
	if isStatus(err, 404) {
		return fmt.Errorf("%w: the agent at %s does not hold service %s; maintenance is agent-local: point DRAINIT_CONSUL_ADDR "+
			"(or CONSUL_HTTP_ADDR) at the agent the service registered with, usually the node's own", err, s.base, s.cfg.ServiceID)
	}
	if err != nil {
		return err
	}
	return s.confirm(ctx)
}

func (s *consulStep) headers() []header {
	if s.cfg.Token == "" {
		return nil
	}
	return []header{{"X-Consul-Token", s.cfg.Token}}
}

var consulConfirmEvery = 200 * time.Millisecond

// confirm reads the service's name from the agent, then its passing
// instances until this one is not among them.
func (s *consulStep) confirm(ctx context.Context) error {
	data, err := call(ctx, request{method: "GET", url: s.base + "/v1/agent/service/" + url.PathEscape(s.cfg.ServiceID), headers: s.headers()})
	if err != nil {
		return fmt.Errorf("reading the service: %w", err)
	}
	var svc struct{ Service string }
	if err := json.Unmarshal(data, &svc); err != nil || svc.Service == "" {
		return fmt.Errorf("reading the service: %q", excerpt(data))
	}
	for {
		passing, err := s.passing(ctx, svc.Service)
		if err == nil && !passing {
			return nil
		}
		if !sleepCtx(ctx, consulConfirmEvery) {
			return fmt.Errorf("the health endpoint still lists %s as passing (last error: %v)", s.cfg.ServiceID, err)
		}
	}
}

func (s *consulStep) passing(ctx context.Context, name string) (bool, error) {
	data, err := call(ctx, request{method: "GET", url: s.base + "/v1/health/service/" + url.PathEscape(name) + "?passing", headers: s.headers()})
	if err != nil {
		return false, err
	}
	var entries []struct{ Service struct{ ID string } }
	if err := json.Unmarshal(data, &entries); err != nil {
		return false, fmt.Errorf("health: %q: %w", excerpt(data), err)
	}
	for _, e := range entries {
		if e.Service.ID == s.cfg.ServiceID {
			return true, nil
		}
	}
	return false, nil
}
