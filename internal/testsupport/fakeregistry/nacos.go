// Package fakeregistry serves the parts of the Nacos, Eureka and Consul HTTP
// APIs that drainit calls, behaving as the servers' own sources do (each
// behaviour names its source, as read in shared/registries.md), and records
// every change with its time. Tests and benchmarks run it on 127.0.0.1 or in
// a container (fakeregistryd).
package fakeregistry

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event is one change the registry saw.
type Event struct {
	At   time.Time
	What string // e.g. "nacos patch enabled=false 10.0.0.1:8080"
}

type events struct {
	mu   sync.Mutex
	list []Event
}

func (e *events) add(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, Event{At: time.Now(), What: fmt.Sprintf(format, args...)})
}

// Events returns a copy of what happened so far.
func (e *events) Events() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Event(nil), e.list...)
}

// Count is how many events start with prefix.
func (e *events) Count(prefix string) int {
	n := 0
	for _, ev := range e.Events() {
		if strings.HasPrefix(ev.What, prefix) {
			n++
		}
	}
	return n
}

// Instance is one registered Nacos instance.
type Instance struct {
	IP        string  `json:"ip"`
	Port      int     `json:"port"`
	Weight    float64 `json:"weight"`
	Enabled   bool    `json:"enabled"`
	Healthy   bool    `json:"healthy"`
	Ephemeral bool    `json:"ephemeral"`
	Cluster   string  `json:"clusterName"`
	Service   string  `json:"serviceName"`
	lastBeat  time.Time
}

type nacosKey struct {
	namespace, group, service, cluster, ip string
	port                                   int
}

// metadata is what an update writes beside the instance (Nacos 2.x
// NamingMetadataManager): it outlives the instance by RememberFor, and a
// registration inside that window takes it over and cancels its expiry
// (NamingMetadataManager:235-266; ExpiredMetadataCleaner:59-66).
type metadata struct {
	enabled bool
	weight  float64
	expires time.Time // zero while the instance lives
}

// Nacos is a fake Nacos server, 2.x by default.
type Nacos struct {
	events
	// V3 is Nacos 3: v1 instance updates and reads for operators answer 410
	// (the compatibility filter), the v3 admin API replaces them, and admin
	// calls need a token even while client auth is off
	// (NacosServerAdminAuthConfig:115; AbstractWebAuthFilter:134).
	V3 bool
	// Username and Password are the one user that can log in; with
	// ClientAuth, every call needs its token (nacos.core.auth.enabled).
	Username, Password string
	ClientAuth         bool
	TokenTTL           time.Duration // the login answer's tokenTtl (Nacos: 18000 s)
	RememberFor        time.Duration // how long metadata outlives its instance (Nacos: 60 s)
	BeatExpiry         time.Duration // when set, instances without a beat for this long are removed

	mu        sync.Mutex
	instances map[nacosKey]*Instance
	meta      map[nacosKey]*metadata
	tokens    map[string]time.Time // token -> expiry
}

// NewNacos returns a Nacos 2.x-like server.
func NewNacos() *Nacos {
	return &Nacos{RememberFor: 60 * time.Second, TokenTTL: 18000 * time.Second,
		instances: map[nacosKey]*Instance{}, meta: map[nacosKey]*metadata{}, tokens: map[string]time.Time{}}
}

func (n *Nacos) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	route := r.Method + " " + r.URL.Path
	switch route {
	case "POST /nacos/v1/auth/login", "POST /nacos/v1/auth/users/login":
		n.login(w, r)
		return
	case "POST /nacos/v3/auth/user/login":
		if !n.V3 {
			http.NotFound(w, r) // the 3.x client then falls back to v1 (HttpLoginProcessor:53-92)
			return
		}
		n.login(w, r)
		return
	}
	admin := strings.HasPrefix(r.URL.Path, "/nacos/v3/admin/")
	if admin && !n.V3 {
		http.NotFound(w, r)
		return
	}
	if n.V3 && isV1AdminCall(route) {
		http.Error(w, "Current API will be deprecated, please use /nacos/v3/admin/ns/instance", http.StatusGone)
		return
	}
	if (admin || n.ClientAuth) && !n.validToken(r) {
		http.Error(w, "user not found!", http.StatusForbidden)
		return
	}
	n.route(w, r, route)
}

// isV1AdminCall: on 3.x the v1 update and detail calls are operators' calls,
// turned off by nacos.core.api.compatibility.admin.enabled=false; the
// client's register, deregister, list and beat stay open.
func isV1AdminCall(route string) bool {
	switch route {
	case "PUT /nacos/v1/ns/instance", "PATCH /nacos/v1/ns/instance", "GET /nacos/v1/ns/instance":
		return true
	}
	return false
}

