package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/drainit/drainit/internal/envconf"
	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/internal/redact"
)

// NacosConfig is read from DRAINIT_NACOS_*.
type NacosConfig struct {
	Addr         []string `env:"DRAINIT_NACOS_ADDR"`
	Namespace    string   `env:"DRAINIT_NACOS_NAMESPACE"`
	Group        string   `env:"DRAINIT_NACOS_GROUP" envDefault:"DEFAULT_GROUP"`
	Cluster      string   `env:"DRAINIT_NACOS_CLUSTER" envDefault:"DEFAULT"`
	Service      string   `env:"DRAINIT_NACOS_SERVICE"`
	IP           string   `env:"DRAINIT_NACOS_IP"`
	Port         int      `env:"DRAINIT_NACOS_PORT"`
	Username     string   `env:"DRAINIT_NACOS_USERNAME"`
	Password     string   `env:"DRAINIT_NACOS_PASSWORD"`
	PasswordFile string   `env:"DRAINIT_NACOS_PASSWORD_FILE"`
	Ephemeral    bool     `env:"DRAINIT_NACOS_EPHEMERAL" envDefault:"true"`
	Reenable     bool     `env:"DRAINIT_NACOS_REENABLE" envDefault:"true"`
}

// nacosStep disables the instance (enabled=false) and waits until the
// server's instance list shows it disabled or gone. It never deregisters:
// DELETE is a no-op for gRPC-registered instances on Nacos 2.x and is undone
// by the next heartbeat for HTTP-registered ones.
type nacosStep struct {
	cfg   NacosConfig
	addrs []string
}

// How often the instance list is read while confirming and at start-up, and
// how long drainit waits for the app to register before it stops looking.
var (
	nacosConfirmEvery = 200 * time.Millisecond
	nacosStartEvery   = time.Second
	nacosStartFor     = 5 * time.Minute
)

func parseNacos(args []string, environ map[string]string) (Step, error) {
	if err := noArgs("nacos", args); err != nil {
		return nil, err
	}
	var cfg NacosConfig
	if err := envconf.Parse(&cfg, environ); err != nil {
		return nil, err
	}
	addrs, err := baseURLs(cfg.Addr, "DRAINIT_NACOS_ADDR")
	if err != nil {
		return nil, err
	}
	if err := required("DRAINIT_NACOS_SERVICE", cfg.Service); err != nil {
		return nil, err
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("DRAINIT_NACOS_PORT=%q: want a port from 1 to 65535", environ["DRAINIT_NACOS_PORT"])
	}
	if cfg.IP == "" {
		if cfg.IP, err = podIP(environ); err != nil {
			return nil, fmt.Errorf("DRAINIT_NACOS_IP: %w", err)
		}
	}
	if cfg.PasswordFile != "" {
		data, err := os.ReadFile(cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("DRAINIT_NACOS_PASSWORD_FILE: %w", err)
		}
		cfg.Password = strings.TrimSpace(string(data))
	}
	redact.Add(cfg.Password, url.QueryEscape(cfg.Password))
	return &nacosStep{cfg: cfg, addrs: addrs}, nil
}

func (s *nacosStep) String() string {
	return fmt.Sprintf("nacos disable %s %s:%d", s.cfg.Service, s.cfg.IP, s.cfg.Port)
}

func (s *nacosStep) Budget(timeout time.Duration) time.Duration { return timeout }

