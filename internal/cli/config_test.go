package cli

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"supervisor/internal/pass"
	"supervisor/internal/report"
	"supervisor/internal/testutil"

	"supervisor/internal/migrate"
	"supervisor/internal/status"
	"supervisor/schema"
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

func TestStatus(t *testing.T) {
	t.Parallel()
	ws, paths := statusWorkspace(t)
	latest, err := migrate.LatestVersion(schema.Product, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for e, p := range paths {
		before[e], _ = os.ReadFile(p)
	}

	r := mustRun(t, ExitFailed, "-w", ws, "status", "--json", "-j", "3")
	got := decodeJSON[[]pass.State](t, r.stdout)
	want := []pass.State{
		{Endpoint: "Default", Status: status.Missing, DBVersion: ""},
		{Endpoint: "bad", Status: status.FailedToConnect, DBVersion: ""},
		{Endpoint: "codechecker", Status: status.SchemaMismatchOK, DBVersion: "b1be74589382 (CodeChecker)"},
		{Endpoint: "good", Status: status.OK, DBVersion: latest, UpToDate: true},
		{Endpoint: "old", Status: status.SchemaMismatchOK, DBVersion: "001"},
	}
	if len(got) != len(want) {
		t.Fatalf("status --json has %d rows, want %d:\n%s", len(got), len(want), r.stdout)
	}
	for i, w := range want {
		g := got[i]
		if g.Endpoint != w.Endpoint || g.Status != w.Status || g.DBVersion != w.DBVersion || g.UpToDate != w.UpToDate {
			t.Errorf("row %d = %s %s %q up_to_date=%v, want %s %s %q up_to_date=%v",
				i, g.Endpoint, g.Status, g.DBVersion, g.UpToDate, w.Endpoint, w.Status, w.DBVersion, w.UpToDate)
		}
		if g.Message != w.Status.Message() {
			t.Errorf("%s: message %q, want %q", g.Endpoint, g.Message, w.Status.Message())
		}
		if g.Location != paths[w.Endpoint] || g.PackageVersion != latest {
			t.Errorf("%s: location %q, package version %q; want %q, %q", g.Endpoint, g.Location, g.PackageVersion, paths[w.Endpoint], latest)
		}
	}
	if !strings.Contains(got[1].Reason, "not a database") {
		t.Errorf("bad: reason %q, want it to say why", got[1].Reason)
	}
	// Only looking: nothing created, nothing changed.
	for e, p := range paths {
		after, _ := os.ReadFile(p)
		if string(after) != string(before[e]) {
			t.Errorf("status changed (or created) %s", p)
		}
	}
	if !strings.Contains(r.stderr, "[bad]") {
		t.Errorf("stderr:\n%s\nwant a warning naming [bad]", r.stderr)
	}

	// The table: header, one row per product in endpoint order, "(up to date)".
	table := mustRun(t, ExitFailed, "-w", ws, "status").stdout
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	if len(lines) != 3+len(want)+1 {
		t.Fatalf("status table has %d lines, want %d:\n%s", len(lines), 3+len(want)+1, table)
	}
	header := strings.Split(lines[1], "|")
	for i, w := range []string{"Product endpoint", "Database status", "Database location", "Schema version in the database", "Schema version in the package"} {
		if strings.TrimSpace(header[i]) != w {
			t.Errorf("column %d is %q, want %q", i, strings.TrimSpace(header[i]), w)
		}
	}
	for i, w := range want {
		cells := strings.Split(lines[3+i], " | ")
		if strings.TrimSpace(cells[0]) != w.Endpoint || strings.TrimSpace(cells[1]) != w.Status.Message() {
			t.Errorf("table row %d = %q, want %s and %q", i, lines[3+i], w.Endpoint, w.Status.Message())
		}
	}
	if !strings.Contains(lines[3+3], latest+" (up to date)") {
		t.Errorf("row of good = %q, want %q", lines[3+3], latest+" (up to date)")
	}
	if strings.Count(table, "(up to date)") != 1 {
		t.Errorf("(up to date) shown %d times, want once:\n%s", strings.Count(table, "(up to date)"), table)
	}

	// --product narrows, in endpoint order, and an all-ok selection exits 0.
	sel := decodeJSON[[]pass.State](t, mustRun(t, ExitFailed, "-w", ws, "status", "--json", "--product", "old", "--product", "good").stdout)
	if len(sel) != 2 || sel[0].Endpoint != "good" || sel[1].Endpoint != "old" {
		t.Errorf("status --product old --product good = %+v, want good then old", sel)
	}
	mustRun(t, ExitOK, "-w", ws, "status", "--product", "good")
	r = run(t, "-w", ws, "status", "--product", "good", "--product", "nope")
	if r.code != ExitUsage || !strings.Contains(r.stderr, `unknown product "nope"`) || r.stdout != "" {
		t.Errorf("status --product nope: exit %d, stdout %q, stderr %q; want 2, nothing, unknown product", r.code, r.stdout, r.stderr)
	}
}

// A SQLite file another process is writing to is locked: status says so in
// a log line of that product when it starts waiting, waits at most
// --lock-timeout, and reports the lock and the real wait, not a failed
// connection with SQLite's "database is locked (5)".
func TestStatusLockedDatabaseSaysItWaitsForTheLock(t *testing.T) {
	t.Parallel()
	ws := workspace(t)
	path := filepath.Join(t.TempDir(), "busy.sqlite")
	productAt(t, path, "")
	mustRun(t, ExitOK, "-w", ws, "products", "add", "busy", "--sqlite", path)
	testutil.HoldSQLiteLock(t, path)
	start := time.Now()
	r := mustRun(t, ExitFailed, "-w", ws, "status", "--json", "--product", "busy", "--lock-timeout", "300ms")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("status took %v with --lock-timeout 300ms", took)
	}
	got := decodeJSON[[]pass.State](t, r.stdout)
	const prefix = "the database is locked by another process (waited "
	if len(got) != 1 || got[0].Status != status.FailedToConnect || !strings.HasPrefix(got[0].Reason, prefix) {
		t.Fatalf("status of a locked database = %+v, want failed_to_connect, %q", got, prefix)
	}
	waited, err := time.ParseDuration(strings.TrimSuffix(strings.TrimPrefix(got[0].Reason, prefix), ")"))
	if err != nil || waited < 300*time.Millisecond {
		t.Errorf("reason %q: waited %v (%v), want the real wait, at least the 300ms lock timeout", got[0].Reason, waited, err)
	}
	t.Logf("stderr:\n%s", r.stderr)
	var waitLine string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, "locked by another process; waiting for it") {
			waitLine = l
		}
	}
	if !strings.Contains(waitLine, "[busy]") || !strings.Contains(waitLine, "lock_timeout=300ms") {
		t.Errorf("stderr:\n%s\nwant a line of [busy] saying it waits for the lock, with its timeout", r.stderr)
	}
	if strings.Contains(r.stderr+r.stdout, "(5)") {
		t.Errorf("output shows SQLite's raw busy error:\n%s%s", r.stdout, r.stderr)
	}
}

