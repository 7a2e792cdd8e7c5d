package dbconn

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"

	sqlitedrv "modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

func openSQLite(ctx context.Context, path string, o Options) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("no SQLite database path")
	}
	if !o.Create {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", path, ErrMissing)
		}
	}
	busy := o.BusyTimeout
	if busy == 0 {
		busy = DefaultLockTimeout
	}
	q := url.Values{}
	// CodeChecker's engine turns foreign keys on for every connection and its
	// cleanup relies on the cascades; so do we.
	q.Add("_pragma", "foreign_keys(1)")
	if o.FailIfLocked {
		busy = 0
	}
	if o.Scratch {
		q.Add("_pragma", "journal_mode(MEMORY)")
		q.Add("_pragma", "synchronous(OFF)")
	}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	if o.ReadOnly {
		q.Set("mode", "ro")
	}
	if o.ImmediateTx {
		q.Set("_txlock", "immediate")
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One connection: atlas's sqlite.OpenTx toggles PRAGMA foreign_keys on the
	// pool and then begins the transaction, which must be the same connection.
	db.SetMaxOpenConns(1)
	// A file of random bytes opens fine and only fails on the first read.
	if _, err := db.ExecContext(ctx, "SELECT count(*) FROM sqlite_master"); err != nil {
		db.Close()
		if code, ok := sqliteCode(err); o.ReadOnly && ok && code == sqlite3.SQLITE_READONLY_ROLLBACK {
			// SQLITE_READONLY_ROLLBACK: a writer died mid-transaction and left
			// a hot journal, which only a read-write connection can roll back.
			// Rolling it back is what any SQLite client does on first access;
			// without it the database could never be read (nor upgraded).
			// Then open read-only again, as asked.
			rw := o
			rw.ReadOnly = false
			fixed, rerr := openSQLite(ctx, path, rw)
			if rerr != nil {
				return nil, rerr
			}
			fixed.Close()
			return openSQLite(ctx, path, o)
		}
		return nil, err
	}
	return db, nil
}

// OpenMemory opens a new, empty SQLite database in memory, with the pragmas
// of a product database (foreign keys on), for scratch work such as
// replaying packaged migration files to inspect what they make. It is gone
// once closed.
func OpenMemory(ctx context.Context) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file::memory:?_pragma=foreign_keys(1)")
	if err != nil {
		return nil, err
	}
	// Every connection to :memory: is a database of its own: keep one.
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// sqliteCode is the extended SQLite result code of err, when err is (or
// wraps) an error of the modernc driver.
func sqliteCode(err error) (int, bool) {
	var se *sqlitedrv.Error
	if !errors.As(err, &se) {
		return 0, false
	}
	return se.Code(), true
}

// IsLocked reports whether err is SQLite's SQLITE_BUSY ("database is
// locked", any of its extended codes): another connection held a lock on
// the database for longer than the busy timeout the database was opened
// with. It goes by the error code, never by the text.
func IsLocked(err error) bool {
	code, ok := sqliteCode(err)
	return ok && code&0xff == sqlite3.SQLITE_BUSY
}
