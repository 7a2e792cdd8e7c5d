package migrate

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"ariga.io/atlas/sql/migrate"

	"supervisor/internal/dbconn"
	"supervisor/schema"
)

// A checkpoint is SQL: it cannot stand for a version whose file runs a step
// written in Go, so such a chain is replayed file by file.
func TestCheckpointNotUsedWhenACoveredFileHasAGoStep(t *testing.T) {
	dir, err := Dir(schema.Product, dbconn.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	if cp := checkpointOf(schema.Product, dbconn.SQLite, files); cp == nil {
		t.Fatalf("packaged chain: got no checkpoint, want the one of %s", files[len(files)-1].Version())
	}
	withStep := append([]migrate.File{migrate.NewLocalFile(files[0].Name(), []byte("-- "+goStepDirective+" seed\n"+string(files[0].Bytes())))}, files[1:]...)
	if cp := checkpointOf(schema.Product, dbconn.SQLite, withStep); cp != nil {
		t.Errorf("chain whose 001 has a Go step: got the checkpoint of %s, want none (replay the chain)", cp.Version)
	}
}

// TestKnownStmtCounts: every count of knownStmtCounts is what atlas's
// scanner makes of its file, and every file a packaged checkpoint covers is
// there (initialising from a checkpoint scans no file of the chain).
func TestKnownStmtCounts(t *testing.T) {
	for _, d := range []dbconn.Dialect{dbconn.SQLite, dbconn.Postgres} {
		dir, err := Dir(schema.Product, d)
		if err != nil {
			t.Fatal(err)
		}
		files, err := dir.Files()
		if err != nil {
			t.Fatal(err)
		}
		sum, err := dir.Checksum()
		if err != nil {
			t.Fatal(err)
		}
		covered := map[string]bool{}
		if cp := checkpointOf(schema.Product, d, files); cp != nil {
			for _, f := range cp.Covers {
				covered[f.Name()] = true
			}
		}
		for _, f := range files {
			hash, err := sum.SumByName(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			stmts, err := f.Stmts()
			if err != nil {
				t.Fatal(err)
			}
			n, known := knownStmtCounts[hash]
			switch {
			case known && n != len(stmts):
				t.Errorf("%s/%s: knownStmtCounts says %d statements, atlas finds %d", d, f.Name(), n, len(stmts))
			case !known && covered[f.Name()]:
				t.Errorf("%s/%s is covered by the checkpoint but not in knownStmtCounts: add %q: %d", d, f.Name(), hash, len(stmts))
			}
		}
	}
}

// TestCheckpointScriptFailureNamesTheStatement: the SQLite checkpoint runs
// as one script; when it fails, the error still names the statement, and
// the transaction holds none of the script's work.
func TestCheckpointScriptFailureNamesTheStatement(t *testing.T) {
	ctx := context.Background()
	db, err := dbconn.Open(ctx, dbconn.Target{Dialect: dbconn.SQLite, Path: filepath.Join(t.TempDir(), "p.sqlite")},
		dbconn.Options{Create: true, ImmediateTx: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tt := range []struct {
		name, script, failing string
		// tables is how many the transaction holds afterwards: after a
		// failure, those the statements before the failing one made when
		// they ran one by one (the script's own work undone); the
		// caller rolls the transaction back.
		tables int
	}{
		{"all good", "-- a comment\nCREATE TABLE a (x);\nCREATE INDEX ix_a ON a (x);\nCREATE TABLE b (y);\n", "", 2},
		{"second fails", "CREATE TABLE a (x);\nCREATE TABLE a (y);\nCREATE TABLE c (z);\n", "CREATE TABLE a (y);", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tx, release, err := openSQLiteTx(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			defer tx.Rollback()
			err = execCheckpoint(ctx, tx, dbconn.SQLite, migrate.NewLocalFile("002_checkpoint.sql", []byte(tt.script)))
			var fe *FileError
			switch {
			case tt.failing == "" && err != nil:
				t.Fatalf("execCheckpoint: %v", err)
			case tt.failing != "" && (!errors.As(err, &fe) || fe.Statement != tt.failing):
				t.Fatalf("execCheckpoint: %v, want a FileError naming %q", err, tt.failing)
			}
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != tt.tables {
				t.Errorf("%d tables in the transaction, want %d", n, tt.tables)
			}
		})
	}
}
