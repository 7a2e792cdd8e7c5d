package migrate_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/internal/status"
	"supervisor/schema"
)

// productAt makes a SQLite product database at version ("" leaves it
// without a schema) for a benchmark.
func productAt(b *testing.B, version string) *sql.DB {
	b.Helper()
	ctx := context.Background()
	db, err := dbconn.Open(ctx, dbconn.Target{Dialect: dbconn.SQLite, Path: filepath.Join(b.TempDir(), "p.sqlite")},
		dbconn.Options{Create: true, ImmediateTx: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if version != "" {
		if _, err := migrate.Upgrade(ctx, db, dbconn.SQLite, schema.Product, migrate.Options{ToVersion: version}); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

// BenchmarkInspect is the pending computation: what decides, for one
// product database, its status and the files an upgrade applies (list the
// tables, read the revisions, check the recorded hashes, pick the files
// after the last one). The supervisor does it for every product in every
// status pass, and each worker once more under the lock.
func BenchmarkInspect(b *testing.B) {
	latest, err := migrate.LatestVersion(schema.Product, dbconn.SQLite)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, version string
		want          status.Status
		pending       int
	}{
		{"up-to-date", latest, status.OK, 0},
		{"at-001", "001", status.SchemaMismatchOK, 1},
		{"empty", "", status.SchemaMissing, 2},
	} {
		b.Run(c.name, func(b *testing.B) {
			db := productAt(b, c.version)
			ctx := context.Background()
			for b.Loop() {
				st, err := migrate.Inspect(ctx, db, dbconn.SQLite, schema.Product)
				if err != nil {
					b.Fatal(err)
				}
				if st.Status != c.want || len(st.Pending) != c.pending {
					b.Fatalf("got %s with %d pending, want %s with %d", st.Status, len(st.Pending), c.want, c.pending)
				}
			}
		})
	}
}
