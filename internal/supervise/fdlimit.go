package supervise

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/hashicorp/go-hclog"
)

// What one -j slot costs the supervisor in file descriptors, at its peak.
//
// A worker being started holds: stdin (2, the read end closed after start;
// the write end stays open as the parent-death pipe), the result pipe on
// fd 3 (2, the write end closed after start), the stderr+stdout pipe exec
// makes for a non-file writer (2, one kept), the close-on-exec pipe
// os.StartProcess uses to learn whether exec worked (2, gone once it did)
// and the worker's pidfd (1, kept until Wait). Slots start concurrently, so
// the peak counts them all.
//
// Before and after the workers, the same -j bounds the in-process status
// inspection: one SQLite connection holds the database file and its journal,
// or the file, -wal and -shm in WAL mode (3); a PostgreSQL one holds a
// socket. Both uses are counted together, to stay safe if they ever overlap.
const (
	workerFDs  = 2 + 2 + 2 + 2 + 1
	inspectFDs = 3
	slotFDs    = workerFDs + inspectFDs
	// fdReserve is for everything else the supervisor has open: stdio, the
	// runtime's epoll and wake-up descriptors, the config database (read
	// before and after the pool), label files, a terminal, and room to spare.
	fdReserve = 32
)

// ErrTooManyOpenFiles is wrapped by the reason of a product whose worker
// could not be started because the supervisor ran out of file descriptors:
// the product failed for that, not for anything its database did.
var ErrTooManyOpenFiles = errors.New("too many open files")

// fdLimit returns the supervisor's soft RLIMIT_NOFILE, the limit open(2) and
// pipe(2) enforce. It does not raise it: since Go 1.19 the runtime already
// raises the soft limit to (just below) the hard one at start-up, and
// restores the original soft limit in the processes it starts (which a
// Setrlimit of ours would turn off). ok is false when it cannot be read or
// is unlimited.
func fdLimit() (limit uint64, ok bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, false
	}
	if rl.Cur == ^uint64(0) { // RLIM_INFINITY
		return 0, false
	}
	return rl.Cur, true
}

// maxParallel is how many slots fit in limit file descriptors, at least 1:
// with fewer descriptors than one slot needs, one at a time is the best
// there is.
func maxParallel(limit uint64) int {
	if limit <= fdReserve+slotFDs {
		return 1
	}
	n := (limit - fdReserve) / slotFDs
	if n > uint64(^uint(0)>>1) {
		return int(^uint(0) >> 1)
	}
	return int(n)
}

// LimitParallel returns requested (-j N), capped so that that many worker
// slots cannot run the supervisor out of file descriptors, and logs one line
// when it caps: an EMFILE halfway through a run would fail products for no
// fault of theirs. Values below 2 are returned as they are.
func LimitParallel(requested int, log hclog.Logger) int {
	limit, ok := fdLimit()
	if requested < 2 || !ok {
		return requested
	}
	n := maxParallel(limit)
	if n >= requested {
		return requested
	}
	if log != nil {
		log.Warn(fmt.Sprintf("-j %d capped to %d: the file-descriptor limit is %d (ulimit -n); each worker needs about %d",
			requested, n, limit, slotFDs))
	}
	return n
}

// fdError describes err, when it is EMFILE or ENFILE, as what it is: the
// supervisor is out of file descriptors (with the limit, so the remedy is
// plain). Any other error comes back unchanged.
func fdError(err error) error {
	switch {
	case errors.Is(err, syscall.EMFILE):
		if limit, ok := fdLimit(); ok {
			return fmt.Errorf("%w (ulimit -n %d)", ErrTooManyOpenFiles, limit)
		}
		return fmt.Errorf("%w (ulimit -n)", ErrTooManyOpenFiles)
	case errors.Is(err, syscall.ENFILE):
		return fmt.Errorf("%w in the system (ENFILE: fs.file-max)", ErrTooManyOpenFiles)
	}
	return err
}
