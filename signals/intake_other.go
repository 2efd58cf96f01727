//go:build !(linux && (amd64 || arm64))

package signals

import (
	"os"
	"syscall"
)

func catchByHandler(chan<- os.Signal, []syscall.Signal) {}

var byHandler []syscall.Signal
