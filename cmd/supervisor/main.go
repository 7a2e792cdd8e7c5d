// Command supervisor keeps the databases of a CodeChecker-style analysis
// server healthy: see 'supervisor --help'. With SUPERVISOR_WORKER=1 in its
// environment it is one of its own worker processes instead.
package main

import (
	"context"
	"os"

	"supervisor/internal/cli"
	"supervisor/internal/worker"
)

func main() {
	if os.Getenv(worker.EnvMarker) == "1" {
		os.Exit(worker.Serve(os.Stdin, os.Stderr))
	}
	os.Exit(cli.Run(context.Background(), os.Args[1:], cli.OSEnv()))
}
