package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"supervisor/internal/report"
)

func TestProducts(t *testing.T) {
	t.Parallel()
	ws := workspace(t)
	dir := t.TempDir()
	mustRun(t, ExitOK, "-w", ws, "products", "add", "zeta", "--sqlite", filepath.Join(dir, "zeta.sqlite"),
		"--display-name", "Zeta Project", "--description", "the last one")
	mustRun(t, ExitOK, "-w", ws, "products", "add", "alpha", "--postgresql", "--db-host", "db.example", "--db-port", "5433",
		"--db-username", "cc", "--db-password-env", "ALPHA_PW")
	// Flags after the endpoint and before it both work.
	mustRun(t, ExitOK, "-w", ws, "products", "add", "--sqlite", filepath.Join(dir, "mid.sqlite"), "mid")

	want := []report.ProductRow{
		{Endpoint: "Default", DisplayName: "Default", Description: "Default product", Dialect: "sqlite", Location: filepath.Join(ws, "Default.sqlite")},
		{Endpoint: "alpha", DisplayName: "alpha", Dialect: "postgres", Location: "cc@db.example:5433/alpha", PasswordEnv: "ALPHA_PW"},
		{Endpoint: "mid", DisplayName: "mid", Dialect: "sqlite", Location: filepath.Join(dir, "mid.sqlite")},
		{Endpoint: "zeta", DisplayName: "Zeta Project", Description: "the last one", Dialect: "sqlite", Location: filepath.Join(dir, "zeta.sqlite")},
	}
	if got := decodeJSON[[]report.ProductRow](t, mustRun(t, ExitOK, "-w", ws, "products", "list", "--json").stdout); !reflect.DeepEqual(got, want) {
		t.Errorf("products list --json =\n%+v\nwant\n%+v", got, want)
	}
	text := mustRun(t, ExitOK, "-w", ws, "products", "list").stdout
	for _, w := range []string{"Endpoint", "Zeta Project", "cc@db.example:5433/alpha", "the last one"} {
		if !strings.Contains(text, w) {
			t.Errorf("products list:\n%s\nwant it to contain %q", text, w)
		}
	}
	if fileExists(t, filepath.Join(dir, "zeta.sqlite")) {
		t.Error("products add created the product's database")
	}

	// Taken endpoint, taken database: bad usage, registry unchanged.
	for _, args := range [][]string{
		{"products", "add", "zeta", "--sqlite", filepath.Join(dir, "other.sqlite")},
		{"products", "add", "zeta2", "--sqlite", filepath.Join(dir, "zeta.sqlite")},
		{"products", "remove", "nope"},
	} {
		if r := run(t, append([]string{"-w", ws}, args...)...); r.code != ExitUsage {
			t.Errorf("%v: exit %d, want 2\nstderr:\n%s", args, r.code, r.stderr)
		}
	}

	// remove never deletes the database.
	productAt(t, filepath.Join(dir, "zeta.sqlite"), "")
	r := mustRun(t, ExitOK, "-w", ws, "products", "remove", "zeta")
	if !strings.Contains(r.stderr, "[zeta]") || !strings.Contains(r.stderr, "not touched") {
		t.Errorf("remove stderr:\n%s\nwant it to say the database was not touched", r.stderr)
	}
	if !fileExists(t, filepath.Join(dir, "zeta.sqlite")) {
		t.Error("products remove deleted the database")
	}
	got := decodeJSON[[]report.ProductRow](t, mustRun(t, ExitOK, "-w", ws, "products", "list", "--json").stdout)
	if !reflect.DeepEqual(got, want[:3]) {
		t.Errorf("products after remove =\n%+v\nwant\n%+v", got, want[:3])
	}
	if r := run(t, "-w", ws, "products", "remove", "zeta"); r.code != ExitUsage {
		t.Errorf("removing zeta twice: exit %d, want 2", r.code)
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
	if r.code != ExitFailed || cellOf(r.stdout, "broken") != "failed" || !strings.HasPrefix(failureOf(r.stdout, "broken"), "failed: Connection failed to the database server. invalid database connection") {
		t.Errorf("migrate: exit %d, stdout:\n%s\nwant 1 and broken failed with its reason", r.code, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "secret") {
		t.Error("migrate shows the stored password")
	}
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
	if r.code != ExitFailed || cellOf(r.stdout, "b-link") != "failed" || !strings.Contains(failureOf(r.stdout, "b-link"), `product "a"`) {
		t.Errorf("migrate --product b-link: exit %d, stdout:\n%s\nwant 1, b-link failed naming product a", r.code, r.stdout)
	}
}

// The flags of issue 9's products commands reach the pass: add checks the
// database unless --no-check, import --from copies another config
// database's products, list --status adds the status field.
func TestProductsCheckImportStatusFlags(t *testing.T) {
	t.Parallel()
	ws := workspace(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.sqlite")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("garbage ", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := mustRun(t, ExitOK, "-w", ws, "products", "add", "g", "--sqlite", garbage); !strings.Contains(r.stderr, "file is not a database") {
		t.Errorf("products add of garbage: stderr\n%s\nwant a warning that it is no database", r.stderr)
	}
	if r := mustRun(t, ExitOK, "-w", ws, "products", "add", "n", "--sqlite", filepath.Join(dir, "n.sqlite"), "--no-check"); strings.Contains(r.stderr, "WARN") {
		t.Errorf("products add --no-check: stderr\n%s\nwant no warning", r.stderr)
	}
	src := filepath.Join(t.TempDir(), "config.sqlite")
	mustRun(t, ExitOK, "--config-db", "sqlite:"+src, "init")
	r := mustRun(t, ExitOK, "-w", ws, "products", "import", "--from", src)
	if !strings.Contains(r.stderr, "[Default] not imported: the endpoint is registered already") {
		t.Errorf("products import: stderr\n%s\nwant Default named as registered already", r.stderr)
	}
	if r := run(t, "-w", ws, "products", "import"); r.code != ExitUsage || !strings.Contains(r.stderr, "--from URL is required") {
		t.Errorf("products import without --from: exit %d, stderr\n%s\nwant 2 saying --from is required", r.code, r.stderr)
	}
	got := map[string]string{}
	for _, p := range decodeJSON[[]report.ProductRow](t, mustRun(t, ExitOK, "-w", ws, "products", "list", "--status", "-j", "2", "--json").stdout) {
		got[p.Endpoint] = string(p.Status)
	}
	if want := map[string]string{"Default": "missing", "g": "failed_to_connect", "n": "missing"}; !reflect.DeepEqual(got, want) {
		t.Errorf("products list --status = %v, want %v", got, want)
	}
}
