package integration

import (
	"strings"
	"testing"

	"supervisor/internal/migrate"
	"supervisor/internal/status"
	"supervisor/internal/testutil"
)

// TestE2EAdoptRefusesOurDatabaseWithoutRevisions: a CodeChecker database we
// migrated to 002, whose atlas_schema_revisions was then dropped, still says
// b1be74589382 in alembic_version. status and migrate refuse it, naming the
// differences, and leave the file as it is, run after run (it used to be
// adopted as 001, and 002 then failed with "index ... already exists").
func TestE2EAdoptRefusesOurDatabaseWithoutRevisions(t *testing.T) {
	w := newWorkspace(t)
	tg := w.Fixture(t, "p", "product-head.sqlite")
	w.Close()
	if r := supervisor(t, w.Dir, "", nil, "migrate", "-y"); r.code != 0 {
		t.Fatalf("first migrate:\n%s", r)
	}
	db := openDB(t, tg)
	if _, err := db.Exec("DROP TABLE " + migrate.RevisionsTable); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before := fileStateOf(t, tg.Path)
	for run := range 2 {
		r := supervisor(t, w.Dir, "", nil, "status", "--json")
		rows := statusJSON(t, r)
		if len(rows) != 1 || rows[0].Status != string(status.SchemaMismatchNo) {
			t.Fatalf("run %d: status rows %+v, want p schema_mismatch_no\n%s", run, rows, r)
		}
		for _, want := range []string{"differs from CodeChecker's b1be74589382", "extra index supervisor_ix_"} {
			if !strings.Contains(rows[0].Reason, want) {
				t.Errorf("run %d: reason %q, want %q in it", run, rows[0].Reason, want)
			}
		}
		m := supervisor(t, w.Dir, "", nil, "migrate", "-y")
		if m.code != 1 || strings.Contains(m.stdout+m.stderr, "already exists") {
			t.Errorf("run %d: migrate exit %d, want 1 and no attempt to apply 002\n%s", run, m.code, m)
		}
		if got := fileStateOf(t, tg.Path); got.sum != before.sum {
			t.Fatalf("run %d: a refused adoption changed the database", run)
		}
	}
}

// TestE2EStatusLockedProduct: a product another process holds with BEGIN
// EXCLUSIVE. status logs, for that product, that it waits for the lock,
// honours --lock-timeout, and says the database is locked by another
// process and how long it waited, not "database is locked (5)".
func TestE2EStatusLockedProduct(t *testing.T) {
	w := newWorkspace(t)
	tg := w.SQLite(t, "p", "latest", 0)
	w.Close()
	testutil.HoldSQLiteLock(t, tg.Path)
	r := supervisor(t, w.Dir, "", nil, "status", "--json", "--lock-timeout", "1s")
	rows := statusJSON(t, r)
	if r.code != 1 || len(rows) != 1 || rows[0].Status != string(status.FailedToConnect) ||
		!strings.HasPrefix(rows[0].Reason, "the database is locked by another process (waited ") {
		t.Errorf("status of a locked product: exit %d, rows %+v; want 1 and the lock named\n%s", r.code, rows, r)
	}
	if !strings.Contains(r.stderr, "[p] the database is locked by another process; waiting for it") {
		t.Errorf("stderr does not say [p] waits for the lock:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "(5)") {
		t.Errorf("SQLite's raw busy error shown:\n%s", r)
	}
}
