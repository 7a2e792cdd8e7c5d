package migrate_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/internal/pgtest"
	"supervisor/internal/status"
	"supervisor/internal/testutil"
	"supervisor/schema"
)

// hasTable reports whether db (SQLite) has table name.
func hasTable(t *testing.T, db *sql.DB, dialect dbconn.Dialect, name string) bool {
	t.Helper()
	q := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if dialect == dbconn.Postgres {
		q = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = $1"
	}
	var n int
	if err := db.QueryRow(q, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// assertAdoptionRefused checks that db, at our 002 with its revisions table
// dropped, is refused and stays as it is, run after run.
func assertAdoptionRefused(t *testing.T, db *sql.DB, dialect dbconn.Dialect) {
	t.Helper()
	ctx := context.Background()
	for run := range 2 {
		st, err := migrate.Inspect(ctx, db, dialect, schema.Product)
		if err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			t.Logf("reason: %s", st.Reason)
		}
		if st.Status != status.SchemaMismatchNo || st.Adopt {
			t.Fatalf("run %d: got %s adopt=%v (%s), want schema_mismatch_no, no adoption", run, st.Status, st.Adopt, st.Reason)
		}
		for _, want := range []string{"differs from CodeChecker's b1be74589382", "extra index supervisor_ix_"} {
			if !strings.Contains(st.Reason, want) {
				t.Errorf("run %d: reason %q, want it to say %q", run, st.Reason, want)
			}
		}
		if strings.Contains(st.Reason, "\n") {
			t.Errorf("run %d: reason %q spans lines", run, st.Reason)
		}
		_, err = migrate.Upgrade(ctx, db, dialect, schema.Product, migrate.Options{})
		if !errors.Is(err, migrate.ErrNotUpgradable) || !strings.Contains(err.Error(), "differs from CodeChecker's") {
			t.Fatalf("run %d: upgrade = %v, want ErrNotUpgradable naming the differences", run, err)
		}
		if hasTable(t, db, dialect, migrate.RevisionsTable) {
			t.Fatalf("run %d: a refused adoption created %s", run, migrate.RevisionsTable)
		}
	}
}

// A database of ours at 002 whose atlas_schema_revisions was dropped still
// has CodeChecker's alembic_version at head. It used to be adopted as 001,
// and 002 then failed on its own indexes, on every later run too.
func TestAdoptionRefusesSchemaOtherThanBaselineSQLite(t *testing.T) {
	path := testutil.CopyFixture(t, "product-head.sqlite")
	db := openSQLite(t, path)
	upgradeTo(t, db, dbconn.SQLite, schema.Product, "002")
	if _, err := db.Exec("DROP TABLE " + migrate.RevisionsTable); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	assertAdoptionRefused(t, db, dbconn.SQLite)
	st, _ := migrate.Inspect(context.Background(), db, dbconn.SQLite, schema.Product)
	if !strings.Contains(st.Reason, "missing column reports.checker_name_MOVED_TO_checkers") {
		t.Errorf("reason %q, want it to name the leftover column 002 dropped", st.Reason)
	}
	db.Close()
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a refused adoption changed the database file")
	}
}

func TestAdoptionRefusesSchemaOtherThanBaselinePostgres(t *testing.T) {
	c := pgtest.Start(t)
	db := openPostgres(t, c, "dropped_revisions")
	c.LoadDump(t, "dropped_revisions", fixtures+"product-head.postgres.sql")
	upgradeTo(t, db, dbconn.Postgres, schema.Product, "002")
	if _, err := db.Exec("DROP TABLE " + migrate.RevisionsTable); err != nil {
		t.Fatal(err)
	}
	assertAdoptionRefused(t, db, dbconn.Postgres)
	assertNoScratchSchema(t, db)
}

// Genuine CodeChecker databases, the empty one and the one with content, on
// both dialects, still adopt; the PostgreSQL comparison leaves nothing behind.
func TestAdoptionAcceptsCodeCheckerDatabases(t *testing.T) {
	ctx := context.Background()
	for _, fixture := range []string{"product-head.sqlite", "product-sample.sqlite"} {
		t.Run(fixture, func(t *testing.T) {
			db := openSQLite(t, testutil.CopyFixture(t, fixture))
			if st := inspect(t, db, schema.Product); st.Status != status.SchemaMismatchOK || !st.Adopt {
				t.Fatalf("got %s adopt=%v (%s), want schema_mismatch_ok and adoption", st.Status, st.Adopt, st.Reason)
			}
		})
	}
	t.Run("postgres", func(t *testing.T) {
		c := pgtest.Start(t)
		for _, kind := range []schema.Kind{schema.Config, schema.Product} {
			name := string(kind) + "_cc"
			db := openPostgres(t, c, name)
			c.LoadDump(t, name, fixtures+string(kind)+"-head.postgres.sql")
			st, err := migrate.Inspect(ctx, db, dbconn.Postgres, kind)
			if err != nil {
				t.Fatal(err)
			}
			if st.Status != status.SchemaMismatchOK || !st.Adopt {
				t.Fatalf("%s: got %s adopt=%v (%s), want schema_mismatch_ok and adoption", kind, st.Status, st.Adopt, st.Reason)
			}
			assertNoScratchSchema(t, db)
			res, err := migrate.Upgrade(ctx, db, dbconn.Postgres, kind, migrate.Options{})
			if err != nil || !res.Adopted {
				t.Fatalf("%s: upgrade = %+v, %v; want adoption", kind, res, err)
			}
		}
	})
}

