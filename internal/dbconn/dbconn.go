// Package dbconn opens product and config databases: SQLite files through the
// pure-Go modernc driver and PostgreSQL through pgx's database/sql adapter.
package dbconn

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	sqlitedrv "modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
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

func openPostgres(ctx context.Context, t Target, o Options) (*sql.DB, error) {
	timeout := o.ConnectTimeout
	if timeout == 0 {
		timeout = DefaultConnectTimeout
	}
	// Keyword/value settings on top of libpq's defaults (PG* environment, pgpass
	// file): the fields we know override them, an explicit password wins over both.
	conn := fmt.Sprintf("host=%s port=%d dbname=%s connect_timeout=%d",
		quote(t.Host), t.Port, quote(t.Database), int(timeout.Seconds()+0.999))
	if t.User != "" {
		conn += " user=" + quote(t.User)
	}
	cfg, err := pgx.ParseConfig(conn)
	if err != nil {
		return nil, fmt.Errorf("postgres configuration: %w", &ConnectError{msg: redact(err.Error(), t.Password), err: err})
	}
	if t.Password != "" {
		cfg.Password = t.Password
	}
	cfg.RuntimeParams["application_name"] = "supervisor"
	if o.LockTimeout > 0 {
		cfg.RuntimeParams["lock_timeout"] = fmt.Sprintf("%dms", max(o.LockTimeout.Milliseconds(), 1))
	}
	// Every connection the pool makes, not only the first, fails with a
	// one-line error that holds no password.
	c := &connector{Connector: stdlib.GetConnector(*cfg, stdlib.OptionAfterConnect(setSession)), password: cfg.Password}
	if o.OnLockWait != nil {
		c.watch = newLockWatch(cfg, o.OnLockWait)
	}
	db := sql.OpenDB(c)
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// connector is pgx's, with its connection errors rewritten by
// connectError, and, with a lock watch, the backends of its connections
// made known to the watch while they are open.
type connector struct {
	driver.Connector
	password string
	watch    *lockWatch
}

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, connectError(err, c.password)
	}
	sc, ok := conn.(*stdlib.Conn)
	if c.watch == nil || !ok {
		return conn, nil
	}
	pid := sc.Conn().PgConn().PID()
	c.watch.add(pid)
	return &watchedConn{Conn: sc, done: func() { c.watch.remove(pid) }}, nil
}

// Close stops the lock watch; database/sql calls it from DB.Close.
func (c *connector) Close() error {
	if c.watch != nil {
		c.watch.close()
	}
	return nil
}

// watchedConn is pgx's connection, which tells the lock watch when it
// closes (so that a backend pid the server reuses is not watched).
type watchedConn struct {
	*stdlib.Conn
	done func()
}

func (w *watchedConn) Close() error {
	w.done()
	return w.Conn.Close()
}

// ClientCheckInterval is PostgreSQL's client_connection_check_interval on
// every session (PostgreSQL 14 and later): how often the server checks,
// while a statement runs, that the client is still there. Without it a
// backend whose worker was killed runs its statement (a CREATE INDEX on a
// big table) to the end before it notices, and holds the statement's locks
// till then; with it the statement is cancelled, and its transaction
// rolled back, within about this long.
const ClientCheckInterval = time.Second

// setSession sets, on a new PostgreSQL session, what the startup packet
// cannot carry: client_connection_check_interval is unknown to servers
// before 14, which refuse a connection that names it.
func setSession(ctx context.Context, conn *pgx.Conn) error {
	if serverMajor(conn.PgConn().ParameterStatus("server_version")) < 14 {
		return nil
	}
	_, err := conn.Exec(ctx, fmt.Sprintf("SET client_connection_check_interval = '%dms'", ClientCheckInterval.Milliseconds()))
	if err != nil {
		return fmt.Errorf("set client_connection_check_interval: %w", Explain(err, 0))
	}
	return nil
}

// serverMajor is the major version of a server_version parameter
// ("15.18 (Debian 15.18-0+deb12u1)"), 0 when it cannot be read.
func serverMajor(v string) int {
	n := 0
	for _, r := range v {
		if r < '0' || r > '9' {
			break
		}
		n = n*10 + int(r-'0')
	}
	return n
}

// quote renders v as a libpq keyword/value string.
func quote(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(v) + "'"
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
