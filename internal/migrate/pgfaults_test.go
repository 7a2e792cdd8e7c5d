package migrate_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/internal/pgtest"
	"supervisor/schema"
)

// A lost session is told first, with the version and statement it hit, and
// without database/sql's "driver: bad connection".
func TestFileErrorSaysConnectionLostDuringVersion(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"found closed", dbconn.Explain(driver.ErrBadConn, 0),
			"the PostgreSQL server closed the connection during version 002 (drop leftovers): statement CREATE INDEX ix ON t (a)"},
		{"still running", dbconn.Explain(errors.New("failed to receive message: unexpected EOF"), 0),
			"the PostgreSQL server closed the connection during version 002 (drop leftovers): statement CREATE INDEX ix ON t (a): failed to receive message: unexpected EOF"},
		{"other error", errors.New("syntax error"),
			"version 002 (drop leftovers): statement CREATE INDEX ix ON t (a): syntax error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := &migrate.FileError{Version: "002", Description: "drop leftovers", Statement: "CREATE INDEX ix\n  ON t (a)", Err: tt.err}
			if got := fe.Error(); got != tt.want {
				t.Errorf("FileError = %q, want %q", got, tt.want)
			}
		})
	}
}

// A migration statement behind a table lock another session holds (a
// leftover backend of a killed worker, a long transaction) fails once the
// session's lock_timeout passes, with the version, the statement and the
// lock reason, and the file is rolled back: the database stays at 001.
func TestUpgradePostgresBehindTableLockFailsWithLockReason(t *testing.T) {
	c := pgtest.Start(t)
	ctx := context.Background()
	c.CreateDatabase(t, "locked")
	tg := dbconn.Target{Dialect: dbconn.Postgres, Host: c.Host, Port: c.Port, User: c.User, Password: c.Password, Database: "locked"}
	db, err := dbconn.Open(ctx, tg, dbconn.Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := migrate.Upgrade(ctx, db, dbconn.Postgres, schema.Product, migrate.Options{ToVersion: "001"}); err != nil {
		t.Fatal(err)
	}
	holder, err := pgx.Connect(ctx, c.URL("locked"))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	if _, err := holder.Exec(ctx, "BEGIN; LOCK TABLE report_analysis_info IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	_, err = migrate.Upgrade(ctx, db, dbconn.Postgres, schema.Product, migrate.Options{LockTimeout: time.Second})
	var fe *migrate.FileError
	if !errors.As(err, &fe) || fe.Version != "002" || !strings.Contains(fe.Statement, "report_analysis_info") {
		t.Fatalf("Upgrade behind the lock = %v, want a FileError of version 002 at the statement on report_analysis_info", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "timed out waiting for a lock held by another session (lock timeout 1s)") {
		t.Errorf("Upgrade behind the lock = %q, want the lock reason", msg)
	}
	holder.Exec(ctx, "ROLLBACK")
	st, err := migrate.Inspect(ctx, db, dbconn.Postgres, schema.Product)
	if err != nil {
		t.Fatal(err)
	}
	if st.DBVersion != "001" {
		t.Errorf("after the failed upgrade the database is at %q, want 001", st.DBVersion)
	}
}
