package pass

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/internal/pgtest"
	"supervisor/internal/registry"
	"supervisor/internal/status"
	"supervisor/internal/testutil"
	"supervisor/schema"
)

// driftCase alters a migrated product by hand (on SQLite, where ALTER
// cannot, by rebuilding the table as an operator would) and names the one
// line status --drift must report for it.
type driftCase struct {
	name           string
	sqlite, pgSQL  []string
	wantSQLite     string
	wantPostgreSQL string
}

var driftCases = []driftCase{
	{
		name:           "extra index",
		sqlite:         []string{"CREATE INDEX drift_ix_comments_author ON comments (author)"},
		pgSQL:          []string{"CREATE INDEX drift_ix_comments_author ON comments (author)"},
		wantSQLite:     "extra index drift_ix_comments_author on comments",
		wantPostgreSQL: "extra index drift_ix_comments_author on comments",
	},
	{
		name:           "dropped column",
		sqlite:         []string{"ALTER TABLE source_components DROP COLUMN username"},
		pgSQL:          []string{"ALTER TABLE source_components DROP COLUMN username"},
		wantSQLite:     "missing column source_components.username",
		wantPostgreSQL: "missing column source_components.username",
	},
	{
		// On SQLite, atlas compares a column's type by its affinity
		// (VARCHAR and TEXT are both text), so the change is to another
		// affinity.
		name: "changed type",
		sqlite: []string{
			"CREATE TABLE new_run_locks (name VARCHAR NOT NULL, locked_at DATETIME NOT NULL, username INTEGER, CONSTRAINT pk_run_locks PRIMARY KEY (name))",
			"INSERT INTO new_run_locks SELECT name, locked_at, username FROM run_locks",
			"DROP TABLE run_locks",
			"ALTER TABLE new_run_locks RENAME TO run_locks",
		},
		pgSQL:          []string{"ALTER TABLE run_locks ALTER COLUMN username TYPE text"},
		wantSQLite:     "column run_locks.username differs (type INTEGER, packaged VARCHAR)",
		wantPostgreSQL: "column run_locks.username differs (type text, packaged character varying)",
	},
	{
		name:           "dropped table",
		sqlite:         []string{"DROP TABLE filter_presets"},
		pgSQL:          []string{"DROP TABLE filter_presets"},
		wantSQLite:     "missing table filter_presets",
		wantPostgreSQL: "missing table filter_presets",
	},
}

// inspectOne inspects product p alone, with or without the drift check.
func inspectOne(t *testing.T, p registry.Product, drift bool) State {
	t.Helper()
	f, _ := testFleet(t, Options{Drift: drift, Getenv: func(string) string { return "" }})
	f.Products = []registry.Product{p}
	return f.Inspect(context.Background(), Timeouts{Connect: 30 * time.Second, Lock: 30 * time.Second})[0]
}

