package hooks

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/drainit/drainit/internal/envconf"
)

// EurekaConfig is read from DRAINIT_EUREKA_*.
type EurekaConfig struct {
	URL        []string `env:"DRAINIT_EUREKA_URL"` // e.g. http://eureka:8761/eureka
	App        string   `env:"DRAINIT_EUREKA_APP"`
	InstanceID string   `env:"DRAINIT_EUREKA_INSTANCE_ID"`
}

// eurekaStep marks the instance OUT_OF_SERVICE, which survives heartbeats
// (a DELETE would be undone by the client's next one).
type eurekaStep struct {
	cfg  EurekaConfig
	urls []string
}

func parseEureka(args []string, environ map[string]string) (Step, error) {
	if err := noArgs("eureka", args); err != nil {
		return nil, err
	}
	var cfg EurekaConfig
	if err := envconf.Parse(&cfg, environ); err != nil {
		return nil, err
	}
	urls, err := baseURLs(cfg.URL, "DRAINIT_EUREKA_URL")
	if err != nil {
		return nil, err
	}
	if err := required("DRAINIT_EUREKA_APP", cfg.App); err != nil {
		return nil, err
	}
	if err := required("DRAINIT_EUREKA_INSTANCE_ID", cfg.InstanceID); err != nil {
		return nil, err
	}
	return &eurekaStep{cfg: cfg, urls: urls}, nil
}

func (s *eurekaStep) String() string {
	return fmt.Sprintf("eureka OUT_OF_SERVICE %s/%s", s.cfg.App, s.cfg.InstanceID)
}

func (s *eurekaStep) Budget(timeout time.Duration) time.Duration { return timeout }

func (s *eurekaStep) Run(ctx context.Context, env *runEnv) error {
	var errs []error
	path := "/apps/" + url.PathEscape(s.cfg.App) + "/" + url.PathEscape(s.cfg.InstanceID) + "/status?value=OUT_OF_SERVICE"
	for _, base := range s.urls {
		_, err := call(ctx, request{method: "PUT", url: base + path})
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", base, err))
	}
	return errors.Join(errs...)
}
