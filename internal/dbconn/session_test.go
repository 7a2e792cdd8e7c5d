package dbconn_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
)

func pgTarget(c *pgtest.Cluster, db string) dbconn.Target {
	return dbconn.Target{Dialect: dbconn.Postgres, Host: c.Host, Port: c.Port, User: c.User, Database: db, Password: c.Password}
}

// holdLock takes lock mode on table in database db on a session of its own,
// in an open transaction, until the test ends; it returns the session's pid.
func holdLock(t *testing.T, c *pgtest.Cluster, db, table, mode string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL(db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	var pid int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("LOCK TABLE %s IN %s MODE", table, mode)); err != nil {
		t.Fatal(err)
	}
	return pid
}

// Every session of a pool has the lock_timeout asked for and
// client_connection_check_interval, so that the server stops the statement
// of a client that died.
func TestPostgresSessionSetsLockTimeoutAndClientCheck(t *testing.T) {
	c := pgtest.Start(t)
	c.CreateDatabase(t, "app")
	db, err := dbconn.Open(context.Background(), pgTarget(c, "app"), dbconn.Options{LockTimeout: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxIdleConns(3)
	// Several sessions at once: each is set up, not only the first.
	var conns []*sql.Conn
	for range 3 {
		conn, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
	}
	for i, conn := range conns {
		var lock, check string
		if err := conn.QueryRowContext(context.Background(), "SELECT current_setting('lock_timeout'), current_setting('client_connection_check_interval')").Scan(&lock, &check); err != nil {
			t.Fatal(err)
		}
		if lock != "1500ms" || check != "1s" {
			t.Errorf("session %d: lock_timeout %q, client_connection_check_interval %q; want 1500ms, 1s", i, lock, check)
		}
		conn.Close()
	}
}

// A statement that waits for a lock another session holds is told once,
// with the session that holds it, and fails with the lock reason when the
// lock timeout passes, instead of waiting silently for as long as the other
// session keeps the lock.
func TestPostgresLockWaitIsToldThenFailsAtLockTimeout(t *testing.T) {
	c := pgtest.Start(t)
	c.CreateDatabase(t, "app")
	c.Exec(t, "app", "CREATE TABLE reports (id int)")
	holder := holdLock(t, c, "app", "reports", "ACCESS EXCLUSIVE")
	waits := make(chan dbconn.LockWait, 10)
	db, err := dbconn.Open(context.Background(), pgTarget(c, "app"), dbconn.Options{
		LockTimeout: 3 * time.Second,
		OnLockWait:  func(w dbconn.LockWait) { waits <- w },
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec("CREATE INDEX reports_id ON reports (id)")
	db.Close() // stops the watch: nothing is told after this
	close(waits)
	if err == nil {
		t.Fatal("CREATE INDEX behind an ACCESS EXCLUSIVE lock = nil error, want the lock timeout")
	}
	explained := dbconn.Explain(err, 3*time.Second)
	var lte *dbconn.LockTimeoutError
	if !errors.As(explained, &lte) || !strings.Contains(explained.Error(), "timed out waiting for a lock held by another session (lock timeout 3s)") {
		t.Errorf("Explain(%v) = %q, want a LockTimeoutError that says it waited 3s for a lock held by another session", err, explained)
	}
	var got []dbconn.LockWait
	for w := range waits {
		got = append(got, w)
	}
	if len(got) != 1 {
		t.Fatalf("told %d waits (%+v), want 1", len(got), got)
	}
	w := got[0]
	if !strings.Contains(w.Statement, "CREATE INDEX reports_id") || w.Lock != "relation" {
		t.Errorf("wait = %+v, want the CREATE INDEX waiting for a relation lock", w)
	}
	if len(w.Blockers) != 1 || w.Blockers[0].PID != holder || !strings.Contains(w.Blockers[0].String(), fmt.Sprintf("pid %d", holder)) {
		t.Errorf("blockers = %+v, want the holding session, pid %d", w.Blockers, holder)
	}
}

// Without OnLockWait nothing watches: no extra session is opened.
func TestPostgresNoLockWatchWithoutOnLockWait(t *testing.T) {
	c := pgtest.Start(t)
	c.CreateDatabase(t, "app")
	db, err := dbconn.Open(context.Background(), pgTarget(c, "app"), dbconn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	time.Sleep(3 * dbconn.LockWatchInterval)
	var n int
	if err := db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'supervisor lock watch'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d lock watch sessions without OnLockWait, want 0", n)
	}
}

// A session an administrator or a shutdown ended is told as such, not as
// database/sql's "driver: bad connection": the statement that hit it and
// the one after (found the connection closed) both say the server closed
// the connection.
func TestPostgresLostSessionIsExplained(t *testing.T) {
	c := pgtest.Start(t)
	c.CreateDatabase(t, "app")
	db, err := dbconn.Open(context.Background(), pgTarget(c, "app"), dbconn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var pid int
	if err := tx.QueryRow("SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	c.Exec(t, "postgres", fmt.Sprintf("SELECT pg_terminate_backend(%d)", pid))
	var errs []error
	for range 2 {
		_, err := tx.Exec("SELECT 1")
		errs = append(errs, err)
	}
	for i, err := range errs {
		if err == nil {
			t.Fatalf("statement %d on a terminated session = nil error", i)
		}
		e := dbconn.Explain(err, 0)
		var lost *dbconn.LostError
		if !errors.As(e, &lost) || !strings.HasPrefix(e.Error(), "the PostgreSQL server closed the connection") || strings.Contains(e.Error(), "bad connection") {
			t.Errorf("statement %d: Explain(%q) = %q, want a LostError saying the server closed the connection, without \"bad connection\"", i, err, e)
		}
	}
}

// The rewording of errors, case by case.
func TestExplain(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		want     string // "" = err unchanged
		shutdown bool
	}{
		{"immediate shutdown", &pgconn.PgError{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to immediate shutdown command"},
			"the PostgreSQL server shut down: FATAL: terminating connection due to immediate shutdown command (SQLSTATE 57P01)", true},
		{"crash of another process", &pgconn.PgError{Severity: "FATAL", Code: "57P02", Message: "terminating connection because of crash of another server process"},
			"the PostgreSQL server shut down: FATAL: terminating connection because of crash of another server process (SQLSTATE 57P02)", true},
		{"terminated by an administrator", &pgconn.PgError{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"},
			"the PostgreSQL server closed the connection: FATAL: terminating connection due to administrator command (SQLSTATE 57P01)", false},
		{"bad connection", driver.ErrBadConn, "the PostgreSQL server closed the connection", false},
		{"bad connection with context", fmt.Errorf("take the lock: %w", driver.ErrBadConn), "the PostgreSQL server closed the connection: take the lock", false},
		{"unexpected EOF", fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF), "the PostgreSQL server closed the connection: failed to receive message: unexpected EOF", false},
		{"lock timeout", &pgconn.PgError{Severity: "ERROR", Code: "55P03", Message: "canceling statement due to lock timeout"},
			"timed out waiting for a lock held by another session (lock timeout 2s): ERROR: canceling statement due to lock timeout (SQLSTATE 55P03)", false},
		{"syntax error", &pgconn.PgError{Severity: "ERROR", Code: "42601", Message: "syntax error"}, "", false},
		{"cancelled", fmt.Errorf("exec: %w", context.Canceled), "", false},
		{"nil", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dbconn.Explain(tt.err, 2*time.Second)
			if tt.want == "" {
				if got != tt.err {
					t.Errorf("Explain(%v) = %v, want it unchanged", tt.err, got)
				}
				return
			}
			if got == nil || got.Error() != tt.want {
				t.Errorf("Explain(%v) = %q, want %q", tt.err, got, tt.want)
			}
			var lost *dbconn.LostError
			if errors.As(got, &lost) && lost.Shutdown != tt.shutdown {
				t.Errorf("Explain(%v).Shutdown = %v, want %v", tt.err, lost.Shutdown, tt.shutdown)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("Explain(%v) does not unwrap to it", tt.err)
			}
			if again := dbconn.Explain(got, time.Second); again != got {
				t.Errorf("Explain twice = %q, want the first answer %q", again, got)
			}
		})
	}
}

// sleepingClientEnv, set, makes the test binary the client TestKilledClientsStatementStops kills.
const sleepingClientEnv = "DBCONN_TEST_SLEEPING_CLIENT"

// TestMain lets the test binary be a client that opens a pool with dbconn,
// prints its backend pid and runs a long statement (see sleepingClientEnv).
func TestMain(m *testing.M) {
	if dsn := os.Getenv(sleepingClientEnv); dsn != "" {
		sleepingClient(dsn)
		return
	}
	os.Exit(m.Run())
}

func sleepingClient(spec string) {
	f := strings.Fields(spec) // host port user password database
	port, _ := strconv.Atoi(f[1])
	db, err := dbconn.Open(context.Background(), dbconn.Target{Dialect: dbconn.Postgres, Host: f[0], Port: port, User: f[2], Password: f[3], Database: f[4]}, dbconn.Options{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	var pid int
	conn.QueryRowContext(context.Background(), "SELECT pg_backend_pid()").Scan(&pid)
	fmt.Println(pid)
	conn.ExecContext(context.Background(), "SELECT pg_sleep(600)")
	os.Exit(0)
}

// A client killed while its statement runs (a worker SIGKILLed in CREATE
// INDEX) must not leave the statement running on the server, holding its
// locks, until it ends by itself: with client_connection_check_interval the
// server notices the closed socket and ends the backend.
func TestKilledClientsStatementStops(t *testing.T) {
	c := pgtest.Start(t)
	c.CreateDatabase(t, "app")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), sleepingClientEnv+"="+strings.Join([]string{c.Host, strconv.Itoa(c.Port), c.User, c.Password, "app"}, " "))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	var pid int
	if _, err := fmt.Fscan(out, &pid); err != nil {
		cmd.Process.Kill()
		t.Fatalf("reading the client's backend pid: %v", err)
	}
	watch, err := pgx.Connect(context.Background(), c.URL("app"))
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(context.Background())
	state := func() string {
		var s string
		err := watch.QueryRow(context.Background(), "SELECT coalesce(wait_event, '') FROM pg_stat_activity WHERE pid = $1", pid).Scan(&s)
		if errors.Is(err, pgx.ErrNoRows) {
			return "gone"
		}
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for state() != "PgSleep" {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	// The statement would sleep for 600s; a generous bound, far below it.
	deadline := time.Now().Add(60 * time.Second)
	for state() != "gone" {
		if time.Now().After(deadline) {
			t.Fatalf("backend %d of the killed client still there after 60s, running its statement", pid)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A connection that was never made was not lost: a refused connect keeps
// its own reason (a ConnectError), it is not told as a closed connection.
func TestExplainLeavesConnectErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now
	_, err = dbconn.Open(context.Background(), dbconn.Target{Dialect: dbconn.Postgres, Host: "127.0.0.1", Port: port, User: "u", Database: "d", Password: "p"}, dbconn.Options{ConnectTimeout: 5 * time.Second})
	if err == nil {
		t.Fatal("Open on a closed port = nil error")
	}
	if got := dbconn.Explain(err, 0); got != err {
		t.Errorf("Explain(%q) = %q, want it unchanged", err, got)
	}
}
