// Package testutil holds what many packages' tests need: where CodeChecker's
// reference fixtures are, and copying them into a test's own directory.
package testutil

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Fixtures is the directory of CodeChecker's reference data
// (shared/fixtures/codechecker beside the checkout), found from this source
// file so that it does not depend on where the checkout is or which package's
// test asks.
var Fixtures = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "fixtures", "codechecker")
}()

// Fixture is the path of a fixture file, e.g. "product-sample.sqlite" or "labels".
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
