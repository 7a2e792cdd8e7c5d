package migrate_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	amigrate "ariga.io/atlas/sql/migrate"

	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/internal/pgtest"
	"supervisor/internal/status"
	"supervisor/internal/testutil"
	"supervisor/schema"
)

// history is migrate.History by version and type, failing the test on an error.
func history(t *testing.T, db *sql.DB, dialect dbconn.Dialect) map[string]bool {
	t.Helper()
	revs, err := migrate.History(context.Background(), db, dialect)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{} // version -> baseline
	for _, r := range revs {
		out[r.Version] = r.Type.Has(amigrate.RevisionTypeBaseline)
	}
	return out
}

// at002WithoutRevisions is a CodeChecker database upgraded to our 002 whose
// revisions table was dropped, on SQLite.
func at002WithoutRevisions(t *testing.T) (string, *sql.DB) {
	t.Helper()
	path := testutil.CopyFixture(t, "product-head.sqlite")
	db := openSQLite(t, path)
	upgradeTo(t, db, dbconn.SQLite, schema.Product, "002")
	if _, err := db.Exec("DROP TABLE " + migrate.RevisionsTable); err != nil {
		t.Fatal(err)
	}
	return path, db
}

func TestBaselineRepairsDroppedRevisions(t *testing.T) {
	ctx := context.Background()
	_, db := at002WithoutRevisions(t)
	res, err := migrate.Baseline(ctx, db, dbconn.SQLite, schema.Product, "002", migrate.Options{Operator: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Recorded, []string{"001", "002"}) {
		t.Errorf("recorded %v, want [001 002]", res.Recorded)
	}
	if st := inspect(t, db, schema.Product); st.Status != status.OK || st.DBVersion != "002" {
		t.Errorf("after the baseline: got %s at %q (%s), want ok at 002", st.Status, st.DBVersion, st.Reason)
	}
	if h := history(t, db, dbconn.SQLite); len(h) != 2 || !h["001"] || !h["002"] {
		t.Errorf("history %v, want 001 and 002 as baselines", h)
	}
}

// A database whose schema is not the one asked for is refused with the
// differences, and its file is left byte for byte as it was.
func TestBaselineRefusesOtherSchemaWritingNothing(t *testing.T) {
	ctx := context.Background()
	path, db := at002WithoutRevisions(t)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = migrate.Baseline(ctx, db, dbconn.SQLite, schema.Product, "001", migrate.Options{})
	if !errors.Is(err, migrate.ErrSchemaDiffers) || !strings.Contains(err.Error(), "extra index supervisor_ix_") {
		t.Fatalf("baseline 001 of a 002 database: got %v, want ErrSchemaDiffers naming 002's indexes", err)
	}
	if hasTable(t, db, dbconn.SQLite, migrate.RevisionsTable) {
		t.Errorf("a refused baseline created %s", migrate.RevisionsTable)
	}
	db.Close()
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a refused baseline changed the database file")
	}
}

// Rows that are right are kept (an executed file keeps its history); a row
// left with an error, and one of a version this package does not have, are
// replaced or removed.
func TestBaselineKeepsIntactRowsAndReplacesTheRest(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, testutil.CopyFixture(t, "product-head.sqlite"))
	upgradeTo(t, db, dbconn.SQLite, schema.Product, "002")
	for _, q := range []string{
		"UPDATE " + migrate.RevisionsTable + " SET error = 'boom', applied = 0 WHERE version = '002'",
		"INSERT INTO " + migrate.RevisionsTable + " (version, description, type, applied, total, executed_at, execution_time, hash, operator_version) VALUES ('999', 'junk', 2, 1, 1, '2020-01-01T00:00:00Z', 0, 'x', 'x')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if st := inspect(t, db, schema.Product); st.Status == status.OK {
		t.Fatalf("the damaged table reads ok; the test damaged nothing")
	}
	res, err := migrate.Baseline(ctx, db, dbconn.SQLite, schema.Product, "002", migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Recorded, []string{"002"}) {
		t.Errorf("recorded %v, want [002]", res.Recorded)
	}
	if h := history(t, db, dbconn.SQLite); len(h) != 2 || !h["001"] || !h["002"] {
		t.Errorf("history %v, want 001 (adopted) and 002 as baselines, no 999", h)
	}
	if st := inspect(t, db, schema.Product); st.Status != status.OK {
		t.Errorf("after the baseline: got %s (%s), want ok", st.Status, st.Reason)
	}
	// Intact revisions: nothing to record, nothing committed.
	res, err = migrate.Baseline(ctx, db, dbconn.SQLite, schema.Product, "002", migrate.Options{})
	if err != nil || len(res.Recorded) != 0 {
		t.Errorf("second baseline: recorded %v (%v), want nothing", res.Recorded, err)
	}
}

func TestBaselineUnknownVersionIsRefused(t *testing.T) {
	_, db := at002WithoutRevisions(t)
	if _, err := migrate.Baseline(context.Background(), db, dbconn.SQLite, schema.Product, "003x", migrate.Options{}); err == nil || !strings.Contains(err.Error(), "no version 003x") {
		t.Errorf("got %v, want no version 003x", err)
	}
	if ok, err := migrate.PackagedVersion(schema.Product, dbconn.SQLite, "003x"); ok || err != nil {
		t.Errorf("PackagedVersion(003x) = %v, %v; want false", ok, err)
	}
	if ok, err := migrate.PackagedVersion(schema.Product, dbconn.SQLite, "001"); !ok || err != nil {
		t.Errorf("PackagedVersion(001) = %v, %v; want true", ok, err)
	}
}

func TestBaselinePostgres(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Start(t)
	db := openPostgres(t, c, "baseline")
	c.LoadDump(t, "baseline", fixtures+"product-head.postgres.sql")
	upgradeTo(t, db, dbconn.Postgres, schema.Product, "002")
	if _, err := db.Exec("DROP TABLE " + migrate.RevisionsTable); err != nil {
		t.Fatal(err)
	}
	if _, err := migrate.Baseline(ctx, db, dbconn.Postgres, schema.Product, "001", migrate.Options{}); !errors.Is(err, migrate.ErrSchemaDiffers) {
		t.Fatalf("baseline 001 of a 002 database: got %v, want ErrSchemaDiffers", err)
	}
	if hasTable(t, db, dbconn.Postgres, migrate.RevisionsTable) {
		t.Errorf("a refused baseline created %s", migrate.RevisionsTable)
	}
	assertNoScratchSchema(t, db)
	if _, err := migrate.Baseline(ctx, db, dbconn.Postgres, schema.Product, "002", migrate.Options{}); err != nil {
		t.Fatal(err)
	}
	st, err := migrate.Inspect(ctx, db, dbconn.Postgres, schema.Product)
	if err != nil || st.Status != status.OK || st.DBVersion != "002" {
		t.Errorf("after the baseline: got %s at %q (%s, %v), want ok at 002", st.Status, st.DBVersion, st.Reason, err)
	}
	assertNoScratchSchema(t, db)
}
