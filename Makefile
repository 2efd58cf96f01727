VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# -E: drainit's own entry point records the signal state it inherited before
# the Go runtime starts (signals/entry_linux_*.s).
ENTRY := github.com/drainit/drainit/signals.entry
LDFLAGS := -s -w -E $(ENTRY) -X github.com/drainit/drainit/cli.Version=$(VERSION)

.PHONY: build testbins test fuzz demo bench clean docker-images test-docker bench-docker release k8s-build k8s-up k8s-down test-k8s bench-k8s

build:
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/drainit .

# Installs what the tests need first (a JDK, util-linux, curl) when missing.
test: build
	scripts/install-deps.sh
	go vet ./...
	go test -count=1 -timeout 10m -parallel 4 ./...
	scripts/test-unprivileged.sh

# The test app, the fake registry and the rollout bench as static binaries,
# for the images.
testbins:
	CGO_ENABLED=0 go build -trimpath -o bin/testprog ./internal/testsupport/testprog
	CGO_ENABLED=0 go build -trimpath -o bin/fakeregistryd ./internal/testsupport/fakeregistry/fakeregistryd
	CGO_ENABLED=0 go build -trimpath -o bin/rollout ./bench/rollout

# Every image the container tests and examples use, built from nothing (no
# pulls): a Debian base by debootstrap, drainit:dev FROM scratch, the Java
# example and the test kit. Needs root and a Docker engine.
docker-images: build testbins
	scripts/docker-images.sh

# The container tests: drainit under the Docker engine's own commands.
test-docker: docker-images
	DRAINIT_DOCKER_TESTS=1 go test -count=1 -timeout 20m -v ./e2e/docker/

# The rolling-update bench across containers (registry, old and new
# instance, callers), stopped with docker stop; about 10 minutes.
bench-docker: docker-images
	go run ./bench/rollout -docker -runs 3

# A single-node Kubernetes on this machine, built from the Go module proxy
# and Debian's packages (scripts/k8s-up.sh); k8s-down removes every trace.
# The binaries are built once per version (about 11 minutes) and kept.
k8s-build:
	scripts/k8s-build.sh

k8s-up: docker-images
	scripts/k8s-up.sh

k8s-down:
	scripts/k8s-down.sh

# drainit in pods of that cluster (brought up if it is not): the images are
# imported again when make docker-images changed them.
test-k8s: k8s-up
	scripts/k8s-images.sh
	DRAINIT_K8S_TESTS=1 go test -count=1 -timeout 30m -v ./e2e/k8s/

# The rolling update in that cluster, side by side, callers in a pod (11
# rows, 3 rollouts each: about 45 minutes): a JSON line a row and kind of
# caller on stdout, bench/results/rollout-k8s.json, then the report.
bench-k8s: k8s-up
	scripts/k8s-images.sh
	go run ./bench/rollout -k8s -runs 3 -rate 450
	go run ./bench/report

# Static binaries for linux/amd64 and linux/arm64, and their SHA256SUMS.
release:
	rm -rf dist && mkdir -p dist
	for arch in amd64 arm64; do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$arch go build -trimpath -ldflags '$(LDFLAGS)' -o dist/drainit-linux-$$arch . || exit 1; \
	done
	cd dist && sha256sum drainit-linux-* > SHA256SUMS && cat SHA256SUMS

# Every fuzz target for FUZZTIME (3s) each; CI runs it after the tests.
fuzz:
	scripts/fuzz.sh

# Installs tini, dumb-init, catatonit, hyperfine and gnuplot and builds the
# Consul agent once; needs root; about 25 minutes on 2 cores (and 5 for Consul).
bench: build
	scripts/install-deps.sh --bench
	scripts/consul-build.sh
	go run ./bench/costs
	go run ./bench/rollout -runs 3
	go run ./bench/report

demo: build
	examples/demo.sh

clean:
	rm -rf bin dist
