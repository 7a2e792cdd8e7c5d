package dbconn

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

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
