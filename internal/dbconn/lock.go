package dbconn

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"time"
)

// ErrLockTimeout is returned when another process holds a database's lock
// too long. The lock is the one every supervisor's work on a database takes
// (migrate and cleanup alike), so the message says who holds it only as far
// as it is known.
var ErrLockTimeout = errors.New("timed out waiting for the database lock")

// LockError returns err wrapped in ErrLockTimeout when it is SQLite's
// SQLITE_BUSY: another connection (another supervisor working on the
// database, a long reader, CodeChecker's server writing) kept the database
// locked for longer than timeout, the busy timeout the database was opened
// with. Any other err, nil included, is returned as it is.
func LockError(err error, timeout time.Duration) error {
	if err == nil || errors.Is(err, ErrLockTimeout) || !IsLocked(err) {
		return err
	}
	return fmt.Errorf("%w (%s): the database is locked by another process (another supervisor working on it?): %w", ErrLockTimeout, timeout, err)
}

// LockName is the name of the lock every supervisor's work on a database
// of schema kind ("product", "config") takes: "supervisor:product".
func LockName(kind string) string { return "supervisor:" + kind }

// AdvisoryLockKey is the PostgreSQL advisory lock key of the lock called
// name (LockName): FNV-64a of the name. Tests that hold the lock from
// outside derive it here, so there is one derivation.
func AdvisoryLockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// LockOptions say how Lock waits.
type LockOptions struct {
	// Timeout bounds the wait (default DefaultLockTimeout).
	Timeout time.Duration
	// OnWait, when set, is called once, when the lock is first found held
	// by another session: the caller is about to wait at most timeout.
	OnWait func(timeout time.Duration)
	// OnAcquired, when set, is called once the lock is taken, with how long
	// Lock waited for it (0 when it was free).
	OnAcquired func(waited time.Duration)
}

// lockPoll is how often Lock tries a held lock again.
const lockPoll = 100 * time.Millisecond

// Lock takes the lock called name (LockName) that every supervisor's work
// on a database holds: on PostgreSQL a session advisory lock on a
// connection of its own, so that a cleanup never runs beside a migration of
// the same database. SQLite needs none beyond its own write lock, which
// every transaction of ours takes at BEGIN (waiting up to the busy
// timeout): there Lock returns at once and calls no hook. The returned
// function releases the lock; call it even when ctx was cancelled (with a
// context that is not), the lock must not outlive the job.
func Lock(ctx context.Context, db *sql.DB, d Dialect, name string, o LockOptions) (func(context.Context), error) {
	if d != Postgres {
		return func(context.Context) {}, nil
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = DefaultLockTimeout
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("take the supervisor's lock: %w", Explain(err, 0))
	}
	key := AdvisoryLockKey(name)
	start := time.Now()
	deadline := start.Add(timeout)
	waited := false
	for ; ; waited = true {
		var got bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
			conn.Close()
			return nil, fmt.Errorf("take the supervisor's lock: %w", Explain(err, 0))
		}
		if got {
			break
		}
		if !waited && o.OnWait != nil {
			o.OnWait(timeout)
		}
		if time.Now().After(deadline) {
			conn.Close()
			return nil, fmt.Errorf("%w (%s): another supervisor is working on this database (it holds the supervisor's lock)", ErrLockTimeout, timeout)
		}
		select {
		case <-ctx.Done():
			conn.Close()
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
	if o.OnAcquired != nil {
		var d time.Duration
		if waited {
			d = time.Since(start)
		}
		o.OnAcquired(d)
	}
	return func(ctx context.Context) {
		conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", key)
		conn.Close()
	}, nil
}
