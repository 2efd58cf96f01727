// Command pause is the test cluster's sandbox process (the pod's first
// container, which holds its namespaces): it waits for SIGINT or SIGTERM and
// reaps whatever is handed to it meanwhile. Built static and imported as the
// cluster's pause image by scripts/k8s-images.sh, since no registry can be
// reached to pull one.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
