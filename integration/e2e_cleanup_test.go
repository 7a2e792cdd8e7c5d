package integration

// End-to-end tests of `cleanup` and `up` (the server start-up sequence).

import (
	"database/sql"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
	"supervisor/internal/testutil"
)

// garbageLeft counts, with CodeChecker's definitions, the garbage of each
// kind still in a product database (run locks are left out: their expiry
// moves with the clock).
func garbageLeft(t *testing.T, db *sql.DB) map[string]int64 {
	t.Helper()
	queries := map[string]string{
		"files": `SELECT count(*) FROM files f WHERE NOT EXISTS (SELECT 1 FROM bug_path_events e WHERE e.file_id = f.id)
			AND NOT EXISTS (SELECT 1 FROM bug_report_points p WHERE p.file_id = f.id)
			AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.file_id = f.id)`,
		"file_contents": `SELECT count(*) FROM file_contents c WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.content_hash = c.content_hash)`,
		"comments":      `SELECT count(*) FROM comments c WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.bug_id = c.bug_hash)`,
		"analysis_info": `SELECT count(*) FROM analysis_info a WHERE NOT EXISTS (SELECT 1 FROM run_history_analysis_info h WHERE h.analysis_info_id = a.id)
			AND NOT EXISTS (SELECT 1 FROM report_analysis_info r WHERE r.analysis_info_id = a.id)`,
		"checker_set": `SELECT count(*) FROM checker_set s WHERE NOT EXISTS (SELECT 1 FROM analysis_info a WHERE a.checker_set_id = s.id)`,
	}
	out := map[string]int64{}
	for k, q := range queries {
		var n int64
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out[k] = n
	}
	return out
}

// `up` over a fleet with a broken product: it asks, migrates, then collects
// the garbage of every product now up to date (CodeChecker's sample to the
// row counts its README gives), and a second cleanup finds nothing left.
func TestE2EUpMigratesThenCollectsGarbage(t *testing.T) {
	t.Parallel()
	cluster := pgtest.Start(t)
	w := newWorkspace(t)
	old := w.SQLite(t, "libacme", "001", 2000)
	sample := w.Fixture(t, "codechecker-sample", "product-sample.sqlite")
	w.Missing(t, "newcomer")
	w.Garbage(t, "broken")
	pg := w.Postgres(t, cluster, "pg-old", "pg_old", "001", 2000, pgRole{}, "")
	passfile := writePassfile(t, pg)
	w.Close()
	for _, tg := range []dbconn.Target{old, pg} {
		db := openReadOnly(t, tg)
		if g := garbageLeft(t, db); g["files"] == 0 || g["comments"] == 0 {
			t.Fatalf("%s: the generated product has no garbage to collect: %v", tg.Database+tg.Path, g)
		}
	}

	r := supervisor(t, w.Dir, "", []string{"PGPASSFILE=" + passfile}, "up", "-j", "2", "-y", "--checker-labels", testutil.LabelsDir)
	if r.code != 1 {
		t.Fatalf("up: want exit 1 (broken product), got\n%s", r)
	}
	// The seed's sequence: status, questions, migration, status, cleanup, summary.
	for _, want := range []string{
		"Do you want to upgrade 'codechecker-sample' to new schema?",
		"Do you want to initialize a new schema for 'newcomer'?",
		"Garbage collection summary:",
		"Start-up sequence done: 4 of 5 products up to date",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q\n%s", want, r)
		}
	}
	if n := len(tablesOf(r.stdout)); n < 4 {
		t.Errorf("want status table, status table, summary and cleanup summary on stdout, got %d tables\n%s", n, r.stdout)
	}
	for _, want := range []string{
		"[codechecker-sample] Garbage collection started...",
		"[codechecker-sample] Garbage collection finished.",
		"[pg-old] Garbage collection finished.",
		"[codechecker-sample] Upgrading severity level of 'memleak' checker from UNSPECIFIED to HIGH",
		`[broken] Cleanup not attempted, database status is "Connection failed to the database server."`,
		"removed expired login sessions from the config database",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q\n%s", want, r.stderr)
		}
	}
	for _, tg := range []dbconn.Target{old, sample, pg} {
		if v := lastRevision(t, tg); v != latestVersion(t, tg.Dialect) {
			t.Errorf("%s%s: at %q after up", tg.Path, tg.Database, v)
		}
		db := openReadOnly(t, tg)
		for kind, n := range garbageLeft(t, db) {
			if n != 0 {
				t.Errorf("%s%s: %d %s left after cleanup", tg.Path, tg.Database, n, kind)
			}
		}
	}
	// CodeChecker's sample: exactly what its README counts (plus fix (c)).
	db := openReadOnly(t, sample)
	for table, want := range map[string]int64{"files": 205, "file_contents": 205, "comments": 195, "analysis_info": 15, "checker_set": 4, "checker_set_items": 240, "run_locks": 2} {
		var n int64
		if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil || n != want {
			t.Errorf("sample %s: %d rows (err %v), want %d", table, n, err, want)
		}
	}
	var sev int
	if err := db.QueryRow("SELECT severity FROM checkers WHERE analyzer_name = 'cppcheck' AND checker_name = 'memleak'").Scan(&sev); err != nil || sev != 40 {
		t.Errorf("cppcheck/memleak severity %d (err %v), want 40 (HIGH)", sev, err)
	}

	// A second cleanup finds nothing left, and touches no schema version.
	r = supervisor(t, w.Dir, "", []string{"PGPASSFILE=" + passfile}, "cleanup", "-j", "2", "--product", "libacme", "--product", "pg-old")
	if r.code != 0 {
		t.Fatalf("second cleanup: want exit 0\n%s", r)
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "libacme ") || strings.HasPrefix(line, "pg-old ") {
			cells := strings.Split(line, "|")
			for _, c := range cells[1 : len(cells)-2] {
				if strings.TrimSpace(c) != "0" {
					t.Errorf("second cleanup removed something: %s", line)
					break
				}
			}
		}
	}
}

// cleanup touches only the products that are up to date, and a label
// directory that does not load is bad usage.
func TestE2ECleanupOnlyUpToDate(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	old := w.SQLite(t, "old", "001", 500)
	w.SQLite(t, "fresh", "latest", 500)
	w.Missing(t, "gone")
	w.Close()
	before := fileStateOf(t, old.Path)
	r := supervisor(t, w.Dir, "", nil, "cleanup", "-j", "2")
	if r.code != 1 {
		t.Fatalf("cleanup: want exit 1, got\n%s", r)
	}
	for _, want := range []string{
		`[old] Cleanup not attempted, database status is "Database schema mismatch! Possible to upgrade."`,
		`[gone] Cleanup not attempted, database status is "Database is missing."`,
		"[fresh] Garbage collection finished.",
		"severity upgrade is skipped",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q\n%s", want, r.stderr)
		}
	}
	if after := fileStateOf(t, old.Path); after != before {
		t.Error("cleanup touched a product that is not up to date")
	}
	// A label directory that does not load is bad usage, before any work.
	r = supervisor(t, w.Dir, "", nil, "cleanup", "--checker-labels", t.TempDir())
	if r.code != 2 || !strings.Contains(r.stderr, "--checker-labels") {
		t.Errorf("bad --checker-labels: want exit 2 naming the flag\n%s", r)
	}
}
