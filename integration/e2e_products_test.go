package integration

// End to end: products add checks the database it registers, products
// import copies the products of a CodeChecker-made config database, and
// products list --status shows where each one stands.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"supervisor/internal/pgtest"
)

// products add reads the database before it registers the product: a
// PostgreSQL server that asks for a password while the product's
// --db-password-env variable is unset (and nothing else gives one) is bad
// usage, exit 2 with the registry byte-identical; --no-check registers it
// all the same; a file of random bytes is a warning, and added.
func TestE2EProductsAddRefusesBadDatabase(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	role := newPGRole(t, c, "products_check")
	c.Exec(t, "postgres", `CREATE DATABASE cc_check OWNER products_check`)
	w := newWorkspace(t)
	w.Close()
	config := filepath.Join(w.Dir, "config.sqlite")
	before := fileStateOf(t, config)
	// Nothing else may give a password: not the test's environment either.
	env := []string{"PGPASSWORD=", "PGPASSFILE=" + filepath.Join(t.TempDir(), "none")}
	add := []string{"products", "add", "pg", "--postgresql", "--db-host", c.Host, "--db-port", strconv.Itoa(c.Port),
		"--db-username", role.User, "--db-name", "cc_check", "--db-password-env", "CHECK_PW"}

	for _, unset := range [][]string{nil, {"CHECK_PW="}} {
		r := supervisor(t, w.Dir, "", append(env, unset...), add...)
		if r.code != 2 || !strings.Contains(r.stderr, "asks for a password") || !strings.Contains(r.stderr, "set CHECK_PW") {
			t.Errorf("products add with CHECK_PW %q: want exit 2 saying the server asks for a password and to set CHECK_PW\n%s", unset, r)
		}
		if got := fileStateOf(t, config); got != before {
			t.Fatalf("products add with CHECK_PW %q: exit %d but the config database changed", unset, r.code)
		}
	}
	if rows := e2eListProducts(t, w.Dir); len(rows) != 0 {
		t.Errorf("products after the refusals: %+v, want none", rows)
	}

	if r := supervisor(t, w.Dir, "", env, append(add, "--no-check")...); r.code != 0 || strings.Contains(r.stderr, "WARN") {
		t.Errorf("products add --no-check: want exit 0 and no warning (nothing read)\n%s", r)
	}
	garbage := w.sqlitePath("garbage")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 600)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := supervisor(t, w.Dir, "", env, "products", "add", "garbage", "--sqlite", garbage)
	if r.code != 0 || !strings.Contains(r.stderr, "[garbage]") || !strings.Contains(r.stderr, "file is not a database") {
		t.Errorf("products add of random bytes: want exit 0 and a warning saying it is no database\n%s", r)
	}
	rows := e2eListProducts(t, w.Dir)
	if got := productEndpoints(rows); !slices.Equal(got, []string{"garbage", "pg"}) {
		t.Errorf("products = %v, want garbage and pg", got)
	}
}

// products import --from copies the products of a config database
// CodeChecker made: relative SQLite paths are the source workspace's, an
// endpoint taken already and a database another product uses are skipped
// and named, the source stays byte-identical, and an imported CodeChecker
// product migrates. products list --status then shows each one's status.
func TestE2EProductsImportCodeCheckerConfig(t *testing.T) {
	t.Parallel()
	cc := filepath.Join(t.TempDir(), "codechecker-workspace")
	if err := os.MkdirAll(cc, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(cc, "config.sqlite")
	copyFixture(t, "config-head.sqlite", src)
	copyFixture(t, "product-head.sqlite", filepath.Join(cc, "web.sqlite"))

	w := newWorkspace(t)
	taken := w.SQLite(t, "taken", "latest", 5)
	w.Close()

	db := openSQLite(t, src)
	// As CodeChecker's products add stores them (SQLAlchemy names every column).
	for _, row := range [][2]string{
		{"web", "sqlite+pysqlite:///web.sqlite"},
		{"gone", "sqlite:///" + filepath.Join(cc, "gone.sqlite")},
		{"taken", "sqlite:////srv/cc/taken.sqlite"},
		{"twin", "sqlite:///" + taken.Path},
	} {
		if _, err := db.Exec(`INSERT INTO products (endpoint, connection, display_name, description, run_limit,
			is_review_status_change_disabled, confidentiality, report_limit) VALUES (?, ?, ?, 'from CodeChecker', NULL, 0, 'CONFIDENTIAL', 500000)`,
			row[0], row[1], "CC "+row[0]); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	srcBefore := fileStateOf(t, src)

	r := supervisor(t, w.Dir, "", nil, "products", "import", "--from", src)
	if r.code != 0 {
		t.Fatalf("products import: want exit 0\n%s", r)
	}
	for _, want := range []string{
		"[taken] not imported: the endpoint is registered already",
		`[twin] not imported`,
		`database of product \"taken\"`,
		"imported=2 skipped=2",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("products import: stderr does not say %q\n%s", want, r)
		}
	}
	if got := fileStateOf(t, src); got != srcBefore {
		t.Error("products import changed the source config database")
	}
	rows := e2eListProducts(t, w.Dir)
	want := []e2eProductRow{
		{Endpoint: "gone", DisplayName: "CC gone", Description: "from CodeChecker", Dialect: "sqlite", Location: filepath.Join(cc, "gone.sqlite")},
		{Endpoint: "taken", DisplayName: "taken", Dialect: "sqlite", Location: taken.Path},
		{Endpoint: "web", DisplayName: "CC web", Description: "from CodeChecker", Dialect: "sqlite", Location: filepath.Join(cc, "web.sqlite")},
	}
	if !slices.Equal(rows, want) {
		t.Errorf("products after import:\n got %+v\nwant %+v", rows, want)
	}

	// Again: nothing new, every product named once.
	r = supervisor(t, w.Dir, "", nil, "products", "import", "--from", "sqlite:"+src)
	if r.code != 0 || !strings.Contains(r.stderr, "imported=0 skipped=4") || strings.Count(r.stderr, "not imported") != 4 {
		t.Errorf("products import again: want exit 0, nothing imported, four products named\n%s", r)
	}
	if got := e2eListProducts(t, w.Dir); !slices.Equal(got, want) {
		t.Errorf("products after the second import: %+v", got)
	}

	r = supervisor(t, w.Dir, "", nil, "products", "list", "--status", "--json")
	var status []struct{ Endpoint, Status string }
	if err := json.Unmarshal([]byte(r.stdout), &status); r.code != 0 || err != nil {
		t.Fatalf("products list --status --json: %v\n%s", err, r)
	}
	wantStatus := []struct{ Endpoint, Status string }{{"gone", "missing"}, {"taken", "ok"}, {"web", "schema_mismatch_ok"}}
	if !slices.Equal(status, wantStatus) {
		t.Errorf("products list --status: %+v, want %+v", status, wantStatus)
	}

	if r := supervisor(t, w.Dir, "", nil, "migrate", "-y", "--product", "web"); r.code != 0 {
		t.Errorf("migrate the imported CodeChecker product\n%s", r)
	}
	if v := lastRevision(t, sqliteTarget(filepath.Join(cc, "web.sqlite"))); v != latestVersion(t, "sqlite") {
		t.Errorf("imported web at %q after migrate, want %s", v, latestVersion(t, "sqlite"))
	}
}

// productEndpoints are the endpoints of rows, in order.
func productEndpoints(rows []e2eProductRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Endpoint)
	}
	return out
}
