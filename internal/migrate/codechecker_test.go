package migrate_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"supervisor/internal/testutil"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"

	"supervisor/internal/dbconn"
	"supervisor/internal/job"
	smigrate "supervisor/internal/migrate"
	"supervisor/internal/pgtest"
	sschema "supervisor/schema"
)

// inspectRealm inspects db with atlas, without CodeChecker's and atlas's
// bookkeeping tables.
func inspectRealm(t *testing.T, db *sql.DB, dialect string) (migrate.Driver, *schema.Realm) {
	t.Helper()
	var (
		drv migrate.Driver
		err error
	)
	opts := &schema.InspectRealmOption{}
	if dialect == "sqlite" {
		drv, err = sqlite.Open(db)
	} else {
		drv, err = postgres.Open(db)
		opts.Schemas = []string{"public"}
	}
	if err != nil {
		t.Fatal(err)
	}
	realm, err := drv.InspectRealm(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range realm.Schemas {
		var kept []*schema.Table
		for _, tbl := range s.Tables {
			if tbl.Name != "alembic_version" && tbl.Name != smigrate.RevisionsTable {
				kept = append(kept, tbl)
			}
		}
		s.Tables = kept
		// SQLite names the index of a UNIQUE constraint sqlite_autoindex_T_N;
		// atlas's differ renames such indexes on one side only. Name them by
		// their columns on both sides so they are compared, not dropped and added.
		for _, tbl := range kept {
			for _, idx := range tbl.Indexes {
				if strings.HasPrefix(idx.Name, "sqlite_autoindex_") {
					var cols []string
					for _, p := range idx.Parts {
						cols = append(cols, p.C.Name)
					}
					idx.Name = tbl.Name + "_unique_" + strings.Join(cols, "_")
				}
			}
		}
	}
	return drv, realm
}

// diff describes the changes that turn realm a into realm b, one per line.
func diff(t *testing.T, drv migrate.Driver, a, b *schema.Realm) []string {
	t.Helper()
	changes, err := drv.RealmDiff(a, b)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range changes {
		out = append(out, describe(c))
	}
	return out
}

func describe(c schema.Change) string {
	switch c := c.(type) {
	case *schema.ModifyTable:
		var parts []string
		for _, tc := range c.Changes {
			switch tc := tc.(type) {
			case *schema.AddIndex:
				parts = append(parts, "add "+describeIndex(tc.I))
			case *schema.DropIndex:
				parts = append(parts, "drop "+describeIndex(tc.I))
			case *schema.ModifyIndex:
				parts = append(parts, fmt.Sprintf("modify %s -> %s", describeIndex(tc.From), describeIndex(tc.To)))
			case *schema.ModifyColumn:
				parts = append(parts, fmt.Sprintf("modify column %s (%v): %+v -> %+v", tc.From.Name, tc.Change, tc.From.Type, tc.To.Type))
			case *schema.AddColumn:
				parts = append(parts, "add column "+tc.C.Name)
			case *schema.DropColumn:
				parts = append(parts, "drop column "+tc.C.Name)
			default:
				parts = append(parts, fmt.Sprintf("%T%+v", tc, tc))
			}
		}
		return fmt.Sprintf("modify table %s: %s", c.T.Name, strings.Join(parts, "; "))
	case *schema.AddTable:
		return "add table " + c.T.Name
	case *schema.DropTable:
		return "drop table " + c.T.Name
	case *schema.ModifySchema:
		var parts []string
		for _, sc := range c.Changes {
			parts = append(parts, describe(sc))
		}
		return fmt.Sprintf("modify schema %s: %s", c.S.Name, strings.Join(parts, "; "))
	}
	return fmt.Sprintf("%T %+v", c, c)
}

// upgradeTo applies our packaged files up to version.
func upgradeTo(t *testing.T, db *sql.DB, dialect string, kind sschema.Kind, version string) {
	t.Helper()
	if _, err := smigrate.Upgrade(context.Background(), db, dialect, kind, smigrate.Options{ToVersion: version}); err != nil {
		t.Fatal(err)
	}
}

// TestVersion1IsCodeCheckersSchema inspects CodeChecker's reference database
// and a fresh database at our version 001 with atlas and fails on any
// difference; version 002 must differ (so the comparison can fail).
func TestVersion1IsCodeCheckersSchemaSQLite(t *testing.T) {
	for _, kind := range []sschema.Kind{sschema.Config, sschema.Product} {
		t.Run(string(kind), func(t *testing.T) {
			ref := openSQLite(t, testutil.CopyFixture(t, string(kind)+"-head.sqlite"))
			drv, want := inspectRealm(t, ref, "sqlite")
			ours := openSQLite(t, t.TempDir()+"/ours.sqlite")
			upgradeTo(t, ours, "sqlite", kind, "001")
			_, got := inspectRealm(t, ours, "sqlite")
			if d := diff(t, drv, want, got); len(d) > 0 {
				t.Fatalf("version 001 differs from CodeChecker's %s schema:\n%s", kind, strings.Join(d, "\n"))
			}
			upgradeTo(t, ours, "sqlite", kind, "002")
			_, v2 := inspectRealm(t, ours, "sqlite")
			if d := diff(t, drv, want, v2); len(d) == 0 {
				t.Fatal("version 002 inspects the same as CodeChecker's schema; the comparison sees nothing")
			}
		})
	}
}

func TestVersion1IsCodeCheckersSchemaPostgres(t *testing.T) {
	t.Parallel() // mostly waits for its own PostgreSQL server
	cluster := pgtest.Start(t)
	open := func(name string) *sql.DB {
		t.Helper()
		cluster.CreateDatabase(t, name)
		db, err := dbconn.Open(context.Background(), job.Target{Dialect: "postgres", Host: cluster.Host, Port: cluster.Port,
			User: cluster.User, Password: cluster.Password, Database: name}, dbconn.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	for _, kind := range []sschema.Kind{sschema.Config, sschema.Product} {
		t.Run(string(kind), func(t *testing.T) {
			refName := string(kind) + "_ref"
			ref := open(refName)
			cluster.LoadDump(t, refName, fixtures+string(kind)+"-head.postgres.sql")
			drv, want := inspectRealm(t, ref, "postgres")
			ours := open(string(kind) + "_ours")
			upgradeTo(t, ours, "postgres", kind, "001")
			_, got := inspectRealm(t, ours, "postgres")
			if d := diff(t, drv, want, got); len(d) > 0 {
				t.Fatalf("version 001 differs from CodeChecker's %s schema:\n%s", kind, strings.Join(d, "\n"))
			}
			upgradeTo(t, ours, "postgres", kind, "002")
			_, v2 := inspectRealm(t, ours, "postgres")
			if d := diff(t, drv, want, v2); len(d) == 0 {
				t.Fatal("version 002 inspects the same as CodeChecker's schema; the comparison sees nothing")
			}
			// CodeChecker's seed rows are part of version 001.
			var n int
			if err := ours.QueryRow("SELECT count(*) FROM checkers").Scan(&n); err != nil || (kind == sschema.Product && n != 2) {
				if kind == sschema.Product {
					t.Fatalf("checkers seed rows: got %d (err %v), want 2", n, err)
				}
			}
		})
	}
}

func describeIndex(i *schema.Index) string {
	var cols []string
	for _, p := range i.Parts {
		if p.C != nil {
			cols = append(cols, p.C.Name)
		}
	}
	return fmt.Sprintf("index %q unique=%v (%s) attrs=%+v", i.Name, i.Unique, strings.Join(cols, ", "), i.Attrs)
}
