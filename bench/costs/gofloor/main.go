// Command gofloor is the least any Go init costs: it runs its argument and
// waits for it, and does nothing else (it asks for no signal: os/signal's
// Notify for every signal alone cost about 2 ms of start-up). The costs
// bench measures it beside drainit to show how much of drainit's start-up
// is the Go runtime itself.
package main

import (
	"os"
	"syscall"
)

func main() {
	pid, err := syscall.ForkExec(os.Args[2], os.Args[2:], &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
	if err != nil {
		os.Exit(127)
	}
	var ws syscall.WaitStatus
	syscall.Wait4(pid, &ws, 0, nil)
	os.Exit(ws.ExitStatus())
}