// migrated copies fixture and upgrades it to the packaged latest version.
func migratedSQLite(t *testing.T, fixture string) (registry.Product, *sql.DB) {
	t.Helper()
	path := testutil.CopyFixture(t, fixture)
	target := dbconn.Target{Dialect: dbconn.SQLite, Path: path}
	db, err := dbconn.Open(context.Background(), target, dbconn.Options{ImmediateTx: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := migrate.Upgrade(context.Background(), db, dbconn.SQLite, schema.Product, migrate.Options{}); err != nil {
		t.Fatal(err)
	}
	return registry.Product{Endpoint: "Default", Target: target}, db
}

func execAll(t *testing.T, db *sql.DB, stmts []string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// assertDrift checks that st is drift and names exactly want.
func assertDrift(t *testing.T, st State, want []string) {
	t.Helper()
	if st.Status != status.Drift || st.UpToDate || st.Message != "Database schema drifted from the packaged schema." {
		t.Errorf("got %s %q up_to_date=%v (%s), want drift", st.Status, st.Message, st.UpToDate, st.Reason)
	}
	if !slices.Equal(st.Drift, want) {
		t.Errorf("drift lines %q, want %q", st.Drift, want)
	}
}

// assertClean checks that st was checked for drift and found none.
func assertClean(t *testing.T, st State) {
	t.Helper()
	if st.Status != status.OK || st.Drift == nil || len(st.Drift) != 0 {
		t.Errorf("got %s drift=%#v (%s), want ok with an empty drift list", st.Status, st.Drift, st.Reason)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"drift":[]`) {
		t.Errorf("JSON %s, want an empty drift array", b)
	}
}

func TestStatusDriftReportsHandMadeChangesSQLite(t *testing.T) {
	for _, tc := range driftCases {
		t.Run(tc.name, func(t *testing.T) {
			p, db := migratedSQLite(t, "product-head.sqlite")
			execAll(t, db, tc.sqlite)
			assertDrift(t, inspectOne(t, p, true), []string{tc.wantSQLite})
			// Without --drift, status trusts the revisions table as before.
			if st := inspectOne(t, p, false); st.Status != status.OK || st.Drift != nil {
				t.Errorf("without the drift check: got %s drift=%q, want ok and no drift list", st.Status, st.Drift)
			}
		})
	}
}

// A migrated product, and a CodeChecker database adopted and migrated, are
// not drift: CodeChecker's quirks are in the one tolerated list.
func TestStatusDriftCleanProductsSQLite(t *testing.T) {
	for _, fixture := range []string{"product-head.sqlite", "product-sample.sqlite"} {
		t.Run(fixture, func(t *testing.T) {
			p, _ := migratedSQLite(t, fixture)
			assertClean(t, inspectOne(t, p, true))
		})
	}
}

// Every altered product on one cluster, one database each, and a clean
// adopted one; the comparisons leave no scratch schema behind.
func TestStatusDriftPostgres(t *testing.T) {
	c := pgtest.Start(t)
	product := func(t *testing.T, name string) (registry.Product, *sql.DB) {
		t.Helper()
		c.CreateDatabase(t, name)
		c.LoadDump(t, name, testutil.Fixtures+"/product-head.postgres.sql")
		target := dbconn.Target{Dialect: dbconn.Postgres, Host: c.Host, Port: c.Port, User: c.User, Password: c.Password, Database: name}
		db, err := dbconn.Open(context.Background(), target, dbconn.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := migrate.Upgrade(context.Background(), db, dbconn.Postgres, schema.Product, migrate.Options{}); err != nil {
			t.Fatal(err)
		}
		return registry.Product{Endpoint: name, Target: target}, db
	}
	noScratch := func(t *testing.T, db *sql.DB) {
		t.Helper()
		var n int
		if err := db.QueryRow("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'supervisor_scratch_%'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d scratch schema(s) left after the drift check, want none", n)
		}
	}
	t.Run("clean", func(t *testing.T) {
		p, db := product(t, "clean")
		assertClean(t, inspectOne(t, p, true))
		noScratch(t, db)
	})
	// A role that may read the product but not create a schema on its
	// database cannot have it compared: not knowing is not up to date.
	t.Run("role without create", func(t *testing.T) {
		p, db := product(t, "readonly")
		c.Exec(t, "postgres", "CREATE ROLE drift_reader LOGIN PASSWORD 'reader-pw'")
		c.Exec(t, "readonly", "GRANT USAGE ON SCHEMA public TO drift_reader; GRANT SELECT ON ALL TABLES IN SCHEMA public TO drift_reader")
		p.Target.User, p.Target.Password = "drift_reader", "reader-pw"
		if st := inspectOne(t, p, false); st.Status != status.OK {
			t.Fatalf("without the drift check: got %s (%s), want ok", st.Status, st.Reason)
		}
		st := inspectOne(t, p, true)
		if st.Status != status.FailedToConnect || st.Drift != nil || !strings.HasPrefix(st.Reason, "cannot check for drift: ") || !strings.Contains(st.Reason, "permission denied") {
			t.Errorf("got %s drift=%q (%s), want failed_to_connect, no drift list, \"cannot check for drift: ... permission denied\"", st.Status, st.Drift, st.Reason)
		}
		noScratch(t, db)
	})
	for i, tc := range driftCases {
		t.Run(tc.name, func(t *testing.T) {
			p, db := product(t, "drift_"+string(rune('a'+i)))
			execAll(t, db, tc.pgSQL)
			assertDrift(t, inspectOne(t, p, true), []string{tc.wantPostgreSQL})
			noScratch(t, db)
		})
	}
}
