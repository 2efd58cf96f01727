package fakeregistry

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// Eureka is a fake Eureka server as Spring Cloud Netflix serves it (under
// /eureka, without /v2), after Netflix/eureka 2.0.6.
type Eureka struct {
	events
	// User and Password, when set, are required as Basic auth (Eureka
	// servers are often behind it: http://user:pass@eureka:8761/eureka).
	User, Password string

	mu        sync.Mutex
	instances map[string]*eurekaInstance // by APP/ID
	overrides map[string]string          // by instance id
}

type eurekaInstance struct {
	InstanceID       string `json:"instanceId"`
	App              string `json:"app"`
	Status           string `json:"status"`
	OverriddenStatus string `json:"overriddenStatus"`
}

// Register adds an instance as its client's registration would: a status
// override still held for its id applies (AbstractInstanceRegistry:248).
func (e *Eureka) Register(app, id string) {
	app = strings.ToUpper(app)
	e.mu.Lock()
	e.init()
	inst := &eurekaInstance{InstanceID: id, App: app, Status: "UP", OverriddenStatus: "UNKNOWN"}
	if o, ok := e.overrides[id]; ok {
		inst.Status, inst.OverriddenStatus = o, o
	}
	e.instances[app+"/"+id] = inst
	e.mu.Unlock()
	e.add("eureka register %s/%s %s", app, id, inst.Status)
}

// Status is the status the server gives the instance, "" when unknown.
func (e *Eureka) Status(app, id string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if inst, ok := e.instances[strings.ToUpper(app)+"/"+id]; ok {
		return inst.Status
	}
	return ""
}

func (e *Eureka) init() {
	if e.instances == nil {
		e.instances, e.overrides = map[string]*eurekaInstance{}, map[string]string{}
	}
}

