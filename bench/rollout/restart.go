package main

import (
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/drainit/drainit/bench/benchdata"
	"github.com/drainit/drainit/internal/testsupport/fakeregistry"
)

// A restart on the same address (a liveness restart or an OOM kill: the pod
// keeps its IP): the instance is drained, exits, and a new one registers on
// the same ip:port within Nacos's 60 s memory of enabled=false. With the
// start-up re-enable it is listed again within about a second; without it,
// never. A stable instance beside it keeps serving, so nothing is lost
// either way: what is lost is the restarted instance's capacity.
const restartWindow = 15 * time.Second

func runRestarts(s settings, dir string) ([]benchdata.RestartResult, error) {
	var out []benchdata.RestartResult
	for _, reenable := range []bool{true, false} {
		for i := 1; i <= s.runs; i++ {
			r, err := restartOnce(s, dir, reenable)
			if err != nil {
				return nil, fmt.Errorf("restart (re-enable %v) run %d: %w", reenable, i, err)
			}
			r.Run = i
			fmt.Printf("%-40s run %d: listed again %v after %v; failed %d of %d\n", r.Variant, i, r.Listed, r.ListedAfter.Round(time.Millisecond), r.Failed, r.Sent)
			out = append(out, r)
		}
	}
	return out, nil
}

func restartOnce(s settings, dir string, reenable bool) (benchdata.RestartResult, error) {
	registry := fakeregistry.NewNacos()
	registry.BeatExpiry = 3 * time.Second
	srv := httptest.NewServer(registry)
	defer srv.Close()
	w := wrapper{Name: "drainit, nacos + wait, restart", argv: []string{"drainit", "--"}, env: []string{
		"DRAINIT_PRESTOP=nacos; sleep 2s", "DRAINIT_NACOS_ADDR={NACOS}", "DRAINIT_NACOS_SERVICE=demo",
		"DRAINIT_NACOS_IP={IP}", "DRAINIT_NACOS_PORT={PORT}", fmt.Sprintf("DRAINIT_NACOS_REENABLE=%v", reenable)}}
	result := benchdata.RestartResult{Variant: fmt.Sprintf("restart on the same address, re-enable %v", reenable)}
	stable, err := startInstance(s, w, srv.URL, dir+"/stable-events", 0)
	if err != nil {
		return result, err
	}
	defer stable.kill()
	first, err := startInstance(s, w, srv.URL, dir+"/first-events", 0)
	if err != nil {
		return result, err
	}
	defer first.kill()
	for _, in := range []*instance{stable, first} {
		if err := waitRegistered(registry, in.port); err != nil {
			return result, err
		}
	}
	callers := startLoad(nacosList(srv.URL), s.rate)
	time.Sleep(2 * time.Second) // callers see both instances
	first.stop(s.grace)
	second, err := startInstance(s, w, srv.URL, dir+"/second-events", first.port)
	if err != nil {
		callers.stop()
		return result, err
	}
	defer second.kill()
	if err := waitRegistered(registry, first.port); err != nil {
		callers.stop()
		return result, err
	}
	registered := time.Now()
	for time.Since(registered) < restartWindow && !result.Listed {
		result.Listed = registry.Listed("demo", "127.0.0.1", first.port)
		time.Sleep(50 * time.Millisecond)
	}
	result.ListedAfter = time.Since(registered)
	var failures map[string]int64
	result.Sent, failures = callers.stop()
	for _, n := range failures {
		result.Failed += n
	}
	return result, nil
}
