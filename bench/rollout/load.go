package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// callers refresh their instance list from the registry every second, as
// Nacos and Ribbon clients do (scaled down), and send a steady rate of
// requests round-robin over it: a new connection each or kept-alive ones.
// Go's transport retries a GET once, on a new connection, when the server
// closed a reused one before answering; each such retry is counted.
type callers struct {
	list    lister
	refresh time.Duration
	client  *http.Client
	cache   atomic.Value // []string of base URLs
	next    atomic.Uint64
	sent    atomic.Int64
	retried atomic.Int64
	done    chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	failures map[string]int64
}

func startLoad(list lister, rate int) *callers {
	return startCallers(list, rate, time.Second, false)
}

// startCallers is one group of callers with its own cache refresh and
// connection reuse.
func startCallers(list lister, rate int, refresh time.Duration, keepAlive bool) *callers {
	c := &callers{
		list:     list,
		refresh:  refresh,
		client:   &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 16}},
		done:     make(chan struct{}),
		failures: map[string]int64{},
	}
	c.refreshList()
	c.wg.Add(2)
	go c.refreshLoop()
	go c.sendLoop(rate)
	return c
}

func (c *callers) refreshLoop() {
	defer c.wg.Done()
	tick := time.NewTicker(c.refresh)
	defer tick.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-tick.C:
			c.refreshList()
		}
	}
}

func (c *callers) refreshList() {
	if urls, err := c.list(); err == nil {
		c.cache.Store(urls)
	}
}

// lister reads the instances callers may use from a registry, as base URLs.
type lister func() ([]string, error)

// nacosList keeps the enabled, healthy instances, as the Nacos clients'
// selectInstances does.
func nacosList(registry string) lister {
	return func() ([]string, error) {
		resp, err := http.Get(registry + "/nacos/v1/ns/instance/list?serviceName=demo")
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var list struct {
			Hosts []struct {
				IP      string
				Port    int
				Enabled bool
				Healthy bool
			}
		}
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			return nil, err
		}
		var urls []string
		for _, h := range list.Hosts {
			if h.Enabled && h.Healthy {
				urls = append(urls, instanceURL(h.IP, h.Port))
			}
		}
		return urls, nil
	}
}

func instanceURL(ip string, port int) string {
	return "http://" + net.JoinHostPort(ip, strconv.Itoa(port)) + "/"
}

func (c *callers) sendLoop(rate int) {
	defer c.wg.Done()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-tick.C:
			urls, _ := c.cache.Load().([]string)
			if len(urls) == 0 {
				c.fail("no instance")
				continue
			}
			url := urls[c.next.Add(1)%uint64(len(urls))]
			c.sent.Add(1)
			c.wg.Add(1)
			go c.send(url)
		}
	}
}

func (c *callers) send(url string) {
	defer c.wg.Done()
	var conns atomic.Int32
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { conns.Add(1) }}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", url, nil)
	resp, err := c.client.Do(req)
	if conns.Load() > 1 {
		c.retried.Add(1)
	}
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if kind := classify(resp, err); kind != "" {
		c.fail(kind)
	}
}

func (c *callers) fail(kind string) {
	c.mu.Lock()
	c.failures[kind]++
	c.mu.Unlock()
}

// stop ends the load, waits for requests in flight, and reports.
func (c *callers) stop() (int64, map[string]int64) {
	close(c.done)
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent.Load(), c.failures
}

func classify(resp *http.Response, err error) string {
	var netErr net.Error
	switch {
	case err == nil && resp.StatusCode/100 == 2:
		return ""
	case err == nil:
		return "non-2xx"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "reset"
	}
	return "other"
}

// mixedLoad is the registry's callers of three kinds (see
// registryCallers) and a kubelet-like probe of the old instance from
// another loopback address (127.0.0.2) every second.
type mixedLoad struct {
	*registryCallers
	probe chan struct{}
}

func startMixed(registry string, rate, probePort int) *mixedLoad {
	m := &mixedLoad{registryCallers: startRegistryCallers(registry, rate), probe: make(chan struct{})}
	go probe(probePort, m.probe)
	return m
}

func probe(port int, done chan struct{}) {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(probeAddr)}}
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			if resp, err := client.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/"); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	}
}

// probeAddr stands for the node's address: drainit is told it as HOST_IP.
const probeAddr = "127.0.0.2"

func (m *mixedLoad) stop() (int64, map[string]int64) {
	close(m.probe)
	return m.registryCallers.stop()
}

// startFixed is callers that send to one URL (a Service's ClusterIP) at
// rate: kube-proxy picks the pod.
func startFixed(url string, rate int, keepAlive bool) *callers {
	c := &callers{
		client:   &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 64}},
		done:     make(chan struct{}),
		failures: map[string]int64{},
	}
	c.cache.Store([]string{url})
	c.wg.Add(1)
	go c.sendLoop(rate)
	return c
}

// registryCallers are three groups of callers of the registry's list, a
// third of the rate each, with caches of 1 s (a connection per request),
// 2 s and 6 s (kept-alive).
type registryCallers struct{ groups []*callers }

func startRegistryCallers(registry string, rate int) *registryCallers {
	r := &registryCallers{}
	for _, g := range []struct {
		refresh   time.Duration
		keepAlive bool
	}{{time.Second, false}, {2 * time.Second, true}, {6 * time.Second, true}} {
		r.groups = append(r.groups, startCallers(nacosList(registry), max(rate/3, 1), g.refresh, g.keepAlive))
	}
	return r
}

func (r *registryCallers) stop() (int64, map[string]int64) {
	var sent int64
	failures := map[string]int64{}
	for _, g := range r.groups {
		n, f := g.stop()
		sent += n
		for k, v := range f {
			failures[k] += v
		}
	}
	return sent, failures
}