// CodeChecker's alembic batch rebuilds write the constraint clauses of a
// table in an order that changes from run to run; the schema is the same, and
// a database whose text differs from the fixture only so still adopts.
func TestAdoptionIgnoresConstraintOrder(t *testing.T) {
	db := openSQLite(t, testutil.CopyFixture(t, "product-head.sqlite"))
	for _, stmt := range []string{
		"PRAGMA foreign_keys = off",
		`CREATE TABLE "new_report_analysis_info" (
	report_id INTEGER NOT NULL, 
	analysis_info_id INTEGER NOT NULL, 
	CONSTRAINT fk_report_analysis_info_report_id_reports FOREIGN KEY(report_id) REFERENCES reports (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, 
	CONSTRAINT fk_report_analysis_info_analysis_info_id_analysis_info FOREIGN KEY(analysis_info_id) REFERENCES analysis_info (id), 
	CONSTRAINT pk_report_analysis_info PRIMARY KEY (report_id, analysis_info_id)
)`,
		"INSERT INTO new_report_analysis_info SELECT report_id, analysis_info_id FROM report_analysis_info",
		"DROP TABLE report_analysis_info",
		"ALTER TABLE new_report_analysis_info RENAME TO report_analysis_info",
		"CREATE INDEX ix_report_analysis_info_report_id ON report_analysis_info (report_id)",
		"PRAGMA foreign_keys = on",
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	var sqlText string
	if err := db.QueryRow("SELECT sql FROM sqlite_master WHERE name = 'report_analysis_info'").Scan(&sqlText); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sqlText, "REFERENCES reports (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, \n\tCONSTRAINT fk_report_analysis_info_analysis_info_id") {
		t.Fatalf("the rebuilt table does not have its clauses reordered:\n%s", sqlText)
	}
	if st := inspect(t, db, schema.Product); st.Status != status.SchemaMismatchOK || !st.Adopt {
		t.Fatalf("got %s adopt=%v (%s), want schema_mismatch_ok and adoption", st.Status, st.Adopt, st.Reason)
	}
}

// The comparison is for adoption only: a database with its revisions is
// read from them, and status of an adopted database does not inspect its
// schema (an index added by hand is drift, for status --drift to find).
func TestInspectComparesOnlyBeforeAdoption(t *testing.T) {
	db := openSQLite(t, testutil.CopyFixture(t, "product-head.sqlite"))
	if _, err := migrate.Upgrade(context.Background(), db, dbconn.SQLite, schema.Product, migrate.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE INDEX by_hand ON runs (date)"); err != nil {
		t.Fatal(err)
	}
	if st := inspect(t, db, schema.Product); st.Status != status.OK {
		t.Fatalf("adopted database with an index added by hand: got %s (%s), want ok", st.Status, st.Reason)
	}
	// The same database before adoption is compared, and the index seen.
	fresh := openSQLite(t, testutil.CopyFixture(t, "product-head.sqlite"))
	if _, err := fresh.Exec("CREATE INDEX by_hand ON runs (date)"); err != nil {
		t.Fatal(err)
	}
	if st := inspect(t, fresh, schema.Product); st.Status != status.SchemaMismatchNo || !strings.Contains(st.Reason, "extra index by_hand on runs") {
		t.Fatalf("CodeChecker database with an index added by hand: got %s (%q), want schema_mismatch_no naming it", st.Status, st.Reason)
	}
}

// Adoption verifies through Compare before the baseline is written: a
// CodeChecker database at its head with one index added by hand is not
// taken for 001, reads schema_mismatch_no with the difference as the reason,
// and gets no revisions table.
func TestAdoptionRefusesCodeCheckerHeadWithExtraIndex(t *testing.T) {
	db := openSQLite(t, testutil.CopyFixture(t, "product-head.sqlite"))
	if _, err := db.Exec("CREATE INDEX extra_ix_comments_author ON comments (author)"); err != nil {
		t.Fatal(err)
	}
	st := inspect(t, db, schema.Product)
	if st.Status != status.SchemaMismatchNo || st.Adopt {
		t.Fatalf("got %s adopt=%v (%s), want schema_mismatch_no, no adoption", st.Status, st.Adopt, st.Reason)
	}
	want := "the schema differs from CodeChecker's b1be74589382, which alembic_version names, so it is not adopted: extra index extra_ix_comments_author on comments"
	if st.Reason != want {
		t.Errorf("reason %q, want %q", st.Reason, want)
	}
	if _, err := migrate.Upgrade(context.Background(), db, dbconn.SQLite, schema.Product, migrate.Options{}); !errors.Is(err, migrate.ErrNotUpgradable) {
		t.Errorf("upgrade = %v, want ErrNotUpgradable", err)
	}
	if hasTable(t, db, dbconn.SQLite, migrate.RevisionsTable) {
		t.Errorf("a refused adoption created %s", migrate.RevisionsTable)
	}
}