// Run tries each server in turn until one takes the update.
func (s *nacosStep) Run(ctx context.Context, env *runEnv) error {
	var errs []error
	for _, addr := range s.addrs {
		token, err := s.setEnabled(ctx, env, addr, false)
		if err == nil {
			return s.confirmDisabled(ctx, env, addr, token)
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

// setEnabled changes only the enabled flag: PATCH on the v1 API, or the v3
// admin partial update where Nacos 3 answers 410 Gone to v1 updates. (PUT
// would reset weight and other omitted fields.)
func (s *nacosStep) setEnabled(ctx context.Context, env *runEnv, addr string, enabled bool) (string, error) {
	token, err := s.login(ctx, env, addr)
	if err != nil {
		return "", err
	}
	params := s.instanceParams(token)
	params.Set("enabled", strconv.FormatBool(enabled))
	_, err = call(ctx, request{method: "PATCH", url: addr + "/nacos/v1/ns/instance?" + params.Encode()})
	var status *statusError
	if errors.As(err, &status) && status.code == 410 {
		_, err = call(ctx, request{method: "PUT", url: addr + "/nacos/v3/admin/ns/instance/partial",
			body: params.Encode(), contentType: "application/x-www-form-urlencoded"})
	}
	return token, err
}

func (s *nacosStep) instanceParams(token string) url.Values {
	v := url.Values{}
	v.Set("serviceName", s.cfg.Service)
	v.Set("groupName", s.cfg.Group)
	v.Set("namespaceId", s.cfg.Namespace)
	v.Set("clusterName", s.cfg.Cluster)
	v.Set("ip", s.cfg.IP)
	v.Set("port", strconv.Itoa(s.cfg.Port))
	v.Set("ephemeral", strconv.FormatBool(s.cfg.Ephemeral))
	if token != "" {
		v.Set("accessToken", token)
	}
	return v
}

func (s *nacosStep) login(ctx context.Context, env *runEnv, addr string) (string, error) {
	if s.cfg.Username == "" {
		return "", nil
	}
	form := url.Values{"username": {s.cfg.Username}, "password": {s.cfg.Password}}
	data, err := call(ctx, request{method: "POST", url: addr + "/nacos/v1/auth/login",
		body: form.Encode(), contentType: "application/x-www-form-urlencoded"})
	if err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	var reply struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.Unmarshal(data, &reply); err != nil || reply.AccessToken == "" {
		return "", fmt.Errorf("login: no accessToken in %q", excerpt(data))
	}
	redact.Add(reply.AccessToken)
	return reply.AccessToken, nil
}

type nacosHost struct {
	IP      string `json:"ip"`
	Port    int    `json:"port"`
	Enabled bool   `json:"enabled"`
}

// lookup reads the instance list; found is false when the instance is not in it.
func (s *nacosStep) lookup(ctx context.Context, env *runEnv, addr, token string) (host nacosHost, found bool, err error) {
	v := url.Values{}
	v.Set("serviceName", s.cfg.Service)
	v.Set("groupName", s.cfg.Group)
	v.Set("namespaceId", s.cfg.Namespace)
	v.Set("clusters", s.cfg.Cluster)
	v.Set("healthyOnly", "false")
	if token != "" {
		v.Set("accessToken", token)
	}
	data, err := call(ctx, request{method: "GET", url: addr + "/nacos/v1/ns/instance/list?" + v.Encode()})
	if err != nil {
		return host, false, err
	}
	var list struct {
		Hosts []nacosHost `json:"hosts"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return host, false, fmt.Errorf("instance list: %w", err)
	}
	for _, h := range list.Hosts {
		if h.IP == s.cfg.IP && h.Port == s.cfg.Port {
			return h, true, nil
		}
	}
	return host, false, nil
}

func (s *nacosStep) confirmDisabled(ctx context.Context, env *runEnv, addr, token string) error {
	for {
		host, found, err := s.lookup(ctx, env, addr, token)
		if err == nil && (!found || !host.Enabled) {
			return nil
		}
		if !sleepCtx(ctx, nacosConfirmEvery) {
			return fmt.Errorf("the instance list still shows the instance enabled (last error: %v)", err)
		}
	}
}

// Start re-enables an instance that a previous container on the same
// ip:port left disabled: Nacos remembers enabled=false for 60 s and applies
// it to a new registration. It waits, in the background, for the app to
// register.
func (s *nacosStep) Start(ctx context.Context, env *runEnv) {
	if !s.cfg.Reenable {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, nacosStartFor)
	defer cancel()
	for {
		for _, addr := range s.addrs {
			if s.reenableAt(ctx, env, addr) {
				return
			}
		}
		if !sleepCtx(ctx, nacosStartEvery) {
			return
		}
	}
}

// reenableAt reports whether it is done: the instance is registered and enabled.
func (s *nacosStep) reenableAt(ctx context.Context, env *runEnv, addr string) bool {
	token, err := s.login(ctx, env, addr)
	if err != nil {
		return false
	}
	host, found, err := s.lookup(ctx, env, addr, token)
	if err != nil || !found {
		return false
	}
	if host.Enabled {
		return true
	}
	if _, err := s.setEnabled(ctx, env, addr, true); err != nil {
		env.log.Warn("nacos: cannot re-enable the instance left disabled", "addr", addr, "err", err)
		return false
	}
	env.log.Log(ctx, logging.LevelNotice, "nacos: re-enabled the instance a previous container left disabled",
		"service", s.cfg.Service, "ip", s.cfg.IP, "port", s.cfg.Port)
	return true
}
