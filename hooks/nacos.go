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
	"sync"
	"time"

	"github.com/drainit/drainit/internal/envconf"
	"github.com/drainit/drainit/internal/httpx"
	"github.com/drainit/drainit/internal/logging"
	"github.com/drainit/drainit/internal/redact"
)

// NacosConfig is read from DRAINIT_NACOS_*.
type nacosConfig struct {
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
// instance list callers read no longer shows it. It never deregisters:
// DELETE is a no-op for gRPC-registered instances on Nacos 2.x and is undone
// by the next heartbeat for HTTP-registered ones.
type nacosStep struct {
	cfg     nacosConfig
	addrs   []string
	secrets *redact.Secrets // the token each login obtains is added

	// One login per server at a time, each a bcrypt check there: the
	// start-up re-enable and the drain may ask at once, and the drain
	// cancels the start-up work, maybe mid-login.
	mu     sync.Mutex
	tokens map[string]nacosToken  // by server
	logins map[string]*nacosLogin // in flight, by server
}

// nacosLogin is a login in flight; done is closed once value and err are
// set.
type nacosLogin struct {
	done  chan struct{}
	value string
	err   error
}

// nacosLoginFor bounds a login, which goes on when the one who asked for
// it stops waiting, so that the next one to ask reuses it.
var nacosLoginFor = 10 * time.Second

type nacosToken struct {
	value string
	until time.Time
}

// How often the instance list is read while confirming the disable.
var nacosConfirmEvery = 200 * time.Millisecond

func parseNacos(args []string, in input) (Step, error) {
	environ := in.environ
	if err := noArgs("nacos", args); err != nil {
		return nil, err
	}
	var cfg nacosConfig
	if err := envconf.Parse(&cfg, environ); err != nil {
		return nil, err
	}
	addrs, err := baseURLs(cfg.Addr, "DRAINIT_NACOS_ADDR", in.secrets)
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
	in.secrets.Add(cfg.Password, url.QueryEscape(cfg.Password))
	return &nacosStep{cfg: cfg, addrs: addrs, tokens: map[string]nacosToken{}, logins: map[string]*nacosLogin{}, secrets: in.secrets}, nil
}

func (s *nacosStep) String() string {
	return fmt.Sprintf("nacos disable %s %s:%d", s.cfg.Service, s.cfg.IP, s.cfg.Port)
}

func (s *nacosStep) Budget(timeout time.Duration) time.Duration { return timeout }

// Run tries each server in turn until one takes the update.
func (s *nacosStep) Run(ctx context.Context, env *runEnv) error {
	var errs []error
	for _, addr := range s.addrs {
		err := s.disableAt(ctx, addr)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
		if ctx.Err() != nil {
			break
		}
	}
	return joinErrors(errs)
}

func (s *nacosStep) disableAt(ctx context.Context, addr string) error {
	inst, err := s.detail(ctx, addr)
	if err != nil {
		return err
	}
	if err := s.setEnabled(ctx, addr, inst, false); err != nil {
		return err
	}
	return s.confirmDisabled(ctx, addr)
}

// nacosInstance is what the detail call says of the instance: where its
// updates go (v1, or the v3 admin API on Nacos 3) and the weight it has,
// which an update must send along to keep.
type nacosInstance struct {
	Enabled bool    `json:"enabled"`
	Weight  float64 `json:"weight"`
	v3      bool
}

// detail reads the instance, disabled or not (the list leaves disabled ones
// out): the v1 detail call, or the v3 admin one where Nacos 3 answers 410.
// errNotRegistered when the server does not hold it.
func (s *nacosStep) detail(ctx context.Context, addr string) (nacosInstance, error) {
	inst := nacosInstance{}
	data, err := s.call(ctx, addr, "GET", "/nacos/v1/ns/instance", s.instanceParams())
	if isStatus(err, 410) {
		inst.v3 = true
		data, err = s.call(ctx, addr, "GET", "/nacos/v3/admin/ns/instance", s.instanceParams())
	}
	switch {
	case isNacosNotFound(err):
		return inst, errNotRegistered
	case isStatus(err, 404):
		return inst, fmt.Errorf("instance detail: %w (not a Nacos server's answer: is DRAINIT_NACOS_ADDR right?)", err)
	case err != nil:
		return inst, fmt.Errorf("instance detail: %w", err)
	}
	if inst.v3 {
		var reply struct {
			Data *nacosInstance `json:"data"`
		}
		reply.Data = &inst
		err = json.Unmarshal(data, &reply)
	} else {
		err = json.Unmarshal(data, &inst)
	}
	if err != nil {
		return inst, fmt.Errorf("instance detail: %q: %w", excerpt(data), err)
	}
	return inst, nil
}

var errNotRegistered = errors.New("the instance is not registered there")

// isNacosNotFound tells Nacos's own 404 for an instance it does not hold
// ("no matched ip found!", "no ips found for cluster ...") from any other
// server's 404 page.
func isNacosNotFound(err error) bool {
	var status *httpx.StatusError
	if !errors.As(err, &status) || status.Code != 404 {
		return false
	}
	body := strings.ToLower(status.Message)
	return strings.Contains(body, "no matched ip") || strings.Contains(body, "no ips found") || strings.Contains(body, "instance not found")
}

// setEnabled changes the enabled flag and sends the instance's own weight
// along: PATCH would pin 1.0 over it, and the v3 partial update fills
// omitted fields with defaults. PUT would reset every omitted field.
func (s *nacosStep) setEnabled(ctx context.Context, addr string, inst nacosInstance, enabled bool) error {
	params := s.instanceParams()
	params.Set("enabled", strconv.FormatBool(enabled))
	if inst.Weight > 0 {
		params.Set("weight", strconv.FormatFloat(inst.Weight, 'f', -1, 64))
	}
	method, path := "PATCH", "/nacos/v1/ns/instance"
	if inst.v3 {
		method, path = "PUT", "/nacos/v3/admin/ns/instance/partial"
	}
	_, err := s.call(ctx, addr, method, path, params)
	if !inst.v3 && isStatus(err, 410) {
		_, err = s.call(ctx, addr, "PUT", "/nacos/v3/admin/ns/instance/partial", params)
	}
	return err
}

func (s *nacosStep) instanceParams() url.Values {
	v := url.Values{}
	v.Set("serviceName", s.cfg.Service)
	v.Set("groupName", s.cfg.Group)
	v.Set("namespaceId", s.cfg.Namespace)
	v.Set("clusterName", s.cfg.Cluster)
	v.Set("ip", s.cfg.IP)
	v.Set("port", strconv.Itoa(s.cfg.Port))
	v.Set("ephemeral", strconv.FormatBool(s.cfg.Ephemeral))
	return v
}

// call makes one Nacos call with the fields as query parameters, as Nacos's
// own clients send them, and the token as its clients do (accessToken, as a
// parameter and a header).
func (s *nacosStep) call(ctx context.Context, addr, method, path string, params url.Values) ([]byte, error) {
	token, err := s.token(ctx, addr)
	if err != nil {
		return nil, err
	}
	var headers []header
	if token != "" {
		params = withParam(params, "accessToken", token)
		headers = append(headers, header{"accessToken", token})
	}
	data, err := call(ctx, request{method: method, url: addr + path + "?" + params.Encode(), headers: headers})
	if isStatus(err, 403) {
		return data, s.forbidden(err)
	}
	return data, err
}

func withParam(params url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, v := range params {
		out[k] = v
	}
	out.Set(key, value)
	return out
}

// forbidden says what to set: Nacos 3's admin API wants a token even while
// client auth is off, and drainit logs in only with a user to log in as.
func (s *nacosStep) forbidden(err error) error {
	if s.cfg.Username == "" {
		return fmt.Errorf("%w: the server wants a token (Nacos 3's admin API does even with client auth off): "+
			"set DRAINIT_NACOS_USERNAME and DRAINIT_NACOS_PASSWORD for a user with WRITE on the service", err)
	}
	return fmt.Errorf("%w: user %s lacks WRITE on service %s", err, s.cfg.Username, s.cfg.Service)
}

// token logs in once per server and reuses the token for most of its TTL.
// A caller waits for a login in flight, as long as its ctx lets it.
func (s *nacosStep) token(ctx context.Context, addr string) (string, error) {
	if s.cfg.Username == "" {
		return "", nil
	}
	s.mu.Lock()
	if t := s.tokens[addr]; t.value != "" && time.Now().Before(t.until) {
		s.mu.Unlock()
		return t.value, nil
	}
	l := s.logins[addr]
	if l == nil {
		l = &nacosLogin{done: make(chan struct{})}
		s.logins[addr] = l
		go s.logIn(addr, l)
	}
	s.mu.Unlock()
	select {
	case <-l.done:
		return l.value, l.err
	case <-ctx.Done():
		return "", fmt.Errorf("login as %s: %w", s.cfg.Username, context.Cause(ctx))
	}
}

func (s *nacosStep) logIn(addr string, l *nacosLogin) {
	ctx, cancel := context.WithTimeout(context.Background(), nacosLoginFor)
	defer cancel()
	value, ttl, err := s.login(ctx, addr)
	s.mu.Lock()
	delete(s.logins, addr)
	if err == nil {
		s.tokens[addr] = nacosToken{value: value, until: time.Now().Add(ttl * 9 / 10)}
	}
	s.mu.Unlock()
	l.value, l.err = value, err
	close(l.done)
}

// login tries Nacos 3's login, then 1.x/2.x's where the server does not
// know it (404 or 501), as Nacos's own client does (HttpLoginProcessor).
func (s *nacosStep) login(ctx context.Context, addr string) (string, time.Duration, error) {
	form := url.Values{"username": {s.cfg.Username}, "password": {s.cfg.Password}}.Encode()
	req := request{method: "POST", url: addr + "/nacos/v3/auth/user/login", body: form, contentType: "application/x-www-form-urlencoded"}
	data, err := call(ctx, req)
	if isStatus(err, 404) || isStatus(err, 501) {
		req.url = addr + "/nacos/v1/auth/login"
		data, err = call(ctx, req)
	}
	if err != nil {
		return "", 0, fmt.Errorf("login as %s: %w", s.cfg.Username, err)
	}
	var reply struct {
		AccessToken string `json:"accessToken"`
		TokenTTL    int64  `json:"tokenTtl"`
	}
	if err := json.Unmarshal(data, &reply); err != nil || reply.AccessToken == "" {
		return "", 0, fmt.Errorf("login: no accessToken in %q", excerpt(data))
	}
	s.secrets.Add(reply.AccessToken)
	ttl := time.Duration(reply.TokenTTL) * time.Second
	if ttl <= 0 {
		ttl = time.Minute
	}
	return reply.AccessToken, ttl, nil
}

type nacosHost struct {
	IP   string `json:"ip"`
	Port int    `json:"port"`
}

// listed reads the instance list callers read (a client call, open on
// Nacos 3 too); it never shows a disabled instance.
func (s *nacosStep) listed(ctx context.Context, addr string) (bool, error) {
	v := url.Values{}
	v.Set("serviceName", s.cfg.Service)
	v.Set("groupName", s.cfg.Group)
	v.Set("namespaceId", s.cfg.Namespace)
	v.Set("clusters", s.cfg.Cluster)
	v.Set("healthyOnly", "false")
	data, err := s.call(ctx, addr, "GET", "/nacos/v1/ns/instance/list", v)
	if err != nil {
		return false, err
	}
	var list struct {
		Hosts []nacosHost `json:"hosts"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return false, fmt.Errorf("instance list: %w", err)
	}
	for _, h := range list.Hosts {
		if h.IP == s.cfg.IP && h.Port == s.cfg.Port {
			return true, nil
		}
	}
	return false, nil
}

// confirmDisabled waits until the list no longer shows the instance: the
// server rebuilds it 500 ms after a change and pushes it then.
func (s *nacosStep) confirmDisabled(ctx context.Context, addr string) error {
	for {
		found, err := s.listed(ctx, addr)
		if err == nil && !found {
			return nil
		}
		if !sleepCtx(ctx, nacosConfirmEvery) {
			return fmt.Errorf("the instance list still shows the instance (last error: %v)", err)
		}
	}
}

// Start re-enables an instance that a previous container on the same
// ip:port:cluster left disabled: Nacos keeps enabled=false for 60 s after
// the old instance is gone, and a registration in that window takes it
// over for good (a liveness restart or OOM kill keeps the pod's IP). The
// list never shows a disabled instance, so it reads the instance itself,
// once a second until the app has registered (5 minutes at most).
func (s *nacosStep) Start(ctx context.Context, env *runEnv) {
	if !s.cfg.Reenable {
		return
	}
	done := untilDone(ctx, s.addrs, func(ctx context.Context, addr string) bool { return s.reenableAt(ctx, env, addr) })
	if !done {
		env.log.Debug(logging.NacosNeverRegistered, "waited", startFor)
	}
}

// reenableAt reports whether it is done: the instance is registered there
// and enabled.
func (s *nacosStep) reenableAt(ctx context.Context, env *runEnv, addr string) bool {
	inst, err := s.detail(ctx, addr)
	if err != nil {
		if !errors.Is(err, errNotRegistered) {
			env.log.Debug(logging.NacosCannotRead, "addr", addr, "err", err)
		}
		return false
	}
	if inst.Enabled {
		return true
	}
	if err := s.setEnabled(ctx, addr, inst, true); err != nil {
		env.log.Warn(logging.NacosCannotReenable, "addr", addr, "err", err)
		return false
	}
	env.log.Log(ctx, logging.LevelNotice, logging.NacosReenabled,
		"service", s.cfg.Service, "ip", s.cfg.IP, "port", s.cfg.Port, "weight", inst.Weight)
	return true
}