func (n *Nacos) route(w http.ResponseWriter, r *http.Request, route string) {
	switch route {
	case "POST /nacos/v1/ns/instance":
		n.register(w, r)
	case "PUT /nacos/v1/ns/instance":
		n.update(w, r, false)
	case "PATCH /nacos/v1/ns/instance", "PUT /nacos/v3/admin/ns/instance/partial":
		n.update(w, r, true)
	case "GET /nacos/v1/ns/instance":
		n.detail(w, r, false)
	case "GET /nacos/v3/admin/ns/instance":
		n.detail(w, r, true)
	case "DELETE /nacos/v1/ns/instance":
		n.deregister(w, r)
	case "PUT /nacos/v1/ns/instance/beat":
		n.beat(w, r)
	case "GET /nacos/v1/ns/instance/list":
		n.list(w, r)
	default:
		http.NotFound(w, r)
	}
}

// login answers {"accessToken","tokenTtl","globalAdmin"}; a wrong user is
// 403 (Nacos checks the password with bcrypt: each login costs the server).
func (n *Nacos) login(w http.ResponseWriter, r *http.Request) {
	n.add("nacos login %s", r.URL.Path)
	if n.Username == "" || r.Form.Get("username") != n.Username || r.Form.Get("password") != n.Password {
		http.Error(w, "unknown user!", http.StatusForbidden)
		return
	}
	n.mu.Lock()
	token := fmt.Sprintf("fake-token-%d", len(n.tokens)+1)
	n.tokens[token] = time.Now().Add(n.TokenTTL)
	n.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{"accessToken": token, "tokenTtl": int(n.TokenTTL.Seconds()), "globalAdmin": false})
}

