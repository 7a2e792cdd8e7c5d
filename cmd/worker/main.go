// Command worker runs one supervisor job by hand: it reads a JSON job spec
// (see internal/job) on stdin and writes the result record on stdout, e.g.
//
//	echo '{"action":"migrate","endpoint":"Default","target":{"dialect":"sqlite","path":"/ws/Default.sqlite"}}' | worker
//
// Durations in the spec's "options" (lock_timeout, connect_timeout) are
// integers of nanoseconds. It is the same code the supervisor runs in each of
// its worker processes.
package main

import (
	"os"

	"supervisor/internal/worker"
)

func main() {
	os.Exit(worker.Serve(os.Stdin, os.Stderr))
}
