module github.com/drainit/drainit

go 1.26.8

require (
	github.com/caarlos0/env/v10 v10.0.0
	github.com/rogpeppe/go-internal v1.16.0
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/sys v0.49.0
)

require golang.org/x/tools v0.26.0 // indirect
