package migrate_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/internal/pgtest"
	"supervisor/internal/status"
	"supervisor/schema"
)

// chainAndCheckpoint initialises chain by replaying every packaged file and
// fresh through the checkpoint (what Upgrade does for an empty database).
func chainAndCheckpoint(t *testing.T, chain, fresh *sql.DB, dialect dbconn.Dialect) migrate.Result {
	t.Helper()
	ctx := context.Background()
	st, err := migrate.Inspect(ctx, chain, dialect, schema.Product)
	if err != nil {
		t.Fatal(err)
	}
	if st.Checkpoint == nil {
		t.Fatalf("empty %s database: got no checkpoint, want the one of %s", dialect, st.PackageVersion)
	}
	st.Checkpoint = nil // the chain, file by file
	if _, err := migrate.Apply(ctx, chain, dialect, schema.Product, st, migrate.Options{}); err != nil {
		t.Fatalf("replay the chain: %v", err)
	}
	res, err := migrate.Upgrade(ctx, fresh, dialect, schema.Product, migrate.Options{})
	if err != nil {
		t.Fatalf("apply the checkpoint: %v", err)
	}
	return res
}

// assertSameDatabase fails unless both databases hold the schema of version
// (migrate.Compare, which replays the chain) and the same seeded rows and
// revisions.
func assertSameDatabase(t *testing.T, chain, fresh *sql.DB, dialect dbconn.Dialect, version string) {
	t.Helper()
	ctx := context.Background()
	for name, db := range map[string]*sql.DB{"chain": chain, "checkpoint": fresh} {
		diffs, err := migrate.Compare(ctx, db, dialect, schema.Product, version)
		if err != nil {
			t.Fatal(err)
		}
		if len(diffs) > 0 {
			t.Errorf("%s database differs from the chain at %s:\n%s", name, version, strings.Join(diffs, "\n"))
		}
	}
	for _, q := range []string{
		"SELECT version_num FROM alembic_version",
		"SELECT id, analyzer_name, checker_name, severity FROM checkers ORDER BY id",
		"SELECT version, description, type, applied, total, hash FROM " + migrate.RevisionsTable + " ORDER BY version",
	} {
		if got, want := rowsOf(t, fresh, q), rowsOf(t, chain, q); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: checkpoint gave %v, chain %v", q, got, want)
		}
	}
}

func rowsOf(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%v", vals))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCheckpointEqualsChain(t *testing.T) {
	latest, err := migrate.LatestVersion(schema.Product, dbconn.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("sqlite", func(t *testing.T) {
		chain := openSQLite(t, filepath.Join(t.TempDir(), "chain.sqlite"))
		fresh := openSQLite(t, filepath.Join(t.TempDir(), "checkpoint.sqlite"))
		chainAndCheckpoint(t, chain, fresh, dbconn.SQLite)
		assertSameDatabase(t, chain, fresh, dbconn.SQLite, latest)
	})
	t.Run("postgres", func(t *testing.T) {
		c := pgtest.Start(t)
		chain, fresh := openPostgres(t, c, "chain"), openPostgres(t, c, "checkpoint")
		chainAndCheckpoint(t, chain, fresh, dbconn.Postgres)
		assertSameDatabase(t, chain, fresh, dbconn.Postgres, latest)
		assertNoScratchSchema(t, fresh)
	})
}

func TestCheckpointInitialisesEmptyDatabaseUpToDate(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, filepath.Join(t.TempDir(), "new.sqlite"))
	res, err := migrate.Upgrade(ctx, db, dbconn.SQLite, schema.Product, migrate.Options{Operator: "test"})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := migrate.Dir(schema.Product, dbconn.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := dir.Files()
	var versions []string
	for _, f := range files {
		versions = append(versions, f.Version())
	}
	if res.To != versions[len(versions)-1] || !reflect.DeepEqual(res.Applied, versions) {
		t.Fatalf("got to=%s applied=%v, want %s and %v", res.To, res.Applied, versions[len(versions)-1], versions)
	}
	// One revision per version, executed in full: status and history read
	// the database as if the chain had run.
	got := rowsOf(t, db, "SELECT version, type, applied = total, operator_version FROM "+migrate.RevisionsTable+" ORDER BY version")
	var want []string
	for _, v := range versions {
		want = append(want, fmt.Sprintf("[%s %d %d test]", v, 2, 1))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("revisions: got %v, want %v", got, want)
	}
	if st := inspect(t, db, schema.Product); st.Status != status.OK || st.DBVersion != res.To || st.Checkpoint != nil {
		t.Fatalf("after the checkpoint: got %s at %q (checkpoint %v, %s), want ok at %s", st.Status, st.DBVersion, st.Checkpoint, st.Reason, res.To)
	}
	res, err = migrate.Upgrade(ctx, db, dbconn.SQLite, schema.Product, migrate.Options{})
	if err != nil || len(res.Applied) != 0 {
		t.Fatalf("second run: applied %v, err %v, want nothing", res.Applied, err)
	}
}

func TestCheckpointNotUsedBelowLatestOrOnExistingSchema(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, filepath.Join(t.TempDir(), "old.sqlite"))
	res, err := migrate.Upgrade(ctx, db, dbconn.SQLite, schema.Product, migrate.Options{ToVersion: "001"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Applied, []string{"001"}) {
		t.Fatalf("--to 001 on an empty database: applied %v, want [001] (the chain, not the checkpoint)", res.Applied)
	}
	st := inspect(t, db, schema.Product)
	if st.Checkpoint != nil {
		t.Fatalf("database at 001: got a checkpoint, want the chain")
	}
	if res, err = migrate.Apply(ctx, db, dbconn.SQLite, schema.Product, st, migrate.Options{}); err != nil || !reflect.DeepEqual(res.Applied, []string{"002"}) {
		t.Fatalf("upgrade from 001: applied %v, err %v, want [002]", res.Applied, err)
	}
}
