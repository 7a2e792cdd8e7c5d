package migrate

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"supervisor/internal/dbconn"
)

// cancelOnCommit is a transaction whose COMMIT is overtaken by a
// cancellation, as when SIGTERM reaches a worker while COMMIT runs.
type cancelOnCommit struct {
	*sql.Tx
	cancel context.CancelFunc
}

func (t cancelOnCommit) Commit() error {
	err := t.Tx.Commit()
	t.cancel()
	return err
}

// TestCommitCancelledDuringCommitIsStillCommitted guards a file reported
// failed although it was committed: turning foreign keys back on after the
// COMMIT ran under the cancelled context and failed, and the worker said
// "0 files applied" for a database at the new version.
func TestCommitCancelledDuringCommitIsStillCommitted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := dbconn.Open(ctx, dbconn.Target{Dialect: dbconn.SQLite, Path: filepath.Join(t.TempDir(), "p.sqlite")},
		dbconn.Options{Create: true, ImmediateTx: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
		t.Fatal(err)
	}
	tx, release, err := beginDetached(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	commit, err := commitFunc(ctx, db, cancelOnCommit{Tx: tx, cancel: cancel}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if err := commit(); err != nil {
		t.Fatalf("commit = %v, want nil: the COMMIT went through", err)
	}
	var on bool
	if err := db.QueryRowContext(context.Background(), "PRAGMA foreign_keys").Scan(&on); err != nil || !on {
		t.Errorf("foreign_keys = %v (%v) after the commit, want on", on, err)
	}
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM sqlite_master WHERE name = 't'").Scan(&n); err != nil || n != 1 {
		t.Errorf("table t: %d (%v), want committed", n, err)
	}
}
