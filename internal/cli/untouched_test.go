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
	"supervisor/internal/job"
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
	db, err := dbconn.Open(context.Background(), job.Target{Dialect: "sqlite", Path: cfg}, dbconn.Options{})
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
