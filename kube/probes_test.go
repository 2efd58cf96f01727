package kube

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// The probes as a pod's JSON gives them: ports by number or by name, the
// API's defaults, a probe to another host and exec probes left out.
func TestTrafficOfReadsTheProbes(t *testing.T) {
	data := `{"spec":{"containers":[{"ports":[{"name":"http","containerPort":8080}],
	  "readinessProbe":{"httpGet":{"path":"/ready","port":"http"},"periodSeconds":2},
	  "livenessProbe":{"tcpSocket":{"port":8080},"timeoutSeconds":3}},
	 {"readinessProbe":{"exec":{"command":["true"]}},"livenessProbe":{"httpGet":{"host":"example.test","port":80}}},
	 {"readinessProbe":{"grpc":{"port":9090},"periodSeconds":5}}]},
	 "status":{"hostIP":"192.0.2.2"}}`
	var p podJSON
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		t.Fatal(err)
	}
	got := trafficOf(p)
	want := []Probe{
		{Port: 8080, Period: 2 * time.Second, Timeout: time.Second, Kind: "http"},
		{Port: 8080, Period: 10 * time.Second, Timeout: 3 * time.Second, Kind: "tcp"},
		{Port: 9090, Period: 5 * time.Second, Timeout: time.Second, Kind: "grpc"},
	}
	if !reflect.DeepEqual(got.Probes, want) {
		t.Errorf("probes %+v, want %+v", got.Probes, want)
	}
	if got.HostIP.String() != "192.0.2.2" {
		t.Errorf("hostIP %v", got.HostIP)
	}
}
