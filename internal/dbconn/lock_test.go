package dbconn_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
)

// openLockTestDB opens a new database of c.
func openLockTestDB(t *testing.T, c *pgtest.Cluster) *sql.DB {
	t.Helper()
	c.CreateDatabase(t, "locked")
	target := dbconn.Target{Dialect: dbconn.Postgres, Host: c.Host, Port: c.Port, User: c.User, Password: c.Password, Database: "locked"}
	db, err := dbconn.Open(context.Background(), target, dbconn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The PostgreSQL lock is shared by migrate and cleanup: a wait for it that
// runs out says another supervisor works on the database, not that one
// migrates it (a cleanup waiting behind a cleanup was told so).
func TestLockTimeoutPostgresDoesNotClaimMigration(t *testing.T) {
	c := pgtest.Start(t)
	ctx := context.Background()
	db := openLockTestDB(t, c)
	name := dbconn.LockName("product")
	unlock, err := dbconn.Lock(ctx, db, dbconn.Postgres, name, dbconn.LockOptions{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer unlock(ctx)
	_, err = dbconn.Lock(ctx, db, dbconn.Postgres, name, dbconn.LockOptions{Timeout: 300 * time.Millisecond})
	if !errors.Is(err, dbconn.ErrLockTimeout) {
		t.Fatalf("second Lock = %v, want ErrLockTimeout", err)
	}
	if msg := err.Error(); strings.Contains(msg, "migrat") || !strings.Contains(msg, "another supervisor is working on this database") {
		t.Errorf("second Lock = %q, want it to say another supervisor works on the database, nothing of migrating", msg)
	}
}

// The hooks say when the lock is found held (once, with the timeout) and
// when it is taken (with how long Lock waited), and the key is the one
// AdvisoryLockKey derives: a session holding that key makes Lock wait.
func TestLockHooksReportWaitAndAcquire(t *testing.T) {
	c := pgtest.Start(t)
	ctx := context.Background()
	db := openLockTestDB(t, c)
	name := dbconn.LockName("product")

	type call struct {
		kind string
		d    time.Duration
	}
	record := func(calls *[]call) dbconn.LockOptions {
		return dbconn.LockOptions{
			Timeout:    10 * time.Second,
			OnWait:     func(timeout time.Duration) { *calls = append(*calls, call{"wait", timeout}) },
			OnAcquired: func(waited time.Duration) { *calls = append(*calls, call{"acquired", waited}) },
		}
	}

	// Free: acquired at once, no wait.
	var free []call
	unlock, err := dbconn.Lock(ctx, db, dbconn.Postgres, name, record(&free))
	if err != nil {
		t.Fatal(err)
	}
	unlock(ctx)
	if len(free) != 1 || free[0] != (call{"acquired", 0}) {
		t.Errorf("hooks on a free lock = %v, want [{acquired 0}]", free)
	}

	// Held by another session through the key AdvisoryLockKey gives.
	holder, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_lock($1)", dbconn.AdvisoryLockKey(name)); err != nil {
		t.Fatal(err)
	}
	var held []call
	waiting := make(chan struct{})
	opts := record(&held)
	onWait := opts.OnWait
	opts.OnWait = func(d time.Duration) { onWait(d); close(waiting) }
	done := make(chan error, 1)
	go func() {
		unlock, err := dbconn.Lock(ctx, db, dbconn.Postgres, name, opts)
		if err == nil {
			unlock(ctx)
		}
		done <- err
	}()
	<-waiting
	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", dbconn.AdvisoryLockKey(name)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Lock after the holder let go = %v", err)
	}
	if len(held) != 2 || held[0] != (call{"wait", 10 * time.Second}) || held[1].kind != "acquired" || held[1].d <= 0 {
		t.Errorf("hooks on a held lock = %v, want [{wait 10s} {acquired >0}]", held)
	}
}

// On SQLite the lock is the database's own write lock: Lock takes nothing
// and reports nothing.
func TestLockSQLiteIsNoOp(t *testing.T) {
	ctx := context.Background()
	db, err := dbconn.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	called := false
	unlock, err := dbconn.Lock(ctx, db, dbconn.SQLite, dbconn.LockName("product"), dbconn.LockOptions{
		OnWait: func(time.Duration) { called = true }, OnAcquired: func(time.Duration) { called = true },
	})
	if err != nil {
		t.Fatal(err)
	}
	unlock(ctx)
	if called {
		t.Error("Lock on SQLite called a hook, want none")
	}
}
