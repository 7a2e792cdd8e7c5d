package integration

// End-to-end tests of what the supervisor does with its inputs before and
// around the workers: --fail-fast on a failure the supervisor finds itself,
// a registry row it cannot read, and the password order of
// --db-password-env.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"supervisor/internal/pgtest"
)

// With -j 1 --fail-fast and a random-bytes file as the second product, the
// first is migrated, the second fails (found by the supervisor's own
// inspection, no worker involved) and the others are not started.
func TestE2EFailFastStopsAtInspectionFailure(t *testing.T) {
	small := sqliteTemplateWith(t, 200)
	w := newWorkspace(t)
	first := w.addSQLite(t, "a", small)
	garbage := filepath.Join(w.Dir, "b-garbage.sqlite")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("\x13\x37 not a database \xff", 512)), 0o644); err != nil {
		t.Fatal(err)
	}
	w.add(t, "b-garbage", sqliteTarget(garbage), "")
	rest := map[string]string{"c": w.addSQLite(t, "c", small), "d": w.addSQLite(t, "d", small)}
	w.Close()

	res := supervisor(t, w.Dir, "", nil, "migrate", "-y", "-j", "1", "--fail-fast")
	if res.code != 1 {
		t.Errorf("exit %d, want 1\n%s", res.code, res)
	}
	if line := summaryLine(res.stdout, "a"); !strings.HasSuffix(strings.TrimSpace(line), "ok") {
		t.Errorf("a: %q, want ok (it comes before the failure)\n%s", line, res)
	}
	if v := checkWholeSQLite(t, first, small, false); v != "002" {
		t.Errorf("a at %s, want 002", v)
	}
	if cell, _ := outcomeOf(res.stdout, "b-garbage"); cell != "failed" {
		t.Errorf("b-garbage: %q, want failed", cell)
	}
	for e, p := range rest {
		if line := summaryLine(res.stdout, e); !strings.HasSuffix(strings.TrimSpace(line), "| skipped (fail-fast)") {
			t.Errorf("%s: %q, want skipped (fail-fast)\n%s", e, line, res)
		}
		if v := checkWholeSQLite(t, p, small, false); v != "001" {
			t.Errorf("%s at %s, want 001 (never started)", e, v)
		}
		if strings.Contains(res.stdout, "'"+e+"'") {
			t.Errorf("%s was asked about although fail-fast leaves it out", e)
		}
	}
}

// A registry row the supervisor cannot read (a MySQL URL CodeChecker would
// not serve either) fails that product alone; the others are migrated.
func TestE2EUnreadableRegistryRow(t *testing.T) {
	small := sqliteTemplateWith(t, 200)
	w := newWorkspace(t)
	good := w.addSQLite(t, "good", small)
	w.Close()
	db := openDB(t, sqliteTarget(filepath.Join(w.Dir, "config.sqlite")))
	if _, err := db.Exec(`INSERT INTO products (endpoint, connection, display_name, is_review_status_change_disabled, report_limit)
		VALUES ('broken', 'mysql://x@y/z', 'broken', 0, 500000)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if r := supervisor(t, w.Dir, "", nil, "products", "list"); r.code != 0 || !strings.Contains(r.stdout, "mysql://x@y/z") ||
		!strings.Contains(r.stdout, `unsupported database type "mysql"`) {
		t.Errorf("products list: want exit 0 and broken with its connection and reason\n%s", r)
	}
	for _, args := range [][]string{{"status"}, {"migrate", "-y"}} {
		r := supervisor(t, w.Dir, "", nil, args...)
		if r.code != 1 || !strings.Contains(r.stdout+r.stderr, `unsupported database type "mysql"`) {
			t.Errorf("%v: want exit 1 and broken's reason\n%s", args, r)
		}
	}
	if v := checkWholeSQLite(t, good, small, false); v != "002" {
		t.Errorf("good at %s, want 002: one bad row must not stop the fleet", v)
	}
}

// The password order of the README: the product's variable when it is set;
// else the URL's, PGPASSWORD, the password file. An unset variable is a
// warning; only when nothing gives a password and the server asks for one
// does the product fail, and the reason names the variable.
func TestE2EPasswordVariableUnset(t *testing.T) {
	c := pgtest.Start(t)
	w := newWorkspace(t)
	const pwEnv = "E2E_UNSET_PASSWORD"
	tg := w.Postgres(t, c, "pg", "pg_unset", "001", 50, pgRole{}, pwEnv)
	w.Close()

	noFile := "PGPASSFILE=" + filepath.Join(t.TempDir(), "none")
	r := supervisor(t, w.Dir, "", []string{pwEnv + "=", "PGPASSWORD=", noFile}, "migrate", "-y")
	if r.code != 1 || !strings.Contains(r.stdout, "environment variable "+pwEnv) {
		t.Errorf("no password anywhere: want exit 1 and the reason naming %s\n%s", pwEnv, r)
	}
	if v := lastRevision(t, tg); v != "001" {
		t.Errorf("pg at %s after a failed login, want 001", v)
	}

	r = supervisor(t, w.Dir, "", []string{pwEnv + "=", "PGPASSWORD=" + c.Password, noFile}, "migrate", "-y")
	if r.code != 0 {
		t.Errorf("%s unset, PGPASSWORD set: want exit 0\n%s", pwEnv, r)
	}
	if !strings.Contains(r.stderr, "password variable is not set or empty") || !strings.Contains(r.stderr, pwEnv) {
		t.Errorf("want a warning naming %s\n%s", pwEnv, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, c.Password) {
		t.Error("the password shows in the output")
	}
	if v := lastRevision(t, tg); v != "002" {
		t.Errorf("pg at %s, want 002", v)
	}
}
