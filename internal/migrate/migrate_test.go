package migrate_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"supervisor/internal/testutil"

	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/internal/status"
	"supervisor/schema"
)

var fixtures = testutil.Fixtures + "/"

func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := dbconn.Open(context.Background(), dbconn.Target{Dialect: dbconn.SQLite, Path: path}, dbconn.Options{Create: true, ImmediateTx: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func inspect(t *testing.T, db *sql.DB, kind schema.Kind) migrate.State {
	t.Helper()
	st, err := migrate.Inspect(context.Background(), db, dbconn.SQLite, kind)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestFreshDatabaseGoesToLatest(t *testing.T) {
	for _, kind := range []schema.Kind{schema.Config, schema.Product} {
		t.Run(string(kind), func(t *testing.T) {
			db := openSQLite(t, filepath.Join(t.TempDir(), "new.sqlite"))
			if st := inspect(t, db, kind); st.Status != status.SchemaMissing {
				t.Fatalf("fresh database: got %s, want schema_missing", st.Status)
			}
			res, err := migrate.Upgrade(context.Background(), db, dbconn.SQLite, kind, migrate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			latest, _ := migrate.LatestVersion(kind, dbconn.SQLite)
			if res.To != latest || len(res.Applied) != 2 {
				t.Fatalf("got to=%s applied=%v, want %s and two files", res.To, res.Applied, latest)
			}
			st := inspect(t, db, kind)
			if st.Status != status.OK || st.DBVersion != latest {
				t.Fatalf("after upgrade: got %s at %q (%s)", st.Status, st.DBVersion, st.Reason)
			}
			// A second run has nothing to do.
			res, err = migrate.Upgrade(context.Background(), db, dbconn.SQLite, kind, migrate.Options{})
			if err != nil || len(res.Applied) != 0 {
				t.Fatalf("second run: applied %v, err %v", res.Applied, err)
			}
		})
	}
}

func TestStopsAtToVersion(t *testing.T) {
	db := openSQLite(t, filepath.Join(t.TempDir(), "old.sqlite"))
	if _, err := migrate.Upgrade(context.Background(), db, dbconn.SQLite, schema.Product, migrate.Options{ToVersion: "001"}); err != nil {
		t.Fatal(err)
	}
	st := inspect(t, db, schema.Product)
	if st.Status != status.SchemaMismatchOK || st.DBVersion != "001" || len(st.Pending) != 1 {
		t.Fatalf("got %s at %q with %d pending", st.Status, st.DBVersion, len(st.Pending))
	}
}

func TestAdoptsCodeCheckerHead(t *testing.T) {
	for _, tc := range []struct {
		kind    schema.Kind
		fixture string
	}{{schema.Config, "config-head.sqlite"}, {schema.Product, "product-head.sqlite"}} {
		t.Run(string(tc.kind), func(t *testing.T) {
			db := openSQLite(t, testutil.CopyFixture(t, tc.fixture))
			st := inspect(t, db, tc.kind)
			want := tc.kind.CodeCheckerHead() + " (CodeChecker)"
			if st.Status != status.SchemaMismatchOK || st.DBVersion != want || !st.Adopt {
				t.Fatalf("got %s at %q adopt=%v, want schema_mismatch_ok at %q", st.Status, st.DBVersion, st.Adopt, want)
			}
			res, err := migrate.Upgrade(context.Background(), db, dbconn.SQLite, tc.kind, migrate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Adopted || !reflect.DeepEqual(res.Applied, []string{"002"}) {
				t.Fatalf("got adopted=%v applied=%v, want adoption and 002 applied", res.Adopted, res.Applied)
			}
			var typ int
			if err := db.QueryRow("SELECT type FROM atlas_schema_revisions WHERE version = '001'").Scan(&typ); err != nil || typ != 1 {
				t.Fatalf("version 001 recorded as type %d (err %v), want 1 (baseline)", typ, err)
			}
			if st := inspect(t, db, tc.kind); st.Status != status.OK {
				t.Fatalf("after upgrade: %s (%s)", st.Status, st.Reason)
			}
		})
	}
}

func TestNotUpgradable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  string
		reason string
	}{
		{"older CodeChecker revision", "UPDATE alembic_version SET version_num = 'a7f3c8e21b90'", "CodeChecker revision a7f3c8e21b90; upgrade it with CodeChecker"},
		{"unknown tables", "DROP TABLE alembic_version", "no schema version"},
		{"two alembic_version rows", "INSERT INTO alembic_version VALUES ('a7f3c8e21b90')", "alembic_version has 2 rows (a7f3c8e21b90, b1be74589382) where CodeChecker keeps one: a branched or broken alembic state"},
		{"unknown alembic revision", "UPDATE alembic_version SET version_num = 'deadbeef0123'", "alembic revision deadbeef0123 is not a CodeChecker revision this supervisor knows; only databases at CodeChecker's config 635389f535cd / product b1be74589382 are adopted"},
		{"newer than package", "CREATE TABLE atlas_schema_revisions (version text, description text, type integer, applied integer, total integer, executed_at datetime, execution_time integer, error text, error_stmt text, hash text, partial_hashes json, operator_version text); INSERT INTO atlas_schema_revisions VALUES ('999', 'future', 2, 1, 1, '2030-01-01T00:00:00Z', 1, NULL, NULL, 'x', NULL, 'x')", "newer than this package"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openSQLite(t, testutil.CopyFixture(t, "product-head.sqlite"))
			if _, err := db.Exec(tc.setup); err != nil {
				t.Fatal(err)
			}
			st := inspect(t, db, schema.Product)
			if st.Status != status.SchemaMismatchNo || !strings.Contains(st.Reason, tc.reason) {
				t.Fatalf("got %s (%q), want schema_mismatch_no mentioning %q", st.Status, st.Reason, tc.reason)
			}
			_, err := migrate.Upgrade(context.Background(), db, dbconn.SQLite, schema.Product, migrate.Options{})
			if !errors.Is(err, migrate.ErrNotUpgradable) {
				t.Fatalf("upgrade: got %v, want ErrNotUpgradable", err)
			}
		})
	}
}

func TestChangedFileIsReported(t *testing.T) {
	db := openSQLite(t, filepath.Join(t.TempDir(), "p.sqlite"))
	if _, err := migrate.Upgrade(context.Background(), db, dbconn.SQLite, schema.Product, migrate.Options{}); err != nil {
		t.Fatal(err)
	}
	// As if the packaged 002 had been edited after it was applied here.
	if _, err := db.Exec("UPDATE atlas_schema_revisions SET hash = 'tampered' WHERE version = '002'"); err != nil {
		t.Fatal(err)
	}
	st := inspect(t, db, schema.Product)
	if st.Status != status.SchemaMismatchNo || !strings.Contains(st.Reason, "002_drop_leftovers.sql differs from the one applied") {
		t.Fatalf("got %s (%q), want the changed file reported", st.Status, st.Reason)
	}
}

// TestUpgradeKeepsEveryRow upgrades CodeChecker's sample database with content
// through the table-rebuilding version and compares every table before and after.
func TestUpgradeKeepsEveryRow(t *testing.T) {
	db := openSQLite(t, testutil.CopyFixture(t, "product-sample.sqlite"))
	before := dumpTables(t, db)
	if _, err := migrate.Upgrade(context.Background(), db, dbconn.SQLite, schema.Product, migrate.Options{}); err != nil {
		t.Fatal(err)
	}
	after := dumpTables(t, db)
	dropped := map[string]bool{
		"reports.checker_name_MOVED_TO_checkers": true, "reports.checker_cat_UNUSED": true, "reports.bug_type_UNUSED": true,
		"reports.severity_MOVED_TO_checkers": true, "reports.analyzer_name_MOVED_TO_checkers": true,
		"runs.command": true, "run_histories.check_command": true,
	}
	for table, rows := range before {
		if table == "atlas_schema_revisions" {
			continue
		}
		got, ok := after[table]
		if !ok {
			t.Errorf("table %s is gone", table)
			continue
		}
		want := project(rows, func(col string) bool { return !dropped[table+"."+col] })
		if len(got) != len(want) {
			t.Errorf("%s: %d rows after, %d before", table, len(got), len(want))
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s row %d differs:\n got  %s\n want %s", table, i, got[i], want[i])
				break
			}
		}
	}
	if n := len(before["reports"]); n != 2000 {
		t.Errorf("sample has %d reports, the fixture README says 2000", n)
	}
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Error("PRAGMA foreign_key_check reports violations after the upgrade")
	}
}

