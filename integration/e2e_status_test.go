package integration

// End-to-end tests of `status` and of the workspace commands (init, products
// add/list/remove).
//
// Output contract these tests hold the binary to (DESIGN.md, "Command line"):
//   - stdout carries what the operator asked for: status tables, prompts,
//     the migrate summary, --json documents, --dry-run/--sql listings;
//   - stderr carries the log stream (text or JSON lines), and usage errors;
//   - exit 0 all selected products up to date, 1 some product not, 2 bad
//     usage or configuration (nothing touched).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"supervisor/integration/fleet"
	"supervisor/integration/workspace"
	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
	"supervisor/internal/status"
)

// ---------------------------------------------------------------------------
// status

// TestE2EStatus runs `status` (text and --json) over a fleet of one product
// per database state, then narrows it with --product and feeds it bad usage.
func TestE2EStatus(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	w := newWorkspace(t)
	pkg := latestVersion(t, "sqlite")

	// One product per state, in endpoint order. reason is a word the reason
	// must hold; logged says its failure is logged, naming it.
	products := []struct {
		endpoint  string
		make      func(t *testing.T) dbconn.Target
		status    status.Status
		dbVersion string
		reason    string
		location  string // "" = not checked
		logged    bool
	}{
		{endpoint: "a-current", make: func(t *testing.T) dbconn.Target { return w.SQLite(t, "a-current", "latest", 50) },
			status: status.OK, dbVersion: pkg},
		{endpoint: "b-codechecker", make: func(t *testing.T) dbconn.Target { return w.Fixture(t, "b-codechecker", "product-head.sqlite") },
			status: status.SchemaMismatchOK, dbVersion: "b1be74589382 (CodeChecker)"},
		{endpoint: "c-old", make: func(t *testing.T) dbconn.Target { return w.SQLite(t, "c-old", "001", 50) },
			status: status.SchemaMismatchOK, dbVersion: "001"},
		{endpoint: "d-gone", make: func(t *testing.T) dbconn.Target { return w.Missing(t, "d-gone") },
			status: status.Missing},
		{endpoint: "e-noise", make: func(t *testing.T) dbconn.Target { return w.Garbage(t, "e-noise") },
			status: status.FailedToConnect, reason: "not a database", logged: true},
		{endpoint: "f-pg", make: func(t *testing.T) dbconn.Target {
			return w.Postgres(t, c, "f-pg", "f_pg", "latest", 50, newPGRole(t, c, "acme"), "")
		}, status: status.OK, dbVersion: latestVersion(t, "postgres"), location: fmt.Sprintf("acme@127.0.0.1:%d/f_pg", c.Port)},
		{endpoint: "g-pg-down", make: func(t *testing.T) dbconn.Target { return w.Unreachable(t, "g-pg-down", "E2E_DOWN_PASSWORD") },
			status: status.FailedToConnect, logged: true},
		// Beyond the list: CodeChecker's schema one revision before
		// its head (only CodeChecker can upgrade that; the reason names the
		// revision to upgrade to), and a database with no tables.
		{endpoint: "h-cc-older", make: func(t *testing.T) dbconn.Target {
			tg := w.Fixture(t, "h-cc-older", "product-head.sqlite")
			db := openDB(t, tg)
			if _, err := db.Exec("UPDATE alembic_version SET version_num = 'a7f3c8e21b90'"); err != nil {
				t.Fatal(err)
			}
			db.Close()
			return tg
		}, status: status.SchemaMismatchNo, dbVersion: "a7f3c8e21b90 (CodeChecker)", reason: "b1be74589382"},
		{endpoint: "i-empty", make: func(t *testing.T) dbconn.Target { return w.SQLite(t, "i-empty", "", 0) },
			status: status.SchemaMissing},
	}
	var endpoints []string
	targets := map[string]dbconn.Target{}
	for _, p := range products {
		endpoints = append(endpoints, p.endpoint)
		targets[p.endpoint] = p.make(t)
	}
	w.Close()
	passfile := writePassfile(t, targets["f-pg"])
	env := []string{"PGPASSFILE=" + passfile, "PGPASSWORD=", "E2E_DOWN_PASSWORD=whatever"}

	before := map[string]fileState{}
	for _, e := range endpoints {
		before[e] = fileStateOf(t, w.sqlitePath(e))
	}
	text := supervisor(t, w.Dir, "", env, "status", "-j", "3")
	if text.code != 1 {
		t.Fatalf("status: want exit 1 (some products not up to date)\n%s", text)
	}
	table, order := statusTable(t, text)
	if !slices.Equal(order, endpoints) {
		t.Errorf("rows %q, want %q (endpoint order)", order, endpoints)
	}
	js := supervisor(t, w.Dir, "", env, "status", "--json")
	if js.code != 1 {
		t.Fatalf("status --json: want exit 1\n%s", js)
	}
	rows := statusJSON(t, js)
	if len(rows) != len(endpoints) {
		t.Fatalf("status --json has %d rows, want %d\n%s", len(rows), len(endpoints), js)
	}
	for i, p := range products {
		t.Run(p.endpoint, func(t *testing.T) {
			e := p.endpoint
			// Failures are logged, naming their product.
			if p.logged && !strings.Contains(text.stderr, "["+e+"]") {
				t.Errorf("stderr does not name %s\n%s", e, text)
			}
			// Looking touches nothing and never creates a database.
			if got := fileStateOf(t, w.sqlitePath(e)); got != before[e] {
				t.Errorf("%s: status changed the file: %+v -> %+v", e, before[e], got)
			}
			if gone := targets[e]; p.status == status.Missing {
				if _, err := os.Stat(gone.Path); !os.IsNotExist(err) {
					t.Errorf("status created the missing database %s (%v)", gone.Path, err)
				}
			}
			row := rows[i]
			if row.Endpoint != e {
				t.Fatalf("json row %d is %q, want %q", i, row.Endpoint, e)
			}
			if row.Status != string(p.status) || row.Message != p.status.Message() || row.DBVersion != p.dbVersion {
				t.Errorf("%s: json status %q %q at %q, want %q %q at %q", e, row.Status, row.Message, row.DBVersion, p.status, p.status.Message(), p.dbVersion)
			}
			if row.UpToDate != (p.status == status.OK) {
				t.Errorf("%s: up_to_date %v", e, row.UpToDate)
			}
			if row.PackageVersion == "" {
				t.Errorf("%s: no package version", e)
			}
			if needs := p.status == status.FailedToConnect || p.status == status.SchemaMismatchNo; needs && row.Reason == "" {
				t.Errorf("%s: no reason given for %s", e, row.Status)
			}
			if !strings.Contains(row.Reason, p.reason) {
				t.Errorf("%s: reason %q, want it to hold %q", e, row.Reason, p.reason)
			}
			if p.location != "" && row.Location != p.location {
				t.Errorf("%s: location %q, want %q", e, row.Location, p.location)
			}
			// The table says the same as the JSON.
			cells, ok := table[e]
			if !ok {
				t.Fatalf("%s: not in the table", e)
			}
			dbv := row.DBVersion
			if dbv == "" {
				dbv = "-"
			}
			if row.UpToDate {
				dbv += " (up to date)"
			}
			wantCells := []string{e, row.Message, row.Location, dbv, row.PackageVersion}
			if !slices.Equal(cells, wantCells) {
				t.Errorf("%s: table row %q, json says %q", e, cells, wantCells)
			}
		})
	}

	// --product limits, in endpoint order, and decides the exit code alone.
	// An unknown product is bad usage: exit 2, nothing printed on stdout,
	// never a wider check. Bad usage exits 2 with nothing on stdout.
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		rows   []string // the status table's endpoints, in order; nil = no table expected
		json   []statusRow
		stderr string // what stderr must say
	}{
		{name: "two up-to-date products in endpoint order", args: []string{"status", "--product", "f-pg", "--product", "a-current"},
			code: 0, rows: []string{"a-current", "f-pg"}},
		{name: "one old product as json", args: []string{"status", "--product", "c-old", "--json"},
			code: 1, json: []statusRow{{Endpoint: "c-old", Status: string(status.SchemaMismatchOK)}}},
		{name: "unknown product", args: []string{"status", "--product", "nope"},
			code: 2, stderr: `unknown product "nope"`},
		{name: "unknown product beside a known one", args: []string{"status", "--product", "a-current", "--product", "nope"},
			code: 2, stderr: `unknown product "nope"`},
		{name: "unknown product as json", args: []string{"status", "--product", "nope", "--json"},
			code: 2, stderr: `unknown product "nope"`},
		{name: "zero jobs", args: []string{"status", "-j", "0"}, code: 2},
		{name: "unknown flag", args: []string{"status", "--no-such-flag"}, code: 2},
		{name: "extra argument", args: []string{"status", "extra-arg"}, code: 2},
		{name: "unknown log format", args: []string{"--log-format", "xml", "status"}, code: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := supervisor(t, w.Dir, "", env, tc.args...)
			if r.code != tc.code {
				t.Errorf("%q: exit %d, want %d\n%s", tc.args, r.code, tc.code, r)
			}
			if tc.code == 2 && r.stdout != "" {
				t.Errorf("%q: stdout %q, want nothing on stdout on bad usage\n%s", tc.args, r.stdout, r)
			}
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("%q: stderr lacks %q\n%s", tc.args, tc.stderr, r)
			}
			if tc.rows != nil {
				if _, order := statusTable(t, r); !slices.Equal(order, tc.rows) {
					t.Errorf("%q: rows %q, want %q", tc.args, order, tc.rows)
				}
			}
			if tc.json != nil {
				rows := statusJSON(t, r)
				var got []statusRow
				for _, row := range rows {
					got = append(got, statusRow{Endpoint: row.Endpoint, Status: row.Status})
				}
				if !slices.Equal(got, tc.json) {
					t.Errorf("%q: json rows %+v, want %+v", tc.args, rows, tc.json)
				}
			}
		})
	}
}