// validToken takes the token as Nacos does: accessToken as a parameter or
// header, or Authorization: Bearer.
func (n *Nacos) validToken(r *http.Request) bool {
	token := r.Form.Get("accessToken")
	if token == "" {
		token = r.Header.Get("accessToken")
	}
	if token == "" {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	expiry, ok := n.tokens[token]
	return ok && time.Now().Before(expiry)
}

func keyOf(r *http.Request) nacosKey {
	port, _ := strconv.Atoi(r.Form.Get("port"))
	return nacosKey{
		namespace: orDefault(r.Form.Get("namespaceId"), "public"),
		group:     orDefault(r.Form.Get("groupName"), "DEFAULT_GROUP"),
		service:   r.Form.Get("serviceName"),
		cluster:   orDefault(r.Form.Get("clusterName"), "DEFAULT"),
		ip:        r.Form.Get("ip"),
		port:      port,
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (k nacosKey) addr() string { return fmt.Sprintf("%s:%d:%s", k.ip, k.port, k.cluster) }

// register adds an instance as the app's own registration would; metadata
// still held for its ip:port:cluster applies to it.
func (n *Nacos) register(w http.ResponseWriter, r *http.Request) {
	k := keyOf(r)
	weight, err := strconv.ParseFloat(orDefault(r.Form.Get("weight"), "1"), 64)
	if err != nil {
		weight = 1
	}
	inst := &Instance{IP: k.ip, Port: k.port, Weight: weight, Enabled: true, Healthy: true, Ephemeral: r.Form.Get("ephemeral") != "false",
		Cluster: k.cluster, Service: k.service, lastBeat: time.Now()}
	n.mu.Lock()
	n.expire()
	if m, ok := n.meta[k]; ok {
		inst.Enabled, inst.Weight = m.enabled, m.weight
		m.expires = time.Time{}
	}
	n.instances[k] = inst
	n.mu.Unlock()
	n.add("nacos register %s enabled=%v", k.addr(), inst.Enabled)
	w.Write([]byte("ok"))
}

// update applies an instance update. PATCH and the v3 partial update change
// only the fields sent, but write weight and enabled into the metadata
// whole, so the first one pins the weight it read (InstanceController.patch
// :281-313); the v3 partial update fills omitted fields with defaults
// (InstanceForm.fillDefaultValue:87-106); PUT resets omitted weight and
// enabled. An instance that is not registered is 404 "no matched ip found!".
func (n *Nacos) update(w http.ResponseWriter, r *http.Request, partial bool) {
	k := keyOf(r)
	n.mu.Lock()
	inst, ok := n.instances[k]
	if !ok {
		n.mu.Unlock()
		http.Error(w, "no matched ip found!", http.StatusNotFound)
		return
	}
	v3 := strings.HasPrefix(r.URL.Path, "/nacos/v3/")
	if v := r.Form.Get("enabled"); v != "" || !partial || v3 {
		inst.Enabled = v != "false"
	}
	if v := r.Form.Get("weight"); v != "" || !partial || v3 {
		inst.Weight, _ = strconv.ParseFloat(orDefault(v, "1"), 64)
	} else if m, ok := n.meta[k]; ok {
		inst.Weight = m.weight
	} else {
		inst.Weight = 1 // the first PATCH pins 1.0 over the app's weight
	}
	n.meta[k] = &metadata{enabled: inst.Enabled, weight: inst.Weight}
	enabled, weight := inst.Enabled, inst.Weight
	n.mu.Unlock()
	n.add("nacos %s enabled=%v weight=%v %s", updateKind(r, partial), enabled, weight, k.addr())
	w.Write([]byte("ok"))
}

func updateKind(r *http.Request, partial bool) string {
	switch {
	case r.URL.Path == "/nacos/v3/admin/ns/instance/partial":
		return "v3-partial"
	case partial:
		return "patch"
	}
	return "put"
}

// detail answers one instance, disabled or not (the list leaves disabled
// ones out); v3 wraps it as {"code":0,"data":...}.
func (n *Nacos) detail(w http.ResponseWriter, r *http.Request, v3 bool) {
	k := keyOf(r)
	n.mu.Lock()
	n.expire()
	inst, ok := n.instances[k]
	var copied Instance
	if ok {
		copied = *inst
	}
	n.mu.Unlock()
	if !ok {
		http.Error(w, "no matched ip found!", http.StatusNotFound)
		return
	}
	if v3 {
		json.NewEncoder(w).Encode(map[string]any{"code": 0, "message": "success", "data": copied})
		return
	}
	json.NewEncoder(w).Encode(copied)
}

func (n *Nacos) deregister(w http.ResponseWriter, r *http.Request) {
	k := keyOf(r)
	n.mu.Lock()
	n.remove(k)
	n.mu.Unlock()
	n.add("nacos deregister %s", k.addr())
	w.Write([]byte("ok"))
}

// remove drops an instance; its metadata starts to expire. n.mu is held.
func (n *Nacos) remove(k nacosKey) {
	delete(n.instances, k)
	if m, ok := n.meta[k]; ok && m.expires.IsZero() {
		m.expires = time.Now().Add(n.RememberFor)
	}
}

func (n *Nacos) beat(w http.ResponseWriter, r *http.Request) {
	k := keyOf(r)
	n.mu.Lock()
	inst, ok := n.instances[k]
	if ok {
		inst.lastBeat = time.Now()
	}
	n.mu.Unlock()
	if !ok {
		// Nacos answers 20404 and the client re-registers.
		json.NewEncoder(w).Encode(map[string]any{"code": 20404})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"code": 10200, "clientBeatInterval": 5000})
}

// list answers the service's instances, never the disabled ones, whatever
// healthyOnly says (InstanceOperatorClientImpl:192-193; ServiceUtil.checkEnabled).
func (n *Nacos) list(w http.ResponseWriter, r *http.Request) {
	namespace, group, service := orDefault(r.Form.Get("namespaceId"), "public"), orDefault(r.Form.Get("groupName"), "DEFAULT_GROUP"), r.Form.Get("serviceName")
	hosts := []Instance{}
	n.mu.Lock()
	n.expire()
	for k, inst := range n.instances {
		if k.namespace == namespace && k.group == group && k.service == service && inst.Enabled {
			hosts = append(hosts, *inst)
		}
	}
	n.mu.Unlock()
	n.add("nacos list %s", service)
	json.NewEncoder(w).Encode(map[string]any{"name": group + "@@" + service, "hosts": hosts})
}

// expire drops instances whose heartbeats stopped and metadata past its
// time; n.mu is held.
func (n *Nacos) expire() {
	now := time.Now()
	for k, inst := range n.instances {
		if n.BeatExpiry > 0 && inst.Ephemeral && now.Sub(inst.lastBeat) > n.BeatExpiry {
			n.remove(k)
		}
	}
	for k, m := range n.meta {
		if !m.expires.IsZero() && now.After(m.expires) {
			delete(n.meta, k)
		}
	}
}

// Lookup returns the instance at ip:port of service, if registered.
func (n *Nacos) Lookup(service, ip string, port int) (Instance, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for k, inst := range n.instances {
		if k.service == service && k.ip == ip && k.port == port {
			return *inst, true
		}
	}
	return Instance{}, false
}

// Listed reports whether the instance list callers read shows ip:port.
func (n *Nacos) Listed(service, ip string, port int) bool {
	inst, ok := n.Lookup(service, ip, port)
	return ok && inst.Enabled
}
