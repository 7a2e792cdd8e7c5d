package pass

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/dbconn"
	"supervisor/internal/logging"
	"supervisor/internal/migrate"
	"supervisor/internal/pgtest"
	"supervisor/internal/registry"
	"supervisor/internal/status"
	"supervisor/internal/testutil"
	"supervisor/internal/usage"
	"supervisor/schema"
)

// registryOptions are the options of a pass over a new config database
// (no products) in a directory of its own, logging JSON into the buffer;
// env is the whole environment (nil: none set).
func registryOptions(t *testing.T, env map[string]string) (Options, *testutil.SyncBuffer) {
	t.Helper()
	dir := t.TempDir()
	var buf testutil.SyncBuffer
	logs, err := logging.New(&buf, "json", hclog.Info)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Config: sqliteTarget(filepath.Join(dir, "config.sqlite")), BaseDir: dir, Jobs: 2, Logs: logs,
		Getenv: func(k string) string { return env[k] }}
	if err := Init(context.Background(), opts, ""); err != nil {
		t.Fatal(err)
	}
	return opts, &buf
}

// logLine is one JSON log line.
type logLine map[string]any

func (l logLine) str(k string) string { s, _ := l[k].(string); return s }

// logLines are the lines of buf about endpoint ("" = every line).
func logLines(t *testing.T, buf *testutil.SyncBuffer, endpoint string) []logLine {
	t.Helper()
	var out []logLine
	for _, s := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if s == "" {
			continue
		}
		var l logLine
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("log line %q: %v", s, err)
		}
		if endpoint == "" || l.str("endpoint") == endpoint {
			out = append(out, l)
		}
	}
	return out
}

// registered are the endpoints of opts' registry, in order.
func registered(t *testing.T, opts Options) []string {
	t.Helper()
	ps, _, err := ListProducts(context.Background(), opts, false)
	if err != nil {
		t.Fatal(err)
	}
	return endpoints(ps)
}

// sqliteProductAt makes a SQLite product database at path, at the latest
// packaged version.
func sqliteProductAt(t *testing.T, path string) {
	t.Helper()
	db, err := dbconn.Open(context.Background(), sqliteTarget(path), dbconn.Options{Create: true, ImmediateTx: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := migrate.Upgrade(context.Background(), db, dbconn.SQLite, schema.Product, migrate.Options{}); err != nil {
		t.Fatal(err)
	}
}

// products add reads the database before it stores the product: what
// migrate creates or the operator must look at is a warning naming the
// status, and the product is added all the same; an up-to-date database
// is no warning.
func TestAddProductCheckWarnsAndAdds(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.sqlite")
	if err := os.WriteFile(garbage, []byte(rand.Text()+rand.Text()+rand.Text()), 0o644); err != nil {
		t.Fatal(err)
	}
	unknown := testutil.CopyFixture(t, "product-head.sqlite")
	db, err := dbconn.Open(context.Background(), sqliteTarget(unknown), dbconn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE alembic_version SET version_num = 'deadbeef0123'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	current := filepath.Join(dir, "current.sqlite")
	sqliteProductAt(t, current)

	tests := []struct {
		name, path string
		want       status.Status
		warn       string // "" = no warning
	}{
		{"missing file", filepath.Join(dir, "missing.sqlite"), status.Missing, "Database is missing."},
		{"random bytes", garbage, status.FailedToConnect, "Connection failed to the database server."},
		{"unknown revision", unknown, status.SchemaMismatchNo, "Database schema mismatch! NOT possible to upgrade."},
		{"up to date", current, status.OK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, buf := registryOptions(t, nil)
			if err := AddProduct(context.Background(), opts, "p", ProductSpec{SQLite: tt.path}); err != nil {
				t.Fatalf("AddProduct = %v, want it added", err)
			}
			if got := registered(t, opts); !slices.Equal(got, []string{"p"}) {
				t.Errorf("registry = %v, want [p]", got)
			}
			var warnings []string
			var added logLine
			for _, l := range logLines(t, buf, "p") {
				if l.str("@level") == "warn" {
					warnings = append(warnings, l.str("@message"))
					if l.str("status") != string(tt.want) || l.str("advice") != tt.want.Advice() {
						t.Errorf("warning %v, want status %s and its advice", l, tt.want)
					}
				}
				if l.str("@message") == "product added" {
					added = l
				}
			}
			switch {
			case tt.warn == "" && len(warnings) != 0:
				t.Errorf("warnings %q, want none", warnings)
			case tt.warn != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], tt.warn)):
				t.Errorf("warnings %q, want one saying %q", warnings, tt.warn)
			}
			if added.str("status") != string(tt.want) {
				t.Errorf("product added line %v, want status %s", added, tt.want)
			}
			if tt.want == status.Missing {
				if _, err := os.Stat(tt.path); !os.IsNotExist(err) {
					t.Errorf("the check made the missing database (stat: %v)", err)
				}
			}
		})
	}
}

