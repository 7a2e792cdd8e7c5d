package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"supervisor/internal/report"
	"supervisor/internal/testutil"
)

func TestInit(t *testing.T) {
	t.Parallel()
	ws := filepath.Join(t.TempDir(), "deep", "ws")
	r := mustRun(t, ExitOK, "-w", ws, "init")
	if !fileExists(t, filepath.Join(ws, "config.sqlite")) {
		t.Fatalf("init made no %s", filepath.Join(ws, "config.sqlite"))
	}
	if fileExists(t, filepath.Join(ws, "Default.sqlite")) {
		t.Error("init created Default.sqlite; only migrate may create a product database")
	}
	if !strings.Contains(r.stderr, "[Default] product added") {
		t.Errorf("stderr:\n%s\nwant a line about product Default", r.stderr)
	}
	want := []report.ProductRow{{Endpoint: "Default", DisplayName: "Default", Description: "Default product", Dialect: "sqlite",
		Location: filepath.Join(ws, "Default.sqlite")}}
	if got := decodeJSON[[]report.ProductRow](t, mustRun(t, ExitOK, "-w", ws, "products", "list", "--json").stdout); !reflect.DeepEqual(got, want) {
		t.Errorf("products after init = %+v, want %+v", got, want)
	}

	// Again: nothing changes, Default is not added twice.
	r = mustRun(t, ExitOK, "-w", ws, "init")
	if !strings.Contains(r.stderr, "already initialised") {
		t.Errorf("second init stderr:\n%s\nwant it to say the database is already initialised", r.stderr)
	}
	if got := decodeJSON[[]report.ProductRow](t, mustRun(t, ExitOK, "-w", ws, "products", "list", "--json").stdout); !reflect.DeepEqual(got, want) {
		t.Errorf("products after a second init = %+v, want %+v", got, want)
	}
}

func TestInitNoDefault(t *testing.T) {
	t.Parallel()
	ws := filepath.Join(t.TempDir(), "ws")
	mustRun(t, ExitOK, "-w", ws, "init", "--no-default")
	if got := mustRun(t, ExitOK, "-w", ws, "products", "list", "--json").stdout; strings.TrimSpace(got) != "[]" {
		t.Errorf("products list --json = %q, want []", got)
	}
	// status of no product at all: nothing failed.
	mustRun(t, ExitOK, "-w", ws, "status")
}

// init on a config database CodeChecker made (at its head, which is our
// 001) refuses to touch it: upgrading is migrate's job.
func TestInitOnCodeCheckerConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.sqlite")
	testutil.CopyFile(t, testutil.Fixture("config-head.sqlite"), cfg)
	before, _ := os.ReadFile(cfg)
	r := run(t, "--config-db", "sqlite:"+cfg, "init")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "already exists") || !strings.Contains(r.stderr, "supervisor migrate") {
		t.Errorf("exit %d, stderr:\n%s\nwant 2 and advice to run migrate", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(cfg); string(after) != string(before) {
		t.Error("init changed CodeChecker's config database")
	}
	// Reading it works: status warns that it is outdated. A product can be
	// added in CodeChecker's own schema; one with a password variable needs
	// our table, so the upgrade first.
	r = mustRun(t, ExitOK, "--config-db", "sqlite:"+cfg, "status")
	if !strings.Contains(r.stderr, "config database schema mismatch") {
		t.Errorf("status stderr:\n%s\nwant a warning about the config database", r.stderr)
	}
	mustRun(t, ExitOK, "--config-db", "sqlite:"+cfg, "products", "add", "p", "--sqlite", filepath.Join(dir, "p.sqlite"))
	r = run(t, "--config-db", "sqlite:"+cfg, "products", "add", "pg", "--postgresql", "--db-password-env", "PG_PW")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "older version") {
		t.Errorf("products add --db-password-env on an outdated config: exit %d, stderr:\n%s\nwant 2 and the reason", r.code, r.stderr)
	}
	got := decodeJSON[[]report.ProductRow](t, mustRun(t, ExitOK, "--config-db", "sqlite:"+cfg, "products", "list", "--json").stdout)
	if len(got) != 1 || got[0].Endpoint != "p" {
		t.Errorf("products = %+v, want p only", got)
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
