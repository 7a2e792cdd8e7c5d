package registry

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// schemaDir holds the packaged config migrations, relative to this package.
const schemaDir = "../../schema/config"

// openSQLite opens the SQLite file at path, foreign keys on or off.
func openSQLite(tb testing.TB, path string, foreignKeys bool) *sql.DB {
	tb.Helper()
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	if foreignKeys {
		q.Add("_pragma", "foreign_keys(1)")
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// migrationFiles returns the packaged config migration files of dialect,
// version 1 up to upTo.
func migrationFiles(tb testing.TB, dialect string, upTo int) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(schemaDir, dialect, "*.sql"))
	if err != nil || len(files) < 2 {
		tb.Fatalf("packaged %s config migrations: %v (found %d files)", dialect, err, len(files))
	}
	return files[:upTo]
}

// newSQLiteConfig creates a config database in a temporary directory by
// running the packaged SQLite migrations up to version upTo, and returns it
// open (foreign keys on, as dbconn opens it) with its directory.
func newSQLiteConfig(tb testing.TB, upTo int) (*sql.DB, string) {
	tb.Helper()
	dir := tb.TempDir()
	db := openSQLite(tb, filepath.Join(dir, "config.sqlite"), true)
	for _, f := range migrationFiles(tb, "sqlite", upTo) {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		// modernc's driver runs every statement of a multi-statement Exec.
		if _, err := db.ExecContext(context.Background(), string(b)); err != nil {
			tb.Fatalf("exec %s: %v", f, err)
		}
	}
	return db, dir
}
