package migrate_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
	smigrate "supervisor/internal/migrate"
	"supervisor/internal/pgtest"
	"supervisor/internal/testutil"
	sschema "supervisor/schema"
)

// upgradeTo applies our packaged files up to version.
func upgradeTo(t *testing.T, db *sql.DB, dialect dbconn.Dialect, kind sschema.Kind, version string) {
	t.Helper()
	if _, err := smigrate.Upgrade(context.Background(), db, dialect, kind, smigrate.Options{ToVersion: version}); err != nil {
		t.Fatal(err)
	}
}

// compare is smigrate.Compare that fails the test on an error.
func compare(t *testing.T, db *sql.DB, dialect dbconn.Dialect, kind sschema.Kind, version string) []string {
	t.Helper()
	d, err := smigrate.Compare(context.Background(), db, dialect, kind, version)
	if err != nil {
		t.Fatalf("Compare(%s, %s): %v", kind, version, err)
	}
	return d
}

// TestVersion1IsCodeCheckersSchema compares CodeChecker's reference database
// with our packaged version 001 the way adoption does, and fails on any
// difference; a database at 002 must differ from 001 (so the comparison can
// fail) and equal 002.
func TestVersion1IsCodeCheckersSchemaSQLite(t *testing.T) {
	for _, kind := range []sschema.Kind{sschema.Config, sschema.Product} {
		t.Run(string(kind), func(t *testing.T) {
			ref := openSQLite(t, testutil.CopyFixture(t, string(kind)+"-head.sqlite"))
			if d := compare(t, ref, dbconn.SQLite, kind, "001"); len(d) > 0 {
				t.Fatalf("version 001 differs from CodeChecker's %s schema:\n%s", kind, strings.Join(d, "\n"))
			}
			ours := openSQLite(t, t.TempDir()+"/ours.sqlite")
			upgradeTo(t, ours, dbconn.SQLite, kind, "002")
			if d := compare(t, ours, dbconn.SQLite, kind, "001"); len(d) == 0 {
				t.Fatal("version 002 compares equal to 001; the comparison sees nothing")
			}
			if d := compare(t, ours, dbconn.SQLite, kind, "002"); len(d) > 0 {
				t.Fatalf("a database at 002 differs from the packaged 002:\n%s", strings.Join(d, "\n"))
			}
		})
	}
}

func TestVersion1IsCodeCheckersSchemaPostgres(t *testing.T) {
	t.Parallel() // mostly waits for its own PostgreSQL server
	cluster := pgtest.Start(t)
	for _, kind := range []sschema.Kind{sschema.Config, sschema.Product} {
		t.Run(string(kind), func(t *testing.T) {
			refName := string(kind) + "_ref"
			ref := openPostgres(t, cluster, refName)
			cluster.LoadDump(t, refName, fixtures+string(kind)+"-head.postgres.sql")
			if d := compare(t, ref, dbconn.Postgres, kind, "001"); len(d) > 0 {
				t.Fatalf("version 001 differs from CodeChecker's %s schema:\n%s", kind, strings.Join(d, "\n"))
			}
			ours := openPostgres(t, cluster, string(kind)+"_ours")
			upgradeTo(t, ours, dbconn.Postgres, kind, "002")
			if d := compare(t, ours, dbconn.Postgres, kind, "001"); len(d) == 0 {
				t.Fatal("version 002 compares equal to 001; the comparison sees nothing")
			}
			if d := compare(t, ours, dbconn.Postgres, kind, "002"); len(d) > 0 {
				t.Fatalf("a database at 002 differs from the packaged 002:\n%s", strings.Join(d, "\n"))
			}
			assertNoScratchSchema(t, ours)
			// CodeChecker's seed rows are part of version 001.
			if kind == sschema.Product {
				var n int
				if err := ours.QueryRow("SELECT count(*) FROM checkers").Scan(&n); err != nil || n != 2 {
					t.Fatalf("checkers seed rows: got %d (err %v), want 2", n, err)
				}
			}
		})
	}
}

// openPostgres creates database name on c and opens it.
func openPostgres(t *testing.T, c *pgtest.Cluster, name string) *sql.DB {
	t.Helper()
	c.CreateDatabase(t, name)
	db, err := dbconn.Open(context.Background(), dbconn.Target{Dialect: dbconn.Postgres, Host: c.Host, Port: c.Port,
		User: c.User, Password: c.Password, Database: name}, dbconn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// assertNoScratchSchema fails if a comparison left its scratch schema behind.
func assertNoScratchSchema(t *testing.T, db *sql.DB) {
	t.Helper()
	var names []string
	rows, err := db.Query("SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\\_%'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if len(names) > 0 {
		t.Errorf("schemas left on the server after comparing: %v, want none", names)
	}
}
