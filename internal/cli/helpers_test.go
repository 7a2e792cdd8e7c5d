package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/schema"
)

// result is what one Run did.
type result struct {
	code           int
	stdout, stderr string
}

// cmdline is one in-process run of the command line.
type cmdline struct {
	stdin string
	env   map[string]string
}

// run runs the command line in-process with an environment of its own: no
// variable of the real one leaks in, and a worker, should one be started,
// fails to start instead of re-running the test binary.
func (in cmdline) run(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := Env{
		Stdin:  strings.NewReader(in.stdin),
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(k string) string { return in.env[k] },
		// Never os.Executable(): that is this test binary.
		Executable: filepath.Join(t.TempDir(), "no-worker-here"),
	}
	code := Run(context.Background(), args, env)
	return result{code, stdout.String(), stderr.String()}
}

// run runs args with no stdin and an empty environment.
func run(t *testing.T, args ...string) result {
	t.Helper()
	return cmdline{}.run(t, args...)
}

// mustRun runs args and fails the test unless the exit code is want.
func mustRun(t *testing.T, want int, args ...string) result {
	t.Helper()
	r := run(t, args...)
	if r.code != want {
		t.Fatalf("supervisor %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r
}

// workspace makes an initialised workspace (with product Default, whose
// database does not exist) and returns its directory.
func workspace(t *testing.T) string {
	t.Helper()
	ws := filepath.Join(t.TempDir(), "ws")
	mustRun(t, ExitOK, "-w", ws, "init")
	return ws
}

// productAt makes a SQLite product database at path at version v ("" = the
// latest packaged one).
func productAt(t *testing.T, path, v string) {
	t.Helper()
	db, err := dbconn.Open(context.Background(), dbconn.Target{Dialect: "sqlite", Path: path}, dbconn.Options{Create: true, ImmediateTx: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := migrate.Upgrade(context.Background(), db, "sqlite", schema.Product, migrate.Options{ToVersion: v}); err != nil {
		t.Fatal(err)
	}
}

// decodeJSON decodes the whole of s into a value of type T.
func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, s)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value in:\n%s", s)
	}
	return v
}

// fileExists reports whether path exists.
func fileExists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return err == nil
}