// The check refuses, before anything is stored, a PostgreSQL product whose
// password variable is unset or empty when the server asks for a password
// and no other source gives one it takes. An unset variable the next
// source stands in for, or a set one, is no refusal; --no-check skips the
// check altogether.
func TestAddProductRefusesUnsetPasswordVariable(t *testing.T) {
	c := pgtest.Start(t)
	c.CreateDatabase(t, "cc_p")
	spec := ProductSpec{Postgres: true, Host: c.Host, Port: c.Port, User: c.User, Database: "cc_p", PasswordEnv: "P_PW"}
	noCheck := spec
	noCheck.NoCheck = true
	tests := []struct {
		name    string
		env     map[string]string
		spec    ProductSpec
		refused string // "" = added
		status  status.Status
	}{
		{"unset, no other source", nil, spec, "is not set or empty, and neither the connection URL, PGPASSWORD nor a password file gave a password", ""},
		{"empty, no other source", map[string]string{"P_PW": ""}, spec, "is not set or empty", ""},
		{"unset, PGPASSWORD refused", map[string]string{"PGPASSWORD": "not-" + c.Password}, spec, "the server refused the password from PGPASSWORD", ""},
		{"unset, PGPASSWORD taken", map[string]string{"PGPASSWORD": c.Password}, spec, "", status.SchemaMissing},
		{"set", map[string]string{"P_PW": c.Password}, spec, "", status.SchemaMissing},
		// A wrong password in the variable is the server's refusal of the
		// product's own password, not a missing variable: a warning.
		{"set but wrong", map[string]string{"P_PW": "not-" + c.Password}, spec, "", status.FailedToConnect},
		{"unset, --no-check", nil, noCheck, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, buf := registryOptions(t, tt.env)
			err := AddProduct(context.Background(), opts, "p", tt.spec)
			if tt.refused != "" {
				if !usage.Is(err) || !strings.Contains(err.Error(), tt.refused) || !strings.Contains(err.Error(), "set P_PW") {
					t.Errorf("AddProduct = %v, want a usage error saying %q and to set P_PW", err, tt.refused)
				}
				if got := registered(t, opts); len(got) != 0 {
					t.Errorf("registry = %v after the refusal, want it empty", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("AddProduct = %v, want it added", err)
			}
			if got := registered(t, opts); !slices.Equal(got, []string{"p"}) {
				t.Errorf("registry = %v, want [p]", got)
			}
			for _, l := range logLines(t, buf, "p") {
				if l.str("@message") == "product added" && l.str("status") != string(tt.status) {
					t.Errorf("product added line %v, want status %q", l, tt.status)
				}
			}
			if strings.Contains(buf.String(), c.Password) {
				t.Error("the log holds the password")
			}
		})
	}
}

// What the registry refuses is said before the product's database is
// read: a taken endpoint costs no connection and no warning about it.
func TestAddProductRegistryRefusalBeforeCheck(t *testing.T) {
	opts, buf := registryOptions(t, nil)
	dir := t.TempDir()
	if err := AddProduct(context.Background(), opts, "p", ProductSpec{SQLite: filepath.Join(dir, "a.sqlite"), NoCheck: true}); err != nil {
		t.Fatal(err)
	}
	err := AddProduct(context.Background(), opts, "p", ProductSpec{SQLite: filepath.Join(dir, "b.sqlite")})
	if !usage.Is(err) || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("AddProduct of a taken endpoint = %v, want a usage error", err)
	}
	if strings.Contains(buf.String(), "Database is missing") {
		t.Errorf("the database of a refused product was checked:\n%s", buf)
	}
}

// A password variable that is not a variable name is the operator's input
// refused, exit 2; it used to be a failed write, exit 1.
func TestAddProductInvalidPasswordVariableIsUsage(t *testing.T) {
	opts, _ := registryOptions(t, nil)
	err := AddProduct(context.Background(), opts, "q", ProductSpec{Postgres: true, Host: "h", PasswordEnv: "1PW"})
	if !usage.Is(err) || !strings.Contains(err.Error(), "invalid password variable") {
		t.Errorf("AddProduct with password variable 1PW = %v, want a usage error", err)
	}
}