// A workspace that was never initialised is a usage error that says what to do.
func TestE2EStatusNoWorkspace(t *testing.T) {
	t.Parallel()
	ws := filepath.Join(t.TempDir(), "nothing-here")
	for _, args := range [][]string{{"status"}, {"migrate", "-y"}, {"products", "list"}} {
		r := supervisor(t, ws, "", nil, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "supervisor init") {
			t.Errorf("%q in an empty directory: want exit 2 and a hint to run init\n%s", args, r)
		}
	}
	if _, err := os.Stat(ws); !os.IsNotExist(err) {
		t.Errorf("a command other than init created the workspace (%v)", err)
	}
}

// e2eProductRow is one element of `products list --json`.
type e2eProductRow struct {
	Endpoint    string `json:"endpoint"`
	DisplayName string `json:"display_name"`
	Description string `json:"description"`
	Dialect     string `json:"dialect"`
	Location    string `json:"location"`
	PasswordEnv string `json:"password_env"`
}

func e2eListProducts(t *testing.T, ws string) []e2eProductRow {
	t.Helper()
	r := supervisor(t, ws, "", nil, "products", "list", "--json")
	if r.code != 0 {
		t.Fatalf("products list --json\n%s", r)
	}
	var rows []e2eProductRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("products list --json: %v\n%s", err, r)
	}
	return rows
}

