//go:build !(linux && (amd64 || arm64))

package signals

import (
	"os"
	"syscall"
)

func listen(ignored []syscall.Signal) chan os.Signal {
	return notifyAll(make(chan os.Signal, 512), ignored)
}