// Between two supervisor config databases the password variable is
// copied with the product (never a password).
func TestImportProductsKeepsPasswordVariable(t *testing.T) {
	ctx := context.Background()
	src, _ := registryOptions(t, nil)
	if err := AddProduct(ctx, src, "pg", ProductSpec{Postgres: true, Host: "h", Port: 5433, User: "u", Database: "d", PasswordEnv: "PG_PW", NoCheck: true}); err != nil {
		t.Fatal(err)
	}
	dst, _ := registryOptions(t, nil)
	if err := ImportProducts(ctx, dst, src.Config.Path); err != nil {
		t.Fatal(err)
	}
	ps, _, err := ListProducts(ctx, dst, false)
	if err != nil {
		t.Fatal(err)
	}
	want := dbconn.Target{Dialect: dbconn.Postgres, Host: "h", Port: 5433, User: "u", Database: "d"}
	if len(ps) != 1 || ps[0].PasswordEnv != "PG_PW" || ps[0].Target != want {
		t.Errorf("imported %+v, want pg at %+v with password variable PG_PW", ps, want)
	}
}

// codeCheckerConfig is a copy of the config database CodeChecker made
// (testdata), in a directory of its own, with rows as CodeChecker's
// products add stores them (SQLAlchemy names every column).
func codeCheckerConfig(t *testing.T, rows [][2]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.sqlite")
	testutil.CopyFile(t, testutil.Fixture("config-head.sqlite"), path)
	db, err := dbconn.Open(context.Background(), sqliteTarget(path), dbconn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, r := range rows {
		if _, err := db.Exec(`INSERT INTO products (endpoint, connection, display_name, description, run_limit,
			is_review_status_change_disabled, confidentiality, report_limit) VALUES (?, ?, ?, 'from CodeChecker', NULL, 0, 'CONFIDENTIAL', 500000)`,
			r[0], r[1], "CC "+r[0]); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// products import copies the products of a CodeChecker-made config
// database: relative SQLite paths resolved against the source's directory,
// names and descriptions kept, a URL's password never copied; an endpoint
// registered already, a database another product uses and a row that
// cannot be read are skipped, one line each naming the product.
func TestImportProducts(t *testing.T) {
	opts, buf := registryOptions(t, nil)
	ctx := context.Background()
	mine := filepath.Join(t.TempDir(), "mine.sqlite")
	if err := AddProduct(ctx, opts, "taken", ProductSpec{SQLite: mine, NoCheck: true}); err != nil {
		t.Fatal(err)
	}
	src := codeCheckerConfig(t, [][2]string{
		{"Default", "sqlite+pysqlite:///Default.sqlite"},
		{"abs", "sqlite:////srv/cc/abs.sqlite"},
		{"pg", "postgresql+psycopg2://cc:secret@db.example:5433/cc_pg?client_encoding=utf8"},
		{"taken", "sqlite:////srv/cc/other.sqlite"},
		{"twin", "sqlite:///" + mine},
		{"broken", "mysql://x@y/z"},
	})
	before, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := ImportProducts(ctx, opts, src); err != nil {
		t.Fatalf("ImportProducts = %v", err)
	}
	ps, _, err := ListProducts(ctx, opts, false)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]registry.Product{}
	for _, p := range ps {
		got[p.Endpoint] = p
	}
	if e := endpoints(ps); !slices.Equal(e, []string{"Default", "abs", "pg", "taken"}) {
		t.Fatalf("registry after import = %v, want Default, abs, pg and taken", e)
	}
	want := map[string]dbconn.Target{
		"Default": sqliteTarget(filepath.Join(filepath.Dir(src), "Default.sqlite")),
		"abs":     sqliteTarget("/srv/cc/abs.sqlite"),
		"pg":      {Dialect: dbconn.Postgres, Host: "db.example", Port: 5433, User: "cc", Database: "cc_pg"},
		"taken":   sqliteTarget(mine),
	}
	for e, tg := range want {
		if got[e].Target != tg {
			t.Errorf("%s at %+v, want %+v", e, got[e].Target, tg)
		}
	}
	if p := got["abs"]; p.DisplayName != "CC abs" || p.Description != "from CodeChecker" {
		t.Errorf("abs = %+v, want CodeChecker's display name and description", p)
	}
	for e, say := range map[string]string{
		"taken":  "not imported: the endpoint is registered already",
		"twin":   `is the database of product "taken"`,
		"broken": `unsupported database type "mysql"`,
		"pg":     "holds a password, which was not copied",
	} {
		lines := logLines(t, buf, e)
		n := 0
		for _, l := range lines {
			if strings.Contains(l.str("@message")+" "+l.str("reason"), say) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: lines %v, want one saying %q", e, lines, say)
		}
	}
	if strings.Contains(buf.String(), "secret") {
		t.Error("the log holds the source's password")
	}
	var total logLine
	for _, l := range logLines(t, buf, "") {
		if l.str("@message") == "products imported" {
			total = l
		}
	}
	if total["imported"] != 3.0 || total["skipped"] != 3.0 {
		t.Errorf("closing line %v, want 3 imported and 3 skipped", total)
	}
	if after, err := os.ReadFile(src); err != nil || string(after) != string(before) {
		t.Errorf("the source config database changed (%v)", err)
	}

	// Again: everything is there already, nothing is added.
	buf2 := &testutil.SyncBuffer{}
	opts.Logs, _ = logging.New(buf2, "json", hclog.Info)
	if err := ImportProducts(ctx, opts, "sqlite:"+src); err != nil {
		t.Fatal(err)
	}
	if e := registered(t, opts); !slices.Equal(e, []string{"Default", "abs", "pg", "taken"}) {
		t.Errorf("registry after a second import = %v", e)
	}
	for _, e := range []string{"Default", "abs", "pg"} {
		if lines := logLines(t, buf2, e); len(lines) != 1 || lines[0].str("@message") != "not imported: the endpoint is registered already" {
			t.Errorf("%s on the second import: %v, want one line saying it is registered already", e, lines)
		}
	}
}

// What stops an import as a whole is bad usage and writes nothing: no
// --from, a source that does not exist or is no config database, and a
// destination too old to store the source's password variables.
func TestImportProductsRefusedWritesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	notConfig := filepath.Join(dir, "product.sqlite")
	sqliteProductAt(t, notConfig)

	// A supervisor config database with a password variable, imported into
	// CodeChecker's own (our version 1, no credentials table).
	withEnv, _ := registryOptions(t, nil)
	if err := AddProduct(ctx, withEnv, "pg", ProductSpec{Postgres: true, Host: "h", Database: "d", PasswordEnv: "PG_PW", NoCheck: true}); err != nil {
		t.Fatal(err)
	}
	if err := AddProduct(ctx, withEnv, "a", ProductSpec{SQLite: filepath.Join(dir, "a.sqlite"), NoCheck: true}); err != nil {
		t.Fatal(err)
	}
	cc := codeCheckerConfig(t, nil)
	ccOpts := Options{Config: sqliteTarget(cc), BaseDir: filepath.Dir(cc)}

	for _, tt := range []struct {
		name, from string
		into       Options
		want       string
	}{
		{"no --from", "", withEnv, "--from URL is required"},
		{"missing source", filepath.Join(dir, "nope.sqlite"), withEnv, "no config database at"},
		{"not a config database", notConfig, withEnv, "no such table: products"},
		{"password in the URL", "postgres://u:pw@h/db", withEnv, "--from: the URL holds a password"},
		{"destination too old", withEnv.Config.Path, ccOpts, "supervisor migrate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := registered(t, tt.into)
			err := ImportProducts(ctx, tt.into, tt.from)
			if !usage.Is(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ImportProducts(%q) = %v, want a usage error saying %q", tt.from, err, tt.want)
			}
			if got := registered(t, tt.into); !slices.Equal(got, before) {
				t.Errorf("registry %v after the refusal, want %v", got, before)
			}
		})
	}
}