// row is one table row rendered as "col=value" pairs sorted by column name.
type row = string

// dumpTables renders every row of every table, in primary-key order.
func dumpTables(t *testing.T, db *sql.DB) map[string][]row {
	t.Helper()
	names, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for names.Next() {
		var n string
		names.Scan(&n)
		tables = append(tables, n)
	}
	names.Close()
	out := map[string][]row{}
	for _, table := range tables {
		rows, err := db.Query(fmt.Sprintf(`SELECT * FROM "%s" ORDER BY rowid`, table))
		if err != nil {
			// WITHOUT ROWID tables do not exist here; every table has a rowid.
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := testutil.ScanRow(t, rows, len(cols))
			pairs := make([]string, len(cols))
			for i, c := range cols {
				pairs[i] = fmt.Sprintf("%s=%#v", c, vals[i])
			}
			sort.Strings(pairs)
			out[table] = append(out[table], strings.Join(pairs, "\x00"))
		}
		rows.Close()
	}
	return out
}

// project keeps the columns keep accepts in every row.
func project(rows []row, keep func(col string) bool) []row {
	out := make([]row, len(rows))
	for i, r := range rows {
		var kept []string
		for _, p := range strings.Split(r, "\x00") {
			if keep(p[:strings.IndexByte(p, '=')]) {
				kept = append(kept, p)
			}
		}
		out[i] = strings.Join(kept, "\x00")
	}
	return out
}

