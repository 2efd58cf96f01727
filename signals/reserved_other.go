//go:build !(linux && (amd64 || arm64))

package signals

import "os"

func catchReserved(chan<- os.Signal) {}