func (e *Eureka) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e.User != "" {
		if user, pw, ok := r.BasicAuth(); !ok || user != e.User || pw != e.Password {
			w.Header().Set("WWW-Authenticate", `Basic realm="eureka"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/eureka/apps/"), "/")
	parts[0] = strings.ToUpper(parts[0])
	switch {
	case r.Method == http.MethodGet && len(parts) == 1:
		e.getApp(w, parts[0])
	case r.Method == http.MethodGet && len(parts) == 2:
		e.getInstance(w, parts[0], parts[1])
	case len(parts) == 3 && parts[2] == "status" && (r.Method == http.MethodPut || r.Method == http.MethodDelete):
		e.status(w, r, parts[0], parts[1])
	case r.Method == http.MethodDelete && len(parts) == 2:
		e.cancel(w, parts[0], parts[1])
	default:
		http.NotFound(w, r)
	}
}

// status is PUT .../status?value=X (an override, kept by instance id and
// re-applied on every registration and heartbeat: AbstractInstanceRegistry
// :351-388) and DELETE .../status?value=UP (the override removed).
// InstanceResource:158-185: 404 for an instance this server does not hold,
// 500 for a bad value.
func (e *Eureka) status(w http.ResponseWriter, r *http.Request, app, id string) {
	value := r.URL.Query().Get("value")
	e.mu.Lock()
	e.init()
	inst, ok := e.instances[app+"/"+id]
	switch {
	case !ok:
		e.mu.Unlock()
		http.NotFound(w, r)
		return
	case r.Method == http.MethodPut && !validStatus(value):
		e.mu.Unlock()
		http.Error(w, "bad status", http.StatusInternalServerError)
		return
	case r.Method == http.MethodPut:
		e.overrides[id], inst.Status, inst.OverriddenStatus = value, value, value
	default:
		delete(e.overrides, id)
		inst.Status, inst.OverriddenStatus = orDefault(value, "UP"), "UNKNOWN"
	}
	e.mu.Unlock()
	if r.Method == http.MethodPut {
		e.add("eureka status %s/%s %s", app, id, value)
	} else {
		e.add("eureka status-cleared %s/%s %s", app, id, inst.Status)
	}
}

func validStatus(v string) bool {
	switch v {
	case "UP", "DOWN", "STARTING", "OUT_OF_SERVICE", "UNKNOWN":
		return true
	}
	return false
}

// cancel deregisters: the instance and its override go.
func (e *Eureka) cancel(w http.ResponseWriter, app, id string) {
	e.mu.Lock()
	e.init()
	delete(e.instances, app+"/"+id)
	delete(e.overrides, id)
	e.mu.Unlock()
	e.add("eureka cancel %s/%s", app, id)
}

func (e *Eureka) getApp(w http.ResponseWriter, app string) {
	var list []eurekaInstance
	e.mu.Lock()
	for _, inst := range e.instances {
		if inst.App == app {
			list = append(list, *inst)
		}
	}
	e.mu.Unlock()
	if len(list) == 0 {
		http.NotFound(w, nil)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"application": map[string]any{"name": app, "instance": list}})
}

func (e *Eureka) getInstance(w http.ResponseWriter, app, id string) {
	e.mu.Lock()
	inst, ok := e.instances[app+"/"+id]
	var copied eurekaInstance
	if ok {
		copied = *inst
	}
	e.mu.Unlock()
	if !ok {
		http.NotFound(w, nil)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"instance": copied})
}

// Consul is a fake Consul agent (hashicorp/consul agent/agent_endpoint.go):
// maintenance is agent-local, so only the services registered with this
// agent can be put in it.
type Consul struct {
	events
	Token string // when set, X-Consul-Token (or Authorization: Bearer) must match

	mu          sync.Mutex
	services    map[string]string // id -> name
	maintenance map[string]bool
}

// Register adds a service instance to this agent.
func (c *Consul) Register(id, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	c.services[id] = name
}

func (c *Consul) init() {
	if c.services == nil {
		c.services, c.maintenance = map[string]string{}, map[string]bool{}
	}
}

func (c *Consul) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.Token != "" && r.Header.Get("X-Consul-Token") != c.Token && r.Header.Get("Authorization") != "Bearer "+c.Token {
		http.Error(w, "Permission denied", http.StatusForbidden)
		return
	}
	c.mu.Lock()
	c.init()
	c.mu.Unlock()
	if id, ok := strings.CutPrefix(r.URL.Path, "/v1/agent/service/maintenance/"); ok && r.Method == http.MethodPut {
		c.setMaintenance(w, r, id)
		return
	}
	if id, ok := strings.CutPrefix(r.URL.Path, "/v1/agent/service/"); ok && r.Method == http.MethodGet {
		c.mu.Lock()
		name, found := c.services[id]
		c.mu.Unlock()
		if !found {
			http.Error(w, "unknown service ID: "+id, http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"ID": id, "Service": name})
		return
	}
	if name, ok := strings.CutPrefix(r.URL.Path, "/v1/health/service/"); ok && r.Method == http.MethodGet {
		c.health(w, r, name)
		return
	}
	http.NotFound(w, r)
}

// setMaintenance: 400 without enable, 404 "No service registered with ID"
// for a service this agent does not hold; idempotent.
func (c *Consul) setMaintenance(w http.ResponseWriter, r *http.Request, id string) {
	enable := r.URL.Query().Get("enable")
	if enable == "" {
		http.Error(w, "Missing value for enable", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	_, found := c.services[id]
	if found {
		c.maintenance[id] = enable == "true"
	}
	c.mu.Unlock()
	if !found {
		http.Error(w, `No service registered with ID "`+id+`"`, http.StatusNotFound)
		return
	}
	c.add("consul maintenance %s enable=%s", id, enable)
}

// health lists the service's instances; with ?passing, not those in
// maintenance (its critical _service_maintenance check). The catalog would
// still list them.
func (c *Consul) health(w http.ResponseWriter, r *http.Request, name string) {
	_, passing := r.URL.Query()["passing"]
	type entry struct {
		Service map[string]string
	}
	list := []entry{}
	c.mu.Lock()
	for id, n := range c.services {
		if n == name && !(passing && c.maintenance[id]) {
			list = append(list, entry{Service: map[string]string{"ID": id, "Service": n}})
		}
	}
	c.mu.Unlock()
	json.NewEncoder(w).Encode(list)
}
