package migrate

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"

	"supervisor/internal/dbconn"
	"supervisor/internal/status"
	"supervisor/schema"
)

var errStepFailed = errors.New("the step says no")

func init() {
	// Fills the table the file's own SQL made: the step sees the file's
	// statements, in its transaction.
	RegisterGoStep("test_fill", func(ctx context.Context, tx dbconn.Querier) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO t (v) VALUES ('from go')")
		return err
	})
	RegisterGoStep("test_fail", func(ctx context.Context, tx dbconn.Querier) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO t (v) VALUES ('half done')"); err != nil {
			return err
		}
		return errStepFailed
	})
}

// goStepDir is a migration directory of the given files (name -> content),
// with its atlas.sum.
func goStepDir(t *testing.T, files map[string]string) *migrate.MemDir {
	t.Helper()
	dir := &migrate.MemDir{}
	for name, body := range files {
		if err := dir.WriteFile(name, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := dir.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate.WriteSumFile(dir, sum); err != nil {
		t.Fatal(err)
	}
	return dir
}

// applyGoStepDir applies every file of dir to a new SQLite database, as to
// one without a schema, and returns the database and apply's result.
func applyGoStepDir(t *testing.T, dir *migrate.MemDir) (*sql.DB, Result, error) {
	t.Helper()
	ctx := context.Background()
	db, err := dbconn.Open(ctx, dbconn.Target{Dialect: dbconn.SQLite, Path: filepath.Join(t.TempDir(), "p.sqlite")}, dbconn.Options{Create: true, ImmediateTx: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	st := State{Status: status.SchemaMissing, Pending: files, PackageVersion: files[len(files)-1].Version()}
	res, err := apply(ctx, db, dbconn.SQLite, schema.Product, dir, st, Options{})
	return db, res, err
}

// rowsOf lists t's v column, or reports that t does not exist.
func rowsOf(t *testing.T, db *sql.DB) ([]string, bool) {
	t.Helper()
	rows, err := db.Query("SELECT v FROM t ORDER BY rowid")
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil, false
		}
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out, true
}

// recorded lists the versions of the revisions table; none when the table
// is not there (it is made in the first file's transaction).
func recorded(t *testing.T, db *sql.DB) []string {
	t.Helper()
	revs, err := newRevisions(db, dbconn.SQLite).ReadRevisions(context.Background())
	if err != nil && strings.Contains(err.Error(), "no such table") {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range revs {
		out = append(out, r.Version)
	}
	return out
}

// A file's "-- supervisor:go NAME" step runs in the file's transaction,
// after its SQL: it sees the table the SQL made, and the file is recorded
// applied with it.
func TestGoStepRunsAfterTheFilesSQL(t *testing.T) {
	dir := goStepDir(t, map[string]string{
		"001_create.sql": "-- supervisor:go test_fill\n\nCREATE TABLE t (v text);\n",
	})
	db, res, err := applyGoStepDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := rowsOf(t, db); !ok || len(got) != 1 || got[0] != "from go" {
		t.Errorf("t holds %q (exists %v), want the step's one row", got, ok)
	}
	if got := recorded(t, db); len(got) != 1 || got[0] != "001" || len(res.Applied) != 1 {
		t.Errorf("recorded %q, applied %q; want 001 both", got, res.Applied)
	}
	files, _ := dir.Files()
	plan, err := Plan(State{Pending: files})
	if err != nil {
		t.Fatal(err)
	}
	if plan[0].GoStep != "test_fill" {
		t.Errorf("Plan's GoStep = %q, want test_fill (what --sql refuses)", plan[0].GoStep)
	}
}

// A failing step rolls its file back with it: the SQL before it and the
// revision row are gone, as for a failed statement, and the error names
// the file and the step.
func TestGoStepFailureRollsTheFileBack(t *testing.T) {
	dir := goStepDir(t, map[string]string{
		"001_create.sql": "-- supervisor:go test_fail\n\nCREATE TABLE t (v text);\n",
	})
	db, _, err := applyGoStepDir(t, dir)
	var fe *FileError
	if !errors.Is(err, errStepFailed) || !errors.As(err, &fe) || fe.Version != "001" || !strings.Contains(err.Error(), "go step test_fail") {
		t.Fatalf("apply = %v, want a FileError of 001 naming go step test_fail, wrapping the step's error", err)
	}
	if got, ok := rowsOf(t, db); ok {
		t.Errorf("t exists after the failed file (rows %q), want it rolled back", got)
	}
	if got := recorded(t, db); len(got) != 0 {
		t.Errorf("recorded %q after the failed file, want nothing", got)
	}
}

// A directory naming a step this supervisor does not have is refused when
// planned or applied, before any file is: not after the files before it.
func TestGoStepUnknownIsRefusedBeforeAnyFile(t *testing.T) {
	dir := goStepDir(t, map[string]string{
		"001_create.sql": "CREATE TABLE t (v text);\n",
		"002_fill.sql":   "-- supervisor:go no_such_step\n\nINSERT INTO t (v) VALUES ('sql');\n",
	})
	files, _ := dir.Files()
	if _, err := Plan(State{Pending: files}); err == nil || !strings.Contains(err.Error(), `"no_such_step"`) {
		t.Errorf("Plan = %v, want it to refuse the unknown step no_such_step", err)
	}
	db, _, err := applyGoStepDir(t, dir)
	if err == nil || !strings.Contains(err.Error(), "002_fill.sql names the Go step \"no_such_step\"") {
		t.Fatalf("apply = %v, want it to refuse 002_fill.sql's unknown step", err)
	}
	if _, ok := rowsOf(t, db); ok {
		t.Error("001 was applied before the unknown step of 002 was refused")
	}
}

// A Go step needs the file's transaction: a file without one (txmode
// none) that names a step is refused.
func TestGoStepOutsideATransactionIsRefused(t *testing.T) {
	dir := goStepDir(t, map[string]string{
		"001_create.sql": "-- atlas:txmode none\n-- supervisor:go test_fill\n\nCREATE TABLE t (v text);\n",
	})
	db, _, err := applyGoStepDir(t, dir)
	if err == nil || !strings.Contains(err.Error(), "txmode none") {
		t.Fatalf("apply = %v, want it refused for txmode none", err)
	}
	if _, ok := rowsOf(t, db); ok {
		t.Error("the file was applied")
	}
}
