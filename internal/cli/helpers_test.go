package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/internal/pass"
	"supervisor/internal/testutil"
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

// statusWorkspace is a workspace with one product per interesting state.
// Its endpoints, in order: Default (missing), bad (random bytes), codechecker
// (CodeChecker's head), good (up to date), old (at 001).
func statusWorkspace(t *testing.T) (ws string, paths map[string]string) {
	t.Helper()
	ws = workspace(t)
	dir := t.TempDir()
	paths = map[string]string{"Default": filepath.Join(ws, "Default.sqlite")}
	for _, e := range []string{"bad", "codechecker", "good", "old"} {
		paths[e] = filepath.Join(dir, e+".sqlite")
		mustRun(t, ExitOK, "-w", ws, "products", "add", e, "--sqlite", paths[e])
	}
	if err := os.WriteFile(paths["bad"], []byte(strings.Repeat("garbage\x00\xff", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.CopyFile(t, testutil.Fixture("product-head.sqlite"), paths["codechecker"])
	productAt(t, paths["good"], "")
	productAt(t, paths["old"], "001")
	return ws, paths
}

// freePort returns a TCP port of 127.0.0.1 that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// untouchedWorkspace is a workspace on CodeChecker's own config database (at
// our version 001: migrate and up would upgrade it) with one expired login
// session (cleanup would delete it) and product p at version 001 (migrate
// would upgrade it). It returns the workspace and p's database.
func untouchedWorkspace(t *testing.T) (ws, product string) {
	t.Helper()
	ws = filepath.Join(t.TempDir(), "ws")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(ws, "config.sqlite")
	testutil.CopyFile(t, testutil.Fixture("config-head.sqlite"), cfg)
	product = filepath.Join(ws, "p.sqlite")
	productAt(t, product, "001")
	mustRun(t, ExitOK, "-w", ws, "products", "add", "p", "--sqlite", product)
	db, err := dbconn.Open(context.Background(), dbconn.Target{Dialect: "sqlite", Path: cfg}, dbconn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO auth_sessions (user_name, token, last_access) VALUES ('old', 'tok', '2001-01-01 00:00:00.000000')`); err != nil {
		t.Fatal(err)
	}
	return ws, product
}

// checksum is the SHA-256 of the file at path, and of the SQLite journal and
// WAL files beside it when they exist.
func checksum(t *testing.T, path string) [32]byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-journal", path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(append(all, []byte(p)...), b...)
	}
	return sha256.Sum256(all)
}

// makeReadOnly makes path (a file or a directory) impossible to write for
// this process, also when it runs as root, which ignores file modes: root
// gets an immutable file (chattr +i), anyone else mode 0444/0555. It checks
// that writing really fails.
func makeReadOnly(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
			t.Fatalf("chattr +i %s: %v %s (as root this test needs chattr and a file system with immutable files: ext4, xfs, btrfs)", path, err, out)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", path).Run() })
	} else {
		mode := os.FileMode(0o444)
		if fi.IsDir() {
			mode = 0o555
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(path, fi.Mode().Perm()) })
	}
	if fi.IsDir() {
		if f, err := os.CreateTemp(path, "probe"); err == nil {
			f.Close()
			os.Remove(f.Name())
			t.Fatalf("%s is still writable", path)
		}
	} else if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
		f.Close()
		t.Fatalf("%s is still writable", path)
	}
}

// insertProduct writes a products row as CodeChecker (or a hand edit)
// might have, bypassing every check of products add.
func insertProduct(t *testing.T, ws, endpoint, conn string) {
	t.Helper()
	db, err := dbconn.Open(context.Background(), dbconn.Target{Dialect: "sqlite", Path: filepath.Join(ws, "config.sqlite")}, dbconn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO products (endpoint, connection, display_name, is_review_status_change_disabled, report_limit)
		VALUES (?, ?, ?, 0, 500000)`, endpoint, conn, endpoint); err != nil {
		t.Fatal(err)
	}
}

// failedStatus runs status --json with args in ws, wants exit 1 (a product
// failed) and returns the rows by endpoint.
func failedStatus(t *testing.T, ws string, args ...string) map[string]pass.State {
	t.Helper()
	r := run(t, append([]string{"-w", ws, "status", "--json"}, args...)...)
	if r.code != ExitFailed {
		t.Fatalf("status: exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	out := map[string]pass.State{}
	for _, s := range decodeJSON[[]pass.State](t, r.stdout) {
		out[s.Endpoint] = s
	}
	return out
}

// lineOf is the last line of out that starts with the endpoint e.
func lineOf(out, e string) string {
	line := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, e+" ") {
			line = l
		}
	}
	return line
}

// cellOf is the Result cell (the last column) of e's last table row in out.
func cellOf(out, e string) string {
	cells := strings.Split(lineOf(out, e), "|")
	return strings.TrimSpace(cells[len(cells)-1])
}

// failureOf is e's first block in a Failures section of out, after its
// "  [e] " ("failed: reason"), or "" when it has none.
func failureOf(out, e string) string {
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, "  ["+e+"] "); ok {
			return rest
		}
	}
	return ""
}
