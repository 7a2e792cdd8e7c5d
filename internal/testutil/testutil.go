// Package testutil holds what many packages' tests need: where the project's
// copies of CodeChecker-made databases and its checker label set are, and
// copying them into a test's own directory.
package testutil

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"supervisor/internal/dbconn"
)

// testdata is the checkout's testdata directory, found from this source file
// so that it does not depend on where the checkout is or which package's test
// asks.
var testdata = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
}()

// Fixtures is the directory of the databases CodeChecker itself made
// (testdata/codechecker; its README says where they come from).
var Fixtures = filepath.Join(testdata, "codechecker")

// LabelsDir is the project's checker label set in CodeChecker's format
// (testdata/labels): the checkers the fixtures and the fleet generator use.
var LabelsDir = filepath.Join(testdata, "labels")

// Fixture is the path of a fixture file, e.g. "product-sample.sqlite".
func Fixture(name string) string {
	return filepath.Join(Fixtures, name)
}

// CopyFile copies src to dst, writable (fixtures are read-only).
func CopyFile(tb testing.TB, src, dst string) {
	tb.Helper()
	in, err := os.Open(src)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
}

// CopyFixture copies the fixture name into a new temporary directory of tb
// and returns the copy's path.
func CopyFixture(tb testing.TB, name string) string {
	tb.Helper()
	dst := filepath.Join(tb.TempDir(), filepath.Base(name))
	CopyFile(tb, Fixture(name), dst)
	return dst
}

// HoldSQLiteLock takes an exclusive lock on the SQLite database at path, as
// another process writing to it would, until the test ends.
func HoldSQLiteLock(tb testing.TB, path string) {
	tb.Helper()
	ctx := context.Background()
	db, err := dbconn.Open(ctx, dbconn.Target{Dialect: dbconn.SQLite, Path: path}, dbconn.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		conn.ExecContext(ctx, "ROLLBACK")
		conn.Close()
		db.Close()
	})
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		tb.Fatal(err)
	}
}

// ScanRow scans the current row of rows, whatever its columns, into n values.
func ScanRow(tb testing.TB, rows *sql.Rows, n int) []any {
	tb.Helper()
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		tb.Fatal(err)
	}
	return vals
}
