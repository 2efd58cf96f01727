// Command drainit is a PID 1 for containers: it runs the entrypoint as its
// child, forwards signals, reaps zombies and waits for the whole process
// tree before exiting. See package cli for the flags and variables.
package main

import (
	_ "embed"
	"os"

	"github.com/drainit/drainit/cli"
	"github.com/drainit/drainit/signals"
)

//go:embed LICENSE
var license string

func main() {
	// First thing: a Go PID 1 that has not asked for SIGTERM dies of it.
	sigs := signals.Listen()
	cli.License = license
	os.Exit(cli.Main(os.Args, sigs))
}
