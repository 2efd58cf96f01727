// Command gofloor is the least a Go init can be: it asks for every signal,
// runs its argument and waits for it. The costs bench measures it beside
// drainit to show how much of drainit's cost is the Go runtime itself.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signal.Notify(make(chan os.Signal, 64))
	pid, err := syscall.ForkExec(os.Args[2], os.Args[2:], &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
	if err != nil {
		os.Exit(127)
	}
	var ws syscall.WaitStatus
	syscall.Wait4(pid, &ws, 0, nil)
	os.Exit(ws.ExitStatus())
}
