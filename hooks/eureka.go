package hooks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/drainit/drainit/internal/envconf"
	"github.com/drainit/drainit/internal/logging"
)

// EurekaConfig is read from DRAINIT_EUREKA_*. Credentials in the URL
// (http://user:pass@eureka:8761/eureka) are sent as Basic auth.
type eurekaConfig struct {
	URL        []string `env:"DRAINIT_EUREKA_URL"` // e.g. http://eureka:8761/eureka
	App        string   `env:"DRAINIT_EUREKA_APP"`
	InstanceID string   `env:"DRAINIT_EUREKA_INSTANCE_ID"`
	// Clear removes, once the app has registered, an OUT_OF_SERVICE
	// override that a previous container with the same instance id left.
	Clear bool `env:"DRAINIT_EUREKA_CLEAR" envDefault:"true"`
}

// eurekaStep marks the instance OUT_OF_SERVICE, which survives heartbeats
// (a DELETE would be undone by the client's next one).
type eurekaStep struct {
	cfg  eurekaConfig
	urls []string
}

func parseEureka(args []string, in input) (Step, error) {
	environ := in.environ
	if err := noArgs("eureka", args); err != nil {
		return nil, err
	}
	var cfg eurekaConfig
	if err := envconf.Parse(&cfg, environ); err != nil {
		return nil, err
	}
	urls, err := baseURLs(cfg.URL, "DRAINIT_EUREKA_URL", in.secrets)
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

// Run marks the instance OUT_OF_SERVICE on the first server that takes it,
// then reads the application back as callers fetch it.
func (s *eurekaStep) Run(ctx context.Context, env *runEnv) error {
	var errs []error
	for _, base := range s.urls {
		_, err := call(ctx, request{method: "PUT", url: base + s.instancePath() + "/status?value=OUT_OF_SERVICE"})
		if err == nil {
			s.confirm(ctx, env, base)
			return nil
		}
		if isStatus(err, 404) {
			err = fmt.Errorf("%w: this server does not hold %s/%s", err, s.cfg.App, s.cfg.InstanceID)
		}
		errs = append(errs, fmt.Errorf("%s: %w", base, err))
	}
	return joinErrors(errs)
}

func (s *eurekaStep) instancePath() string {
	return "/apps/" + url.PathEscape(s.cfg.App) + "/" + url.PathEscape(s.cfg.InstanceID)
}

// confirm reads GET /apps/{APP}, the answer callers fetch, until it shows
// the instance out of service. The server may serve it from a read cache
// refreshed every 30 s: not seeing it before the step's deadline is logged,
// not a failure (the override is in place).
func (s *eurekaStep) confirm(ctx context.Context, env *runEnv, base string) {
	for {
		status, err := s.appStatus(ctx, base)
		if err == nil && status == "OUT_OF_SERVICE" {
			return
		}
		if !sleepCtx(ctx, eurekaConfirmEvery) {
			env.log.Warn(logging.EurekaNotShownYet,
				"app", s.cfg.App, "instance", s.cfg.InstanceID, "status", status, "err", err)
			return
		}
	}
}

var eurekaConfirmEvery = 200 * time.Millisecond

// appStatus is the instance's status in GET /apps/{APP}.
func (s *eurekaStep) appStatus(ctx context.Context, base string) (string, error) {
	data, err := call(ctx, request{method: "GET", url: base + "/apps/" + url.PathEscape(s.cfg.App), headers: []header{{"Accept", "application/json"}}})
	if err != nil {
		return "", err
	}
	var reply struct {
		Application struct {
			Instance []struct {
				InstanceID string `json:"instanceId"`
				Status     string `json:"status"`
			} `json:"instance"`
		} `json:"application"`
	}
	if err := json.Unmarshal(data, &reply); err != nil {
		return "", fmt.Errorf("application %s: %q: %w", s.cfg.App, excerpt(data), err)
	}
	for _, inst := range reply.Application.Instance {
		if inst.InstanceID == s.cfg.InstanceID {
			return inst.Status, nil
		}
	}
	return "", nil
}

// Start clears an OUT_OF_SERVICE override that outlived a previous
// container: Eureka keeps it by instance id until a cancel, and an app that
// was killed never cancels; Spring Cloud's default id holds the hostname, so
// a restarted container or a StatefulSet pod reuses it and would register
// out of service, for good. It waits, in the background, for the app to
// register (once a second, 5 minutes at most).
func (s *eurekaStep) Start(ctx context.Context, env *runEnv) {
	if s.cfg.Clear {
		untilDone(ctx, s.urls, func(ctx context.Context, base string) bool { return s.clearAt(ctx, env, base) })
	}
}

// clearAt reports whether it is done: the instance is registered there and
// not held out of service.
func (s *eurekaStep) clearAt(ctx context.Context, env *runEnv, base string) bool {
	data, err := call(ctx, request{method: "GET", url: base + s.instancePath(), headers: []header{{"Accept", "application/json"}}})
	if err != nil {
		return false
	}
	var reply struct {
		Instance struct {
			Status           string `json:"status"`
			OverriddenStatus string `json:"overriddenStatus"`
		} `json:"instance"`
	}
	if json.Unmarshal(data, &reply) != nil {
		return false
	}
	if reply.Instance.Status != "OUT_OF_SERVICE" && reply.Instance.OverriddenStatus != "OUT_OF_SERVICE" {
		return true
	}
	if _, err := call(ctx, request{method: "DELETE", url: base + s.instancePath() + "/status?value=UP"}); err != nil {
		env.log.Warn(logging.EurekaCannotClear, "url", base, "err", err)
		return false
	}
	env.log.Log(ctx, logging.LevelNotice, logging.EurekaCleared,
		"app", s.cfg.App, "instance", s.cfg.InstanceID)
	return true
}