// An unlocked database is checked without a word about locks.
func TestStatusUnlockedDatabaseSaysNothingOfLocks(t *testing.T) {
	t.Parallel()
	ws := workspace(t)
	path := filepath.Join(t.TempDir(), "free.sqlite")
	productAt(t, path, "")
	mustRun(t, ExitOK, "-w", ws, "products", "add", "free", "--sqlite", path)
	r := mustRun(t, ExitOK, "-w", ws, "status", "--product", "free")
	if strings.Contains(r.stderr, "locked") {
		t.Errorf("stderr of an unlocked status:\n%s\nwant nothing about locks", r.stderr)
	}
}

// Global flags work before and after the command, and the environment
// supplies the workspace when no flag does.
func TestGlobalFlagsAnywhere(t *testing.T) {
	t.Parallel()
	ws := workspace(t)
	bad := filepath.Join(t.TempDir(), "bad.sqlite")
	if err := os.WriteFile(bad, []byte(strings.Repeat("garbage", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, ExitOK, "-w", ws, "products", "add", "bad", "--sqlite", bad)
	r := mustRun(t, ExitFailed, "-w", ws, "status", "--json")
	want := r.stdout
	if !strings.Contains(r.stderr, "[WARN]  [bad]") {
		t.Fatalf("status stderr:\n%s\nwant a warning about [bad]", r.stderr)
	}
	tests := []struct {
		name string
		in   cmdline
		args []string
	}{
		{"-w after", cmdline{}, []string{"status", "--json", "-w", ws}},
		{"--workspace= after", cmdline{}, []string{"status", "--workspace=" + ws, "--json"}},
		{"--config-db before", cmdline{}, []string{"--config-db", "sqlite:" + filepath.Join(ws, "config.sqlite"), "status", "--json"}},
		{"--config-db after", cmdline{}, []string{"status", "--json", "--config-db", "sqlite:" + filepath.Join(ws, "config.sqlite")}},
		{"env", cmdline{env: map[string]string{"SUPERVISOR_WORKSPACE": ws}}, []string{"status", "--json"}},
		{"flag beats env", cmdline{env: map[string]string{"SUPERVISOR_WORKSPACE": "/nonexistent"}}, []string{"status", "--json", "-w", ws}},
		{"log flags before and after", cmdline{}, []string{"--log-level", "error", "-w", ws, "status", "--log-format", "json", "--json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.in.run(t, tt.args...)
			if r.code != ExitFailed {
				t.Errorf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
			}
			if r.stdout != want {
				t.Errorf("stdout:\n%s\nwant\n%s", r.stdout, want)
			}
		})
	}
	// A global flag before the command is not reset by the command's parse.
	r = run(t, "--log-format", "json", "-w", ws, "status")
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if !strings.HasPrefix(l, "{\"") {
			t.Errorf("--log-format json before the command: stderr line %q is not JSON", l)
		}
	}
	// Levels given after the command hold too: at error level the warnings go.
	if r := run(t, "-w", ws, "status", "--log-level", "error"); r.stderr != "" {
		t.Errorf("--log-level error after the command: stderr %q, want nothing", r.stderr)
	}
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

// A PostgreSQL product whose server is down is failed_to_connect with the
// reason; it does not stop the others.
func TestStatusPostgresUnreachable(t *testing.T) {
	t.Parallel()
	ws := workspace(t)
	port := freePort(t)
	mustRun(t, ExitOK, "-w", ws, "products", "add", "pg", "--postgresql", "--db-host", "127.0.0.1",
		"--db-port", fmt.Sprint(port), "--db-password-env", "PG_PRODUCT_PW")
	mustRun(t, ExitOK, "-w", ws, "products", "add", "pg2", "--postgresql", "--db-host", "127.0.0.1",
		"--db-port", fmt.Sprint(port))
	good := filepath.Join(t.TempDir(), "good.sqlite")
	productAt(t, good, "")
	mustRun(t, ExitOK, "-w", ws, "products", "add", "good", "--sqlite", good)

	in := cmdline{env: map[string]string{"PGPASSWORD": "s3cret-global"}}
	r := in.run(t, "-w", ws, "status", "--json", "--connect-timeout", "1s")
	if r.code != ExitFailed {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	got := decodeJSON[[]pass.State](t, r.stdout)
	if len(got) != 4 {
		t.Fatalf("%d rows, want 4:\n%s", len(got), r.stdout)
	}
	byEndpoint := map[string]pass.State{}
	for _, s := range got {
		byEndpoint[s.Endpoint] = s
	}
	// Its own variable unset, pg falls back to PGPASSWORD, with a warning.
	if s := byEndpoint["pg"]; s.Status != status.FailedToConnect || !strings.Contains(s.Reason, "connection refused") {
		t.Errorf("pg = %s %q, want failed_to_connect: connection refused", s.Status, s.Reason)
	}
	if !strings.Contains(r.stderr, "[pg] the product's password variable is not set or empty; using the next source") ||
		!strings.Contains(r.stderr, "variable=PG_PRODUCT_PW") || !strings.Contains(r.stderr, "source=PGPASSWORD") {
		t.Errorf("stderr:\n%s\nwant a warning that PG_PRODUCT_PW is unset and PGPASSWORD used", r.stderr)
	}
	if s := byEndpoint["pg2"]; s.Status != status.FailedToConnect || s.Reason == "" || strings.Contains(s.Reason, "\n") {
		t.Errorf("pg2 = %s %q, want failed_to_connect with a one-line reason", s.Status, s.Reason)
	}
	if s := byEndpoint["good"]; s.Status != status.OK {
		t.Errorf("good = %s, want ok", s.Status)
	}
	if strings.Contains(r.stdout+r.stderr, "s3cret-global") {
		t.Error("the password shows in the output")
	}
}

// The parts of migrate, cleanup and up that run in-process: dry runs,
// questions answered no, nothing to do.
func TestMigrateInProcess(t *testing.T) {
	t.Parallel()
	ws, _ := statusWorkspace(t)
	latest, _ := migrate.LatestVersion(schema.Product, "sqlite")

	r := mustRun(t, ExitFailed, "-w", ws, "migrate", "--dry-run")
	for _, w := range []string{
		"[Default] 2 pending file(s), from - to " + latest,
		"[codechecker] 2 pending file(s), from b1be74589382 (CodeChecker) to " + latest,
		"CodeChecker's schema, recorded as a baseline, not executed",
		"[old] 1 pending file(s), from 001 to " + latest,
		"[good] Database is up to date.",
		"[bad] Connection failed to the database server.",
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("migrate --dry-run:\n%s\nwant it to contain %q", r.stdout, w)
		}
	}
	r = mustRun(t, ExitOK, "-w", ws, "migrate", "--sql", "--product", "old", "--product", "good")
	if !strings.Contains(r.stdout, "-- [old] version 002") || !strings.Contains(r.stdout, "-- [good] Database is up to date.") {
		t.Errorf("migrate --sql:\n%s\nwant the SQL of old's version 002", r.stdout)
	}

	// Every answer no: nothing is done, every question was asked first.
	in := cmdline{stdin: "n\nno\nN\n"}
	r = in.run(t, "-w", ws, "migrate", "--product", "Default", "--product", "codechecker", "--product", "old", "--product", "good")
	if r.code != ExitFailed {
		t.Fatalf("migrate answered no: exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	questions := []string{
		"Do you want to initialize a new schema for 'Default'? Y(es)/n(o) n\n",
		"Do you want to upgrade 'codechecker' to new schema? Y(es)/n(o) no\n",
		"Do you want to upgrade 'old' to new schema? Y(es)/n(o) N\n",
	}
	last := -1
	for _, q := range questions {
		i := strings.Index(r.stdout, q)
		if i < 0 || i < last {
			t.Errorf("migrate output:\n%s\nwant %q, after the previous question", r.stdout, q)
		}
		last = i
	}
	if strings.Contains(r.stdout, "'good'") {
		t.Error("migrate asked about an up-to-date product")
	}
	if !strings.Contains(r.stdout, "not upgraded: the answer was no") {
		t.Errorf("migrate output:\n%s\nwant the summary to say the answer was no", r.stdout)
	}
	if fileExists(t, filepath.Join(ws, "Default.sqlite")) {
		t.Error("migrate created Default.sqlite although the answer was no")
	}

	// End of input is no, and says so once.
	r = cmdline{stdin: ""}.run(t, "-w", ws, "migrate", "--product", "Default", "--product", "old")
	if r.code != ExitFailed || strings.Count(r.stdout, `End of input: taking that as "no".`) != 1 || !strings.Contains(r.stdout, "n (end of input)") {
		t.Errorf("migrate with no input: exit %d, stdout:\n%s\nwant 1 and one end-of-input notice", r.code, r.stdout)
	}

	// Nothing to do: exit 0, no worker.
	r = mustRun(t, ExitOK, "-w", ws, "migrate", "--product", "good")
	if !strings.Contains(r.stdout, "Summary: every product was already up to date.") {
		t.Errorf("migrate of an up-to-date product:\n%s\nwant the all-up-to-date summary", r.stdout)
	}
	// An unknown product is bad usage, before the config database is looked at.
	if r := run(t, "-w", ws, "migrate", "-y", "--product", "nope"); r.code != ExitUsage {
		t.Errorf("migrate --product nope: exit %d, want 2", r.code)
	}
}

func TestCleanupNotAttempted(t *testing.T) {
	t.Parallel()
	ws, _ := statusWorkspace(t)
	r := mustRun(t, ExitFailed, "-w", ws, "cleanup", "--product", "Default", "--product", "old", "--session-lifetime", "1h")
	for _, w := range []string{
		`FAILED: Cleanup not attempted, database status is "Database is missing."`,
		`FAILED: Cleanup not attempted, database status is "Database schema mismatch! Possible to upgrade."`,
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("cleanup:\n%s\nwant %q", r.stdout, w)
		}
	}
	if !strings.Contains(r.stderr, "removed expired login sessions") || !strings.Contains(r.stderr, "session_lifetime=1h0m0s") {
		t.Errorf("cleanup stderr:\n%s\nwant the config-database session cleanup with the flag's lifetime", r.stderr)
	}
	if fileExists(t, filepath.Join(ws, "Default.sqlite")) {
		t.Error("cleanup created Default.sqlite")
	}
}

// TestCleanupFindsCodeCheckerLabels: with no --checker-labels, the label
// directory of the CodeChecker installation CC_DATA_FILES_DIR names is used,
// and the log says where it came from.
func TestCleanupFindsCodeCheckerLabels(t *testing.T) {
	t.Parallel()
	ws, _ := statusWorkspace(t)
	pkg := t.TempDir()
	if err := os.MkdirAll(filepath.Join(pkg, "config", "labels", "analyzers"), 0o755); err != nil {
		t.Fatal(err)
	}
	in := cmdline{env: map[string]string{"CC_DATA_FILES_DIR": pkg}}
	r := in.run(t, "-w", ws, "cleanup", "--product", "old")
	if !strings.Contains(r.stderr, "checker labels found") || !strings.Contains(r.stderr, "via=CC_DATA_FILES_DIR") {
		t.Errorf("cleanup stderr:\n%s\nwant the label directory found through CC_DATA_FILES_DIR", r.stderr)
	}
	r = run(t, "-w", ws, "cleanup", "--product", "old")
	if !strings.Contains(r.stderr, "the severity upgrade is skipped") {
		t.Errorf("cleanup stderr without labels:\n%s\nwant the skipped severity upgrade said", r.stderr)
	}
}
