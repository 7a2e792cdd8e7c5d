package migrate_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supervisor/integration/fleet"
	"supervisor/internal/dbconn"
	"supervisor/internal/job"
	"supervisor/internal/migrate"
	"supervisor/internal/status"
	"supervisor/schema"
)

// productAt001 makes a SQLite product at version 001 with n generated
// reports, enough for 002 (a rebuild of three tables) to take a while.
func productAt001(t *testing.T, n int) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.sqlite")
	db := openSQLite(t, path)
	if _, err := migrate.Upgrade(context.Background(), db, "sqlite", schema.Product, migrate.Options{ToVersion: "001"}); err != nil {
		t.Fatal(err)
	}
	if _, err := fleet.Fill(context.Background(), db, fleet.Options{Dialect: "sqlite", Reports: n, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return path, db
}

// A cancelled upgrade (the worker's SIGTERM or its supervisor's death) must
// have rolled back by the time Upgrade returns: the worker exits right
// after, and a rollback still running then leaves a hot journal. It also
// leaves the connection with foreign keys on.
func TestCancelledUpgradeRollsBackBeforeReturning(t *testing.T) {
	for i := range 3 {
		path, db := productAt001(t, 20000)
		ctx, cancel := context.WithCancelCause(context.Background())
		go func() {
			for {
				if _, err := os.Stat(path + "-journal"); err == nil {
					break
				}
				time.Sleep(time.Millisecond)
			}
			time.Sleep(time.Duration(i) * 20 * time.Millisecond)
			cancel(errors.New("terminated"))
		}()
		_, err := migrate.Upgrade(ctx, db, "sqlite", schema.Product, migrate.Options{})
		if err == nil {
			t.Fatal("the upgrade finished before it was cancelled; make the database bigger")
		}
		if fi, statErr := os.Stat(path + "-journal"); statErr == nil && fi.Size() > 0 {
			t.Errorf("trial %d: Upgrade returned (%v) with the journal still there: the rollback was not done", i, err)
		}
		if st := inspect(t, db, schema.Product); st.Status != status.SchemaMismatchOK || st.DBVersion != "001" {
			t.Errorf("trial %d: after the cancelled upgrade: %s %s", i, st.Status, st.DBVersion)
		}
		var fk int
		if err := db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
			t.Errorf("trial %d: foreign_keys = %d (%v) after the rollback, want 1", i, fk, err)
		}
	}
}

// holdWriteLock takes the SQLite write lock of path on a connection of its
// own (BEGIN IMMEDIATE) until the test ends.
func holdWriteLock(t *testing.T, path string) {
	t.Helper()
	other, err := dbconn.Open(context.Background(), job.Target{Dialect: "sqlite", Path: path}, dbconn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
		other.Close()
	})
}

// SQLite's lock is the database's write lock, waited for with busy_timeout:
// when the wait runs out the error says lock timeout, not "database is
// locked" alone.
func TestLockTimeoutSQLite(t *testing.T) {
	path, _ := productAt001(t, 0)
	db, err := dbconn.Open(context.Background(), job.Target{Dialect: "sqlite", Path: path}, dbconn.Options{ImmediateTx: true, BusyTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	holdWriteLock(t, path)
	_, err = migrate.Upgrade(context.Background(), db, "sqlite", schema.Product, migrate.Options{LockTimeout: 300 * time.Millisecond})
	if !errors.Is(err, migrate.ErrLockTimeout) || !strings.Contains(err.Error(), "timed out waiting for the database lock (300ms)") {
		t.Fatalf("err = %v, want a lock timeout", err)
	}
	if !strings.Contains(err.Error(), "locked by another process") || strings.Contains(err.Error(), "migrating") {
		t.Errorf("err = %v, want it to say the database is locked by another process, not who migrates", err)
	}
}

// A cancellation ends the wait for the lock at once, not after the lock
// timeout.
func TestCancelEndsLockWait(t *testing.T) {
	path, db := productAt001(t, 0)
	holdWriteLock(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := migrate.Upgrade(ctx, db, "sqlite", schema.Product, migrate.Options{LockTimeout: 30 * time.Second})
	if took := time.Since(start); err == nil || took > 5*time.Second {
		t.Fatalf("Upgrade returned %v after %v, want an error soon after 200ms", err, took)
	}
}
