VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# -E: drainit's own entry point records the signal state it inherited before
# the Go runtime starts (signals/entry_linux_*.s).
ENTRY := github.com/drainit/drainit/signals.entry
LDFLAGS := -s -w -E $(ENTRY) -X github.com/drainit/drainit/cli.Version=$(VERSION)

.PHONY: build test fuzz demo bench clean

build:
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/drainit .

test: build
	go vet ./...
	go test -count=1 -timeout 10m ./...
	scripts/test-unprivileged.sh

# Every fuzz target for FUZZTIME (3s) each; CI runs it after the tests.
fuzz:
	scripts/fuzz.sh

# Installs tini, dumb-init, catatonit, hyperfine and gnuplot; needs root; about 25 minutes on 2 cores.
bench: build
	scripts/install-deps.sh --bench
	go run ./bench/costs
	go run ./bench/rollout -runs 3
	go run ./bench/report

demo: build
	examples/demo.sh

clean:
	rm -rf bin
