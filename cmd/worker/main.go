// Command worker runs one supervisor job by hand: it reads a JSON job spec
// (see internal/job) on stdin and writes the result record on stdout, e.g.
//
//	echo '{"action":"migrate","endpoint":"Default","target":{"dialect":"sqlite","path":"/ws/Default.sqlite"}}' | worker
//
// Durations in the spec's "options" (lock_timeout, connect_timeout) are
// integers of nanoseconds. It is the same code the supervisor runs in each of
// its worker processes.
//
// A cleanup's severity upgrade takes the checker label directory as
// "options": {"checker_labels": "DIR"}; the supervisor sends its digest
// ("severity_labels", see labels.Digest) instead, parsed once for all
// workers. With SUPERVISOR_WORKER_CPUPROFILE=FILE in its environment the
// worker writes a CPU profile of its job to FILE (bench/profile-cleanup.sh);
// the supervisor does not pass that variable to its workers.
package main

import (
	"os"

	"supervisor/internal/worker"
)

func main() {
	os.Exit(worker.Serve(os.Stdin, os.Stderr))
}
