package fakeregistry

import (
	"net/http"
	"strings"
)

// Eureka records status overrides: PUT /eureka/apps/{APP}/{ID}/status?value=.
type Eureka struct {
	events
}

func (e *Eureka) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/eureka/apps/"), "/")
	if r.Method != http.MethodPut || len(parts) != 3 || parts[2] != "status" || r.URL.Query().Get("value") == "" {
		http.NotFound(w, r)
		return
	}
	e.add("eureka status %s/%s %s", parts[0], parts[1], r.URL.Query().Get("value"))
}

// Consul records maintenance mode: PUT /v1/agent/service/maintenance/{ID}.
type Consul struct {
	events
	Token string // when set, X-Consul-Token must match
}

func (c *Consul) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, "/v1/agent/service/maintenance/")
	if r.Method != http.MethodPut || !ok {
		http.NotFound(w, r)
		return
	}
	if c.Token != "" && r.Header.Get("X-Consul-Token") != c.Token {
		http.Error(w, "Permission denied", http.StatusForbidden)
		return
	}
	c.add("consul maintenance %s enable=%s", id, r.URL.Query().Get("enable"))
}
