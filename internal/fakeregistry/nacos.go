// Package fakeregistry serves the subsets of the Nacos, Eureka and Consul
// HTTP APIs that drainit calls, with the behaviours documented in
// shared/registries.md (Nacos 3's 410, PUT resetting omitted fields, the 60 s
// memory of enabled=false), and records every change with its time. Tests
// and benchmarks run it on 127.0.0.1.
package fakeregistry

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
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

type memo struct {
	enabled bool
	weight  float64
	at      time.Time
}

// Nacos is a fake Nacos server.
type Nacos struct {
	events
	V3          bool   // Nacos 3: 410 Gone to v1 updates; v3 admin partial update instead
	Username    string // when set, every call needs the accessToken from login
	Password    string
	RememberFor time.Duration // how long an update's enabled/weight outlive the instance (Nacos: 60 s)
	BeatExpiry  time.Duration // when set, instances without a beat for this long are removed

	mu         sync.Mutex
	instances  map[nacosKey]*Instance
	remembered map[string]memo // by ip:port:cluster
}

const token = "fake-access-token"

// NewNacos returns a Nacos 2.x-like server that remembers updates for 60 s.
func NewNacos() *Nacos {
	return &Nacos{RememberFor: 60 * time.Second, instances: map[nacosKey]*Instance{}, remembered: map[string]memo{}}
}

func (n *Nacos) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if r.URL.Path == "/nacos/v1/auth/login" {
		n.login(w, r)
		return
	}
	if n.Username != "" && r.Form.Get("accessToken") != token {
		http.Error(w, "unknown user!", http.StatusForbidden)
		return
	}
	switch r.Method + " " + r.URL.Path {
	case "POST /nacos/v1/ns/instance":
		n.register(w, r)
	case "PUT /nacos/v1/ns/instance", "PATCH /nacos/v1/ns/instance":
		if n.V3 {
			http.Error(w, "the v1 API is removed; use /nacos/v3/admin/ns/instance", http.StatusGone)
			return
		}
		n.update(w, r, r.Method == http.MethodPatch)
	case "PUT /nacos/v3/admin/ns/instance/partial":
		if !n.V3 {
			http.NotFound(w, r)
			return
		}
		n.update(w, r, true)
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

func (n *Nacos) login(w http.ResponseWriter, r *http.Request) {
	if r.Form.Get("username") != n.Username || r.Form.Get("password") != n.Password {
		http.Error(w, "unknown user!", http.StatusForbidden)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"accessToken": token, "tokenTtl": 18000, "globalAdmin": false})
}

func keyOf(r *http.Request) nacosKey {
	port, _ := strconv.Atoi(r.Form.Get("port"))
	return nacosKey{
		namespace: r.Form.Get("namespaceId"),
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

// Register adds an instance as the app's own registration would.
func (n *Nacos) register(w http.ResponseWriter, r *http.Request) {
	k := keyOf(r)
	inst := &Instance{IP: k.ip, Port: k.port, Weight: 1, Enabled: true, Healthy: true, Ephemeral: r.Form.Get("ephemeral") != "false",
		Cluster: k.cluster, Service: k.service, lastBeat: time.Now()}
	n.mu.Lock()
	if m, ok := n.remembered[k.addr()]; ok && time.Since(m.at) < n.RememberFor {
		inst.Enabled, inst.Weight = m.enabled, m.weight
	}
	n.instances[k] = inst
	n.mu.Unlock()
	n.add("nacos register %s enabled=%v", k.addr(), inst.Enabled)
	w.Write([]byte("ok"))
}

// update applies an instance update: partial changes only the fields sent;
// a full update (v1 PUT) resets omitted weight and enabled to 1 and true.
func (n *Nacos) update(w http.ResponseWriter, r *http.Request, partial bool) {
	k := keyOf(r)
	n.mu.Lock()
	inst, ok := n.instances[k]
	if !ok {
		n.mu.Unlock()
		http.Error(w, "instance not found", http.StatusBadRequest)
		return
	}
	if v := r.Form.Get("enabled"); v != "" || !partial {
		inst.Enabled = v != "false"
	}
	if v := r.Form.Get("weight"); v != "" || !partial {
		inst.Weight, _ = strconv.ParseFloat(orDefault(v, "1"), 64)
	}
	n.remembered[k.addr()] = memo{enabled: inst.Enabled, weight: inst.Weight, at: time.Now()}
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

func (n *Nacos) deregister(w http.ResponseWriter, r *http.Request) {
	k := keyOf(r)
	n.mu.Lock()
	delete(n.instances, k)
	n.mu.Unlock()
	n.add("nacos deregister %s", k.addr())
	w.Write([]byte("ok"))
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

func (n *Nacos) list(w http.ResponseWriter, r *http.Request) {
	namespace, group, service := r.Form.Get("namespaceId"), orDefault(r.Form.Get("groupName"), "DEFAULT_GROUP"), r.Form.Get("serviceName")
	hosts := []Instance{}
	n.mu.Lock()
	n.expire()
	for k, inst := range n.instances {
		if k.namespace == namespace && k.group == group && k.service == service {
			hosts = append(hosts, *inst)
		}
	}
	n.mu.Unlock()
	n.add("nacos list %s", service)
	json.NewEncoder(w).Encode(map[string]any{"name": group + "@@" + service, "hosts": hosts})
}

// expire drops instances whose heartbeats stopped; n.mu is held.
func (n *Nacos) expire() {
	if n.BeatExpiry == 0 {
		return
	}
	for k, inst := range n.instances {
		if inst.Ephemeral && time.Since(inst.lastBeat) > n.BeatExpiry {
			delete(n.instances, k)
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
