package kube

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"time"
)

// Traffic is what the pod says of traffic that is not callers': the
// node's address, and the kubelet's network probes of its containers.
type Traffic struct {
	HostIP netip.Addr // invalid when the status has none yet
	Probes []Probe
}

// Probe is one readiness or liveness probe that opens a connection to the
// pod (httpGet, tcpSocket or grpc, to the pod's own address).
type Probe struct {
	Port    uint16
	Period  time.Duration
	Timeout time.Duration
	Kind    string // "http", "tcp" or "grpc"
}

type containerJSON struct {
	Ports []struct {
		Name          string `json:"name"`
		ContainerPort int    `json:"containerPort"`
	} `json:"ports"`
	ReadinessProbe *probeJSON `json:"readinessProbe"`
	LivenessProbe  *probeJSON `json:"livenessProbe"`
}

type probeJSON struct {
	HTTPGet *struct {
		Host string          `json:"host"`
		Port json.RawMessage `json:"port"`
	} `json:"httpGet"`
	TCPSocket *struct {
		Host string          `json:"host"`
		Port json.RawMessage `json:"port"`
	} `json:"tcpSocket"`
	GRPC *struct {
		Port int `json:"port"`
	} `json:"grpc"`
	PeriodSeconds  int `json:"periodSeconds"`
	TimeoutSeconds int `json:"timeoutSeconds"`
}

// trafficOf reads the node's address and the probes; a probe to another
// host, or whose port cannot be resolved, is left out. A startup probe
// has stopped by the time the pod stops.
func trafficOf(p podJSON) Traffic {
	var t Traffic
	t.HostIP, _ = netip.ParseAddr(p.Status.HostIP)
	names := map[string]int{}
	for _, c := range p.Spec.Containers {
		for _, port := range c.Ports {
			names[port.Name] = port.ContainerPort
		}
	}
	for _, c := range p.Spec.Containers {
		for _, pr := range []*probeJSON{c.ReadinessProbe, c.LivenessProbe} {
			if probe, ok := probeOf(pr, names); ok {
				t.Probes = append(t.Probes, probe)
			}
		}
	}
	return t
}

// probeOf applies the API's defaults: every 10 s, a 1 s timeout.
func probeOf(p *probeJSON, names map[string]int) (Probe, bool) {
	if p == nil {
		return Probe{}, false
	}
	probe := Probe{Period: seconds(p.PeriodSeconds, 10), Timeout: seconds(p.TimeoutSeconds, 1)}
	var port int
	switch {
	case p.HTTPGet != nil && p.HTTPGet.Host == "":
		probe.Kind, port = "http", portOf(p.HTTPGet.Port, names)
	case p.TCPSocket != nil && p.TCPSocket.Host == "":
		probe.Kind, port = "tcp", portOf(p.TCPSocket.Port, names)
	case p.GRPC != nil:
		probe.Kind, port = "grpc", p.GRPC.Port
	}
	if port <= 0 || port > 65535 {
		return Probe{}, false
	}
	probe.Port = uint16(port)
	return probe, true
}

func seconds(n, unset int) time.Duration {
	if n <= 0 {
		n = unset
	}
	return time.Duration(n) * time.Second
}

// portOf reads an IntOrString port: a number, or a container port's name.
func portOf(raw json.RawMessage, names map[string]int) int {
	var n int
	if json.Unmarshal(raw, &n) == nil {
		return n
	}
	var name string
	if json.Unmarshal(raw, &name) == nil {
		if n, err := strconv.Atoi(name); err == nil {
			return n
		}
		return names[name]
	}
	return 0
}
