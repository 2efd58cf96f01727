VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/drainit/drainit/cli.Version=$(VERSION)

.PHONY: build test demo vet clean

build:
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/drainit .

test: build
	go vet ./...
	go test -count=1 -timeout 10m ./...

demo: build
	examples/demo.sh

clean:
	rm -rf bin
