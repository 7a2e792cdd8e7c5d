package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
	"supervisor/internal/pass"
	"supervisor/internal/report"
	"supervisor/internal/testutil"
)

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

// Exit 2 means nothing was touched: an invalid input of any command leaves
// the config database (and the product database) byte for byte as it was.
// cleanup used to delete the expired login sessions first and only then
// find that --product named no product.
func TestInvalidInputLeavesConfigDatabaseUntouched(t *testing.T) {
	t.Parallel()
	notDir := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	badConfig := "server_config.json"
	tests := []struct {
		name       string
		args       []string
		setup      func(t *testing.T, ws string)
		wantStderr string
	}{
		{"init with an argument", []string{"init", "extra"}, nil, "unexpected arguments"},
		{"products add taken endpoint", []string{"products", "add", "p", "--sqlite", "q.sqlite"}, nil, "already exists"},
		{"products add database of another product", []string{"products", "add", "q", "--sqlite", "p.sqlite"}, nil, `database of product "p"`},
		{"products add password variable on an old config", []string{"products", "add", "q", "--postgresql", "--db-password-env", "PW"}, nil, "supervisor migrate"},
		{"products remove unknown", []string{"products", "remove", "nosuch"}, nil, "no such product"},
		{"status unknown product", []string{"status", "--product", "nosuch"}, nil, `unknown product "nosuch"`},
		{"migrate unknown product", []string{"migrate", "-y", "--product", "nosuch"}, nil, `unknown product "nosuch"`},
		{"migrate uncreatable backup dir", []string{"migrate", "-y", "--backup-dir", filepath.Join(notDir, "backups")}, nil, "--backup-dir"},
		{"migrate negative timeout", []string{"migrate", "-y", "--timeout", "-1s"}, nil, "--timeout must not be negative"},
		{"cleanup unknown product", []string{"cleanup", "--product", "nosuch"}, nil, `unknown product "nosuch"`},
		{"cleanup bad label dir", []string{"cleanup", "--checker-labels", filepath.Join(notDir, "labels")}, nil, "--checker-labels"},
		{"cleanup negative session lifetime", []string{"cleanup", "--session-lifetime", "-1s"}, nil, "--session-lifetime"},
		{"cleanup bad server_config.json", []string{"cleanup"}, func(t *testing.T, ws string) {
			if err := os.WriteFile(filepath.Join(ws, badConfig), []byte("{not json"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, badConfig},
		{"up unknown product", []string{"up", "-y", "--product", "nosuch"}, nil, `unknown product "nosuch"`},
		{"up uncreatable backup dir", []string{"up", "-y", "--backup-dir", filepath.Join(notDir, "backups")}, nil, "--backup-dir"},
		{"up bad label dir", []string{"up", "-y", "--checker-labels", filepath.Join(notDir, "labels")}, nil, "--checker-labels"},
		{"up bad server_config.json", []string{"up", "-y"}, func(t *testing.T, ws string) {
			if err := os.WriteFile(filepath.Join(ws, badConfig), []byte("{not json"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, badConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ws, product := untouchedWorkspace(t)
			if tt.setup != nil {
				tt.setup(t, ws)
			}
			cfg := filepath.Join(ws, "config.sqlite")
			beforeCfg, beforeProduct := checksum(t, cfg), checksum(t, product)
			// Relative paths in the arguments are the workspace's.
			args := append([]string{"-w", ws}, tt.args...)
			for i, a := range args {
				if strings.HasSuffix(a, ".sqlite") && !filepath.IsAbs(a) {
					args[i] = filepath.Join(ws, a)
				}
			}
			r := run(t, args...)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, ExitUsage, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", r.stderr, tt.wantStderr)
			}
			if strings.Contains(r.stdout, "Do you want") {
				t.Errorf("asked a question before finding the bad input:\n%s", r.stdout)
			}
			if checksum(t, cfg) != beforeCfg {
				t.Error("the config database changed")
			}
			if checksum(t, product) != beforeProduct {
				t.Error("product p's database changed")
			}
		})
	}
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

// A config database that cannot be written (the file, or the directory
// its journal goes in) is bad configuration: exit 2, saying so.
func TestProductsAddReadOnlyConfigIsConfiguration(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, readOnly string }{
		{"read-only file", "config.sqlite"},
		{"read-only directory", "."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ws := workspace(t)
			cfg := filepath.Join(ws, "config.sqlite")
			before := checksum(t, cfg)
			makeReadOnly(t, filepath.Join(ws, tt.readOnly))
			r := run(t, "-w", ws, "products", "add", "p", "--sqlite", filepath.Join(t.TempDir(), "p.sqlite"))
			if r.code != ExitUsage || !strings.Contains(r.stderr, "is read-only") {
				t.Errorf("exit %d, stderr:\n%s\nwant %d and the config database called read-only", r.code, r.stderr, ExitUsage)
			}
			if checksum(t, cfg) != before {
				t.Error("the config database changed")
			}
		})
	}
}

// init on a workspace path that is a file is bad configuration, not a
// product failure; the file stays as it was.
func TestInitOnAFileIsConfiguration(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "ws")
	if err := os.WriteFile(file, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "-w", file, "init")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "is a file, not a directory") {
		t.Errorf("exit %d, stderr:\n%s\nwant %d: the workspace is a file", r.code, r.stderr, ExitUsage)
	}
	if b, _ := os.ReadFile(file); !bytes.Equal(b, []byte("mine")) {
		t.Errorf("the file now holds %q", b)
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

// One unreadable registry row fails that product alone: products list shows
// it with its stored connection and the reason, status and migrate fail it
// (exit 1, not 2) and do the others.
func TestUnreadableRegistryRowFailsThatProductOnly(t *testing.T) {
	t.Parallel()
	ws := filepath.Join(t.TempDir(), "ws")
	mustRun(t, ExitOK, "-w", ws, "init", "--no-default")
	good := filepath.Join(ws, "good.sqlite")
	productAt(t, good, "")
	mustRun(t, ExitOK, "-w", ws, "products", "add", "good", "--sqlite", good)
	insertProduct(t, ws, "broken", "mysql://x:secret@y/z")
	insertProduct(t, ws, "malformed", "postgresql://cc@h:54x2/db")

	list := decodeJSON[[]report.ProductRow](t, mustRun(t, ExitOK, "-w", ws, "products", "list", "--json").stdout)
	byEndpoint := map[string]report.ProductRow{}
	for _, p := range list {
		byEndpoint[p.Endpoint] = p
	}
	if p := byEndpoint["broken"]; p.Connection != "mysql://x:***@y/z" || !strings.Contains(p.Error, `unsupported database type "mysql"`) {
		t.Errorf("products list: broken = %+v, want its connection (password masked) and the reason", p)
	}
	if p := byEndpoint["malformed"]; p.Connection != "postgresql://cc@h:54x2/db" || !strings.Contains(p.Error, `invalid port "54x2"`) {
		t.Errorf("products list: malformed = %+v, want its connection and the reason", p)
	}
	if p := byEndpoint["good"]; p.Error != "" || p.Location != good {
		t.Errorf("products list: good = %+v, want it at %s", p, good)
	}
	table := mustRun(t, ExitOK, "-w", ws, "products", "list").stdout
	if !strings.Contains(table, "mysql://x:***@y/z") || !strings.Contains(table, "UNUSABLE: ") || strings.Contains(table, "secret") {
		t.Errorf("products list:\n%s\nwant broken shown unusable, without its password", table)
	}

	states := failedStatus(t, ws)
	if s := states["good"]; !s.UpToDate {
		t.Errorf("status: good = %+v, want up to date", s)
	}
	for _, e := range []string{"broken", "malformed"} {
		if s := states[e]; s.Status != "failed_to_connect" || !strings.Contains(s.Reason, "invalid database connection") {
			t.Errorf("status: %s = %+v, want failed_to_connect with the reason", e, s)
		}
	}
	r := run(t, "-w", ws, "migrate", "-y")
	if r.code != ExitFailed || !strings.Contains(lineOf(r.stdout, "broken"), "FAILED: Connection failed to the database server. invalid database connection") {
		t.Errorf("migrate: exit %d, stdout:\n%s\nwant 1 and broken failed with its reason", r.code, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "secret") {
		t.Error("migrate shows the stored password")
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

// products add refuses a second product on one database, however the path
// is spelled; a registry that already has such a pair fails the later one,
// naming the other, instead of migrating one database twice at once.
func TestOneDatabaseForTwoProducts(t *testing.T) {
	t.Parallel()
	ws := filepath.Join(t.TempDir(), "ws")
	mustRun(t, ExitOK, "-w", ws, "init", "--no-default")
	real := filepath.Join(ws, "a.sqlite")
	productAt(t, real, "")
	mustRun(t, ExitOK, "-w", ws, "products", "add", "a", "--sqlite", real)
	link, hard := filepath.Join(ws, "link.sqlite"), filepath.Join(ws, "hard.sqlite")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(real, hard); err != nil {
		t.Fatal(err)
	}
	mustRun(t, ExitOK, "-w", ws, "products", "add", "pg", "--postgresql", "--db-host", "localhost", "--db-port", "5433", "--db-name", "x")
	for _, args := range [][]string{
		{"b", "--sqlite", link},
		{"b", "--sqlite", hard},
		{"b", "--postgresql", "--db-host", "127.0.0.1", "--db-port", "5433", "--db-name", "x"},
	} {
		r := run(t, append([]string{"-w", ws, "products", "add"}, args...)...)
		want := `product "a"`
		if args[1] == "--postgresql" {
			want = `product "pg"`
		}
		if r.code != ExitUsage || !strings.Contains(r.stderr, want) {
			t.Errorf("products add %v: exit %d, stderr:\n%s\nwant %d naming %s", args, r.code, r.stderr, ExitUsage, want)
		}
	}

	// A pair CodeChecker let in (it compares the URLs as text).
	insertProduct(t, ws, "b-link", "sqlite:///"+link)
	for _, p := range decodeJSON[[]report.ProductRow](t, mustRun(t, ExitOK, "-w", ws, "products", "list", "--json").stdout) {
		if p.Endpoint == "b-link" && (p.Location != link || !strings.Contains(p.Error, `is also the database of product "a"`)) {
			t.Errorf("products list: b-link = %+v, want its location and the product it shares the database with", p)
		}
	}
	states := failedStatus(t, ws, "--product", "a", "--product", "b-link")
	if s := states["a"]; !s.UpToDate {
		t.Errorf("status: a = %+v, want up to date", s)
	}
	if s := states["b-link"]; s.Status != "failed_to_connect" || !strings.Contains(s.Reason, `is also the database of product "a"`) {
		t.Errorf("status: b-link = %+v, want failed naming product a", s)
	}
	r := run(t, "-w", ws, "migrate", "-y", "--product", "b-link")
	if r.code != ExitFailed || !strings.Contains(lineOf(r.stdout, "b-link"), `FAILED: `) || !strings.Contains(lineOf(r.stdout, "b-link"), `product "a"`) {
		t.Errorf("migrate --product b-link: exit %d, stdout:\n%s\nwant 1, b-link failed naming product a", r.code, r.stdout)
	}
}

// --fail-fast reacts to every kind of failure, not only a worker's: with a
// product the supervisor's own inspection finds broken, the products after
// it in endpoint order are not started (nor asked about), and are reported
// skipped.
func TestFailFastStopsAtAnInspectionFailure(t *testing.T) {
	t.Parallel()
	ws, _ := statusWorkspace(t)
	// In endpoint order: bad (random bytes), codechecker and old (upgradable).
	r := run(t, "-w", ws, "migrate", "-y", "-j", "1", "--fail-fast", "--product", "bad", "--product", "codechecker", "--product", "old")
	if r.code != ExitFailed {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	if line := lineOf(r.stdout, "bad"); !strings.Contains(line, "FAILED: Connection failed to the database server.") {
		t.Errorf("bad: %q, want it failed with its status", line)
	}
	for _, e := range []string{"codechecker", "old"} {
		if line := lineOf(r.stdout, e); !strings.Contains(line, "SKIPPED: not started: an earlier product failed (fail-fast)") {
			t.Errorf("%s: %q, want it skipped (fail-fast)\n%s", e, line, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "Do you want") {
		t.Errorf("asked about a product fail-fast leaves out:\n%s", r.stdout)
	}
	// No worker was started: one would have failed to start in this test.
	if strings.Contains(r.stdout+r.stderr, "no-worker-here") {
		t.Errorf("a worker was started:\n%s\n%s", r.stdout, r.stderr)
	}
	// Without --fail-fast the others are tried (and, here, fail to start).
	r = run(t, "-w", ws, "migrate", "-y", "-j", "1", "--product", "bad", "--product", "old")
	if line := lineOf(r.stdout, "old"); strings.Contains(line, "SKIPPED") || !strings.Contains(line, "FAILED") {
		t.Errorf("without --fail-fast, old: %q, want it tried", line)
	}
}

// In up, a product that failed in the migrate stage stops new starts with
// --fail-fast for the cleanup stage too: one rule over the whole run.
func TestFailFastUpStopsBeforeCleanup(t *testing.T) {
	t.Parallel()
	ws, _ := statusWorkspace(t)
	// Before bad in endpoint order: up to date, so only cleanup has work.
	first := filepath.Join(t.TempDir(), "a-good.sqlite")
	productAt(t, first, "")
	mustRun(t, ExitOK, "-w", ws, "products", "add", "a-good", "--sqlite", first)
	r := run(t, "-w", ws, "up", "-y", "--fail-fast", "--product", "a-good", "--product", "bad")
	if r.code != ExitFailed {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	_, gc, _ := strings.Cut(r.stdout, "Garbage collection summary:")
	if line := lineOf(gc, "a-good"); !strings.Contains(line, "SKIPPED: not started: an earlier product failed (fail-fast)") {
		t.Errorf("cleanup of a-good: %q, want skipped (fail-fast)\n%s", line, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "no-worker-here") {
		t.Errorf("a worker was started:\n%s\n%s", r.stdout, r.stderr)
	}
}

// cleanup --fail-fast stops at a broken product, not at one that only
// awaits an upgrade (cleanup does not attempt it either way).
func TestFailFastCleanupStopsAtBrokenProductOnly(t *testing.T) {
	t.Parallel()
	ws, _ := statusWorkspace(t)
	// Endpoint order: Default (missing: awaits migrate), bad (random bytes), good.
	r := run(t, "-w", ws, "cleanup", "--fail-fast", "-j", "1", "--product", "Default", "--product", "good")
	if line := lineOf(r.stdout, "good"); strings.Contains(line, "SKIPPED") {
		t.Errorf("good: %q, want it tried: Default is not broken", line)
	}
	r = run(t, "-w", ws, "cleanup", "--fail-fast", "-j", "1", "--product", "bad", "--product", "good")
	if r.code != ExitFailed {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	if line := lineOf(r.stdout, "good"); !strings.Contains(line, "SKIPPED: not started: an earlier product failed (fail-fast)") {
		t.Errorf("good: %q, want skipped after bad\n%s", line, r.stdout)
	}
}
