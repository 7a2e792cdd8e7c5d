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
	if _, err := migrate.Upgrade(context.Background(), db, dbconn.SQLite, schema.Product, migrate.Options{ToVersion: "001"}); err != nil {
		t.Fatal(err)
	}
	if _, err := fleet.Fill(context.Background(), db, fleet.Options{Dialect: dbconn.SQLite.String(), Reports: n, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return path, db
}

// A cancelled upgrade (the worker's SIGTERM or its supervisor's death) must
// have rolled back by the time Upgrade returns: the worker exits right
// after, and a rollback still running then leaves a hot journal. It also
// leaves the connection with foreign keys on.
//
// The trials cancel at fractions of how long the upgrade writes for on this
// run (the race detector makes it some 30 times slower), so a small database
// is enough either way: filling one is most of this test's time under -race,
// and it is filled once and copied per run.
func TestCancelledUpgradeRollsBackBeforeReturning(t *testing.T) {
	t.Parallel()
	template, tdb := productAt001(t, 3000)
	if err := tdb.Close(); err != nil {
		t.Fatal(err)
	}
	fresh := func() (string, *sql.DB) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "p.sqlite")
		if err := fleet.CopySQLite(template, path); err != nil {
			t.Fatal(err)
		}
		return path, openSQLite(t, path)
	}
	// upgrade runs the upgrade of db and calls cancel delay after its journal
	// appears (if it has not returned by then). It reports when the journal
	// appeared, zero if it never did.
	upgrade := func(path string, db *sql.DB, delay time.Duration) (journalAt time.Time, err error) {
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		returned := make(chan struct{})
		seen := make(chan time.Time, 1)
		go func() {
			for {
				if _, err := os.Stat(path + "-journal"); err == nil {
					seen <- time.Now()
					break
				}
				select {
				case <-returned:
					close(seen)
					return
				case <-time.After(time.Millisecond):
				}
			}
			select {
			case <-returned:
			case <-time.After(delay):
				cancel(errors.New("terminated"))
			}
		}()
		_, err = migrate.Upgrade(ctx, db, dbconn.SQLite, schema.Product, migrate.Options{})
		close(returned)
		return <-seen, err
	}

	// How long the upgrade writes for, uncancelled.
	path, db := fresh()
	journalAt, err := upgrade(path, db, time.Hour)
	if err != nil || journalAt.IsZero() {
		t.Fatalf("uncancelled upgrade: %v (journal seen at %v)", err, journalAt)
	}
	writing := time.Since(journalAt)
	t.Logf("the upgrade wrote for %v", writing.Round(time.Millisecond))

	for i, frac := range []float64{0, 1.0 / 8, 1.0 / 4} {
		delay := time.Duration(frac * float64(writing))
		for {
			path, db := fresh()
			_, err := upgrade(path, db, delay)
			if err == nil {
				// Faster than the run that was timed: cancel earlier.
				if delay == 0 {
					t.Fatal("the upgrade finished before it was cancelled; make the database bigger")
				}
				t.Logf("trial %d: the upgrade finished within %v; again, cancelling sooner", i, delay)
				delay /= 2
				continue
			}
			if fi, statErr := os.Stat(path + "-journal"); statErr == nil && fi.Size() > 0 {
				t.Errorf("trial %d (cancelled %v after the journal appeared): Upgrade returned (%v) with the journal still there: the rollback was not done", i, delay, err)
			}
			if st := inspect(t, db, schema.Product); st.Status != status.SchemaMismatchOK || st.DBVersion != "001" {
				t.Errorf("trial %d: after the cancelled upgrade: %s %s", i, st.Status, st.DBVersion)
			}
			var fk int
			if err := db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
				t.Errorf("trial %d: foreign_keys = %d (%v) after the rollback, want 1", i, fk, err)
			}
			break
		}
	}
}

// holdWriteLock takes the SQLite write lock of path on a connection of its
// own (BEGIN IMMEDIATE) until the test ends.
func holdWriteLock(t *testing.T, path string) {
	t.Helper()
	other, err := dbconn.Open(context.Background(), dbconn.Target{Dialect: dbconn.SQLite, Path: path}, dbconn.Options{})
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
	db, err := dbconn.Open(context.Background(), dbconn.Target{Dialect: dbconn.SQLite, Path: path}, dbconn.Options{ImmediateTx: true, BusyTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	holdWriteLock(t, path)
	_, err = migrate.Upgrade(context.Background(), db, dbconn.SQLite, schema.Product, migrate.Options{LockTimeout: 300 * time.Millisecond})
	if !errors.Is(err, dbconn.ErrLockTimeout) || !strings.Contains(err.Error(), "timed out waiting for the database lock (300ms)") {
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
	_, err := migrate.Upgrade(ctx, db, dbconn.SQLite, schema.Product, migrate.Options{LockTimeout: 30 * time.Second})
	if took := time.Since(start); err == nil || took > 5*time.Second {
		t.Fatalf("Upgrade returned %v after %v, want an error soon after 200ms", err, took)
	}
}