// products list --status reads every product's database, as status does,
// and the states come in the products' order.
func TestListProductsWithStatus(t *testing.T) {
	opts, _ := registryOptions(t, nil)
	ctx := context.Background()
	dir := t.TempDir()
	current := filepath.Join(dir, "current.sqlite")
	sqliteProductAt(t, current)
	for e, path := range map[string]string{"b-missing": filepath.Join(dir, "missing.sqlite"), "a-current": current} {
		if err := AddProduct(ctx, opts, e, ProductSpec{SQLite: path, NoCheck: true}); err != nil {
			t.Fatal(err)
		}
	}
	ps, states, err := ListProducts(ctx, opts, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != len(ps) || len(ps) != 2 {
		t.Fatalf("ListProducts = %d products, %d states, want 2 of each", len(ps), len(states))
	}
	for i, want := range []status.Status{status.OK, status.Missing} {
		if states[i].Endpoint != ps[i].Endpoint || states[i].Status != want {
			t.Errorf("state %d = %s %s, want %s %s", i, states[i].Endpoint, states[i].Status, ps[i].Endpoint, want)
		}
	}
	if _, states, err := ListProducts(ctx, opts, false); err != nil || states != nil {
		t.Errorf("ListProducts without status = %v states, %v; want none", states, err)
	}
}
