//go:build !(linux && (amd64 || arm64))

package signals

import (
	"os"
	"syscall"
)

func catchReserved(chan<- os.Signal, []syscall.Signal) {}
