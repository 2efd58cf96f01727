package main

import (
	"encoding/json"
	"net/http"
	"sync"
)

// The callers of the Kubernetes bench run in a pod of the cluster, as real
// callers do: their address is a pod's, not the node's, which is also
// where the kubelet's probes come from. The pod serves /stop on :9000,
// which ends the load and answers what each kind of caller saw.
type k8sCallerResult struct {
	Sent, Retried int64
	Failures      map[string]int64
}

// The three kinds of caller, each a third of the rate.
const (
	serviceNewConn   = "ClusterIP, a connection per request"
	serviceKeptAlive = "ClusterIP, kept-alive connections"
	registryCaches   = "registry, caches of 1, 2 and 6 s"
)

var callerKinds = []string{serviceNewConn, serviceKeptAlive, registryCaches}

// runK8sCallers is the callers' pod: service is the ClusterIP's URL (""
// for none), registry the fake Nacos's ("" for none).
func runK8sCallers(service, registry string, rate int) error {
	loads := map[string][]*callers{}
	if service != "" {
		loads[serviceNewConn] = []*callers{startFixed(service, rate/3, false)}
		loads[serviceKeptAlive] = []*callers{startFixed(service, rate/3, true)}
	}
	if registry != "" {
		loads[registryCaches] = startRegistryCallers(registry, rate/3).groups
	}
	var once sync.Once
	results := map[string]k8sCallerResult{}
	http.HandleFunc("/stop", func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			for kind, groups := range loads {
				res := k8sCallerResult{Failures: map[string]int64{}}
				for _, g := range groups {
					sent, failures := g.stop()
					res.Sent += sent
					res.Retried += g.retried.Load()
					for k, v := range failures {
						res.Failures[k] += v
					}
				}
				results[kind] = res
			}
		})
		json.NewEncoder(w).Encode(results)
	})
	http.HandleFunc("/ready", func(http.ResponseWriter, *http.Request) {})
	return http.ListenAndServe(":9000", nil)
}