// An unknown alembic revision is not known to be newer: nothing may send
// the operator to a newer supervisor or to CodeChecker's upgrade for it.
func TestUnknownAlembicRevisionIsNotCalledNewer(t *testing.T) {
	db := openSQLite(t, testutil.CopyFixture(t, "product-head.sqlite"))
	if _, err := db.Exec("UPDATE alembic_version SET version_num = 'deadbeef0123'"); err != nil {
		t.Fatal(err)
	}
	st := inspect(t, db, schema.Product)
	for _, bad := range []string{"newer", "upgrade it with CodeChecker"} {
		if strings.Contains(st.Reason, bad) {
			t.Errorf("reason %q says %q about a revision nobody knows", st.Reason, bad)
		}
	}
	if st.DBVersion != "deadbeef0123 (alembic)" {
		t.Errorf("db version %q, want %q", st.DBVersion, "deadbeef0123 (alembic)")
	}
}

// Two alembic_version rows are shown as the two revisions they are.
func TestTwoAlembicRowsAreBothNamed(t *testing.T) {
	db := openSQLite(t, testutil.CopyFixture(t, "product-head.sqlite"))
	if _, err := db.Exec("INSERT INTO alembic_version VALUES ('a7f3c8e21b90')"); err != nil {
		t.Fatal(err)
	}
	st := inspect(t, db, schema.Product)
	if st.Status != status.SchemaMismatchNo || st.Adopt || st.DBVersion != "a7f3c8e21b90, b1be74589382 (alembic)" {
		t.Errorf("got %s adopt=%v at %q, want schema_mismatch_no at %q", st.Status, st.Adopt, st.DBVersion, "a7f3c8e21b90, b1be74589382 (alembic)")
	}
}

// A revisions table that lost the row of 001 while 002 is recorded is
// damaged; it used to be taken as up to date.
func TestRevisionsGapIsDamaged(t *testing.T) {
	db := openSQLite(t, filepath.Join(t.TempDir(), "p.sqlite"))
	if _, err := migrate.Upgrade(context.Background(), db, dbconn.SQLite, schema.Product, migrate.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DELETE FROM atlas_schema_revisions WHERE version = '001'"); err != nil {
		t.Fatal(err)
	}
	st := inspect(t, db, schema.Product)
	want := "atlas_schema_revisions is damaged: version 001 is not recorded, but the later 002 is"
	if st.Status != status.SchemaMismatchNo || st.Reason != want {
		t.Fatalf("got %s (%q), want schema_mismatch_no (%q)", st.Status, st.Reason, want)
	}
	if _, err := migrate.Upgrade(context.Background(), db, dbconn.SQLite, schema.Product, migrate.Options{}); !errors.Is(err, migrate.ErrNotUpgradable) {
		t.Fatalf("upgrade: got %v, want ErrNotUpgradable", err)
	}
}
