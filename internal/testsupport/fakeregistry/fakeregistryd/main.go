// Command fakeregistryd serves the fake Nacos on ADDR (default :8848) for
// tests and benches that run the registry in a container of its own; with
// BEAT_EXPIRY (a duration), instances without a heartbeat for that long are
// removed. GET /fake/events answers what it saw, one event a line
// ("RFC3339Nano what").
//
// Usage: fakeregistryd [ADDR [BEAT_EXPIRY]]
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/drainit/drainit/internal/testsupport/fakeregistry"
)

func main() {
	addr := ":8848"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	nacos := fakeregistry.NewNacos()
	if len(os.Args) > 2 {
		expiry, err := time.ParseDuration(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "fakeregistryd:", err)
			os.Exit(2)
		}
		nacos.BeatExpiry = expiry
	}
	mux := http.NewServeMux()
	mux.Handle("/nacos/", nacos)
	mux.HandleFunc("GET /fake/events", func(w http.ResponseWriter, r *http.Request) {
		for _, e := range nacos.Events() {
			fmt.Fprintf(w, "%s %s\n", e.At.Format(time.RFC3339Nano), e.What)
		}
	})
	fmt.Fprintln(os.Stderr, "fakeregistryd: fake Nacos on", addr)
	if err := http.ListenAndServe(addr, mux); err != nil {
		fmt.Fprintln(os.Stderr, "fakeregistryd:", err)
		os.Exit(1)
	}
}
