package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supervisor/internal/migrate"
	"supervisor/internal/pass"
	"supervisor/internal/status"
	"supervisor/internal/testutil"
	"supervisor/schema"
)

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
