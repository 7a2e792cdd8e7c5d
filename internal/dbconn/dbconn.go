// Package dbconn opens product and config databases: SQLite files through the
// pure-Go modernc driver and PostgreSQL through pgx's database/sql adapter.
package dbconn

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrMissing reports a SQLite database file that does not exist.
var ErrMissing = errors.New("database file does not exist")

// Options say how to open a database.
type Options struct {
	// ReadOnly opens a SQLite file read-only; it is never created.
	ReadOnly bool
	// Create allows creating a missing SQLite file. Without it a missing file
	// is ErrMissing: looking must never create a database.
	Create bool
	// ConnectTimeout bounds connecting to a PostgreSQL server (default
	// DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// ImmediateTx makes every SQLite transaction BEGIN IMMEDIATE: it takes the
	// write lock at once, so what a migration decides inside it stays true.
	ImmediateTx bool
	// BusyTimeout is how long SQLite waits for another writer's lock
	// (default DefaultLockTimeout).
	BusyTimeout time.Duration
	// Scratch opens a SQLite file that is the caller's alone until the
	// caller publishes it (a new product built aside, see worker): no
	// journal file and no fsync (journal_mode MEMORY, synchronous OFF).
	// A crash can leave it half written, so the caller must sync it
	// before anyone else may open it.
	Scratch bool
	// FailIfLocked makes SQLite give up at once, without waiting, when
	// another connection holds the lock it needs (busy_timeout 0): a caller
	// that wants to say it is about to wait tries so first.
	FailIfLocked bool
	// LockTimeout is PostgreSQL's lock_timeout for every session of the
	// pool: a statement that waits longer for a table or row lock held by
	// another session fails (SQLSTATE 55P03; see Explain). 0 keeps the
	// server's setting.
	LockTimeout time.Duration
	// OnLockWait, when set, is told once per statement when a session of
	// the pool starts waiting for a lock held by another session. A
	// connection of its own polls the server for it every LockWatchInterval.
	OnLockWait func(LockWait)
}

// Open opens the database t names and checks that it answers.
func Open(ctx context.Context, t Target, o Options) (*sql.DB, error) {
	switch t.Dialect {
	case SQLite:
		return openSQLite(ctx, t.Path, o)
	case Postgres:
		return openPostgres(ctx, t, o)
	default:
		return nil, fmt.Errorf("unknown database dialect %q", t.Dialect)
	}
}