// init, products add, list and remove, in the order an operator uses them:
// what each writes to the registry, and the bad adds that are refused with
// exit 2 and nothing added.
func TestE2EWorkspaceCommands(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	ws := filepath.Join(root, "ws")

	// init: config database plus the product "Default", whose file is not
	// created until migrate initialises it.
	r := supervisor(t, ws, "", nil, "init")
	if r.code != 0 {
		t.Fatalf("init\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(ws, "config.sqlite")); err != nil {
		t.Fatalf("init made no config.sqlite: %v", err)
	}
	rows := e2eListProducts(t, ws)
	defaultPath, _ := filepath.Abs(filepath.Join(ws, "Default.sqlite"))
	if len(rows) != 1 || rows[0].Endpoint != "Default" || rows[0].Dialect != "sqlite" || rows[0].Location != defaultPath {
		t.Fatalf("after init: products %+v, want Default at %s", rows, defaultPath)
	}
	if r := supervisor(t, ws, "", nil, "init"); r.code != 0 {
		t.Errorf("init twice: want exit 0 (nothing to do)\n%s", r)
	}
	if rows := e2eListProducts(t, ws); len(rows) != 1 {
		t.Errorf("init twice: products %+v", rows)
	}
	r = supervisor(t, ws, "", nil, "status", "--json")
	if st := statusJSON(t, r); r.code != 1 || len(st) != 1 || st[0].Status != string(status.Missing) {
		t.Errorf("status after init: want Default missing, exit 1\n%s", r)
	}
	ws2 := filepath.Join(root, "ws2")
	if r := supervisor(t, ws2, "", nil, "init", "--no-default"); r.code != 0 {
		t.Fatalf("init --no-default\n%s", r)
	}
	if rows := e2eListProducts(t, ws2); len(rows) != 0 {
		t.Errorf("init --no-default: products %+v", rows)
	}
	if r := supervisor(t, ws2, "", nil, "status"); r.code != 0 {
		t.Errorf("status with no products: want exit 0\n%s", r)
	}

	// products add.
	dbPath := filepath.Join(root, "alpha.sqlite")
	if _, err := workspace.MakeProduct(context.Background(), sqliteTarget(dbPath), "latest", fleet.Options{Reports: 20, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	r = supervisor(t, ws, "", nil, "products", "add", "alpha", "--sqlite", dbPath, "--display-name", "Alpha", "--description", "the first")
	if r.code != 0 {
		t.Fatalf("products add alpha\n%s", r)
	}
	if !strings.Contains(r.stderr, "[alpha]") {
		t.Errorf("products add: the log line does not name the product\n%s", r)
	}
	r = supervisor(t, ws, "", nil, "products", "add", "beta", "--postgresql", "--db-host", "db.example", "--db-port", "5433",
		"--db-username", "cc", "--db-name", "beta_db", "--db-password-env", "BETA_PW")
	if r.code != 0 {
		t.Fatalf("products add beta\n%s", r)
	}
	rows = e2eListProducts(t, ws)
	wantRows := []e2eProductRow{
		{Endpoint: "Default", DisplayName: "Default", Description: "Default product", Dialect: "sqlite", Location: defaultPath},
		{Endpoint: "alpha", DisplayName: "Alpha", Description: "the first", Dialect: "sqlite", Location: dbPath},
		{Endpoint: "beta", DisplayName: "beta", Dialect: "postgres", Location: "cc@db.example:5433/beta_db", PasswordEnv: "BETA_PW"},
	}
	if !slices.Equal(rows, wantRows) {
		t.Errorf("products list --json:\n got %+v\nwant %+v", rows, wantRows)
	}
	r = supervisor(t, ws, "", nil, "products", "list")
	if tables := tablesOf(r.stdout); r.code != 0 || len(tables) != 1 || len(tables[0]) != 4 ||
		!strings.Contains(r.stdout, "alpha") || !strings.Contains(r.stdout, "cc@db.example:5433/beta_db") {
		t.Errorf("products list: want a table of the three products\n%s", r)
	}

	// Bad adds: exit 2, a message that says what is wrong, nothing added.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"products", "add", "bad/name", "--sqlite", filepath.Join(root, "x.sqlite")}, "not allowed"},
		{[]string{"products", "add", "with space", "--sqlite", filepath.Join(root, "x.sqlite")}, "not allowed"},
		{[]string{"products", "add", "", "--sqlite", filepath.Join(root, "x.sqlite")}, "empty"},
		{[]string{"products", "add", "Products", "--sqlite", filepath.Join(root, "x.sqlite")}, "reserves"},
		{[]string{"products", "add", strings.Repeat("x", 101), "--sqlite", filepath.Join(root, "x.sqlite")}, "at most 100"},
		{[]string{"products", "add", "alpha", "--sqlite", filepath.Join(root, "other.sqlite")}, "alpha"},
		{[]string{"products", "add", "gamma", "--sqlite", dbPath}, ""},
		{[]string{"products", "add", "gamma"}, "--sqlite"},
		{[]string{"products", "add", "gamma", "--sqlite", "x.sqlite", "--postgresql"}, "not both"},
		{[]string{"products", "add", "gamma", "--sqlite", "x.sqlite", "--db-password-env", "X"}, "--postgresql"},
		{[]string{"products", "add"}, "ENDPOINT"},
		{[]string{"products", "add", "gamma", "delta", "--sqlite", "x.sqlite"}, "ENDPOINT"},
		{[]string{"products", "frobnicate"}, "frobnicate"},
	} {
		r := supervisor(t, ws, "", nil, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || !strings.HasPrefix(r.stderr, "supervisor: ") {
			t.Errorf("%q: want exit 2 and a 'supervisor: ...%s...' message\n%s", tc.args, tc.want, r)
		}
	}
	if rows := e2eListProducts(t, ws); len(rows) != 3 {
		t.Errorf("after the refused adds: products %+v", rows)
	}

	// products remove: the registry entry goes, the database stays.
	before := fileStateOf(t, dbPath)
	r = supervisor(t, ws, "", nil, "products", "remove", "alpha")
	if r.code != 0 || !strings.Contains(r.stderr, "[alpha]") {
		t.Fatalf("products remove alpha\n%s", r)
	}
	if got := fileStateOf(t, dbPath); got != before || got.sum == "" {
		t.Errorf("products remove touched the database file: %+v -> %+v", before, got)
	}
	if rows := e2eListProducts(t, ws); len(rows) != 2 || slices.ContainsFunc(rows, func(p e2eProductRow) bool { return p.Endpoint == "alpha" }) {
		t.Errorf("after remove: products %+v", rows)
	}
	if r := supervisor(t, ws, "", nil, "products", "remove", "alpha"); r.code != 2 || !strings.Contains(r.stderr, "alpha") {
		t.Errorf("remove an unknown product: want exit 2\n%s", r)
	}
	if r := supervisor(t, ws, "", nil, "products", "remove"); r.code != 2 {
		t.Errorf("remove without an endpoint: want exit 2\n%s", r)
	}
	// The removed database can be registered again, as it was.
	if r := supervisor(t, ws, "", nil, "products", "add", "alpha2", "--sqlite", dbPath); r.code != 0 {
		t.Errorf("re-add the removed database\n%s", r)
	}
	r = supervisor(t, ws, "", nil, "status", "--product", "alpha2", "--json")
	if st := statusJSON(t, r); r.code != 0 || st[0].Status != string(status.OK) {
		t.Errorf("status of the re-added database\n%s", r)
	}
}
