package integration

// End-to-end tests of `migrate --baseline` (repair, verified) and `history`.

import (
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
)

// historyDoc is what `history --json` prints.
type historyDoc struct {
	Products []struct {
		Endpoint  string `json:"endpoint"`
		Error     string `json:"error"`
		Revisions []struct {
			Version     string    `json:"version"`
			Description string    `json:"description"`
			Type        string    `json:"type"`
			ExecutedAt  time.Time `json:"executed_at"`
			DurationMS  *int64    `json:"duration_ms"`
			Hash        string    `json:"hash"`
			Operator    string    `json:"operator"`
		} `json:"revisions"`
	} `json:"products"`
}

func historyJSON(t *testing.T, ws string, env []string, args ...string) historyDoc {
	t.Helper()
	r := supervisor(t, ws, "", env, append([]string{"history", "--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("history: want exit 0, got\n%s", r)
	}
	var doc historyDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("history --json: %v\n%s", err, r)
	}
	return doc
}

func mustExec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestE2EHistoryJSON upgrades a product from 001 and parses `history
// --json`: every packaged version, the upgraded ones executed by this
// supervisor with their hash and time.
func TestE2EHistoryJSON(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	w.SQLite(t, "old", "001", 20)
	w.Close()
	if r := supervisor(t, w.Dir, "", nil, "migrate", "-y"); r.code != 0 {
		t.Fatalf("migrate: want exit 0, got\n%s", r)
	}
	start := time.Now().Add(-time.Hour)
	doc := historyJSON(t, w.Dir, nil)
	if len(doc.Products) != 1 || doc.Products[0].Endpoint != "old" || doc.Products[0].Error != "" {
		t.Fatalf("history --json: got %+v, want one product old without error", doc)
	}
	revs := doc.Products[0].Revisions
	if len(revs) < 2 || revs[0].Version != "001" || revs[len(revs)-1].Version != latestVersion(t, dbconn.SQLite) {
		t.Fatalf("history: got %+v, want 001 to %s", revs, latestVersion(t, dbconn.SQLite))
	}
	for _, r := range revs[1:] {
		if r.Type != "applied" || r.Hash == "" || r.Operator == "" || r.Description == "" || r.DurationMS == nil || r.ExecutedAt.Before(start) {
			t.Errorf("history: version %s got %+v, want applied with hash, operator, description, duration and a recent time", r.Version, r)
		}
	}
	if r := supervisor(t, w.Dir, "", nil, "history"); r.code != 0 || !strings.Contains(r.stdout, "old:") || !strings.Contains(r.stdout, revs[1].Hash) {
		t.Errorf("history (table): want exit 0, the endpoint and the hash %s, got\n%s", revs[1].Hash, r)
	}
}

// TestE2EMigrateBaseline drops the revisions table of two products at the
// latest version, one of them with a column added by hand: `migrate
// --baseline` repairs the first (its next run has nothing to do, status says
// up to date, history says baseline) and refuses the second with the
// difference, leaving its file byte for byte as it was.
func TestE2EMigrateBaseline(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	pkg := latestVersion(t, dbconn.SQLite)
	repaired := w.SQLite(t, "a-dropped", "latest", 20)
	differs := w.SQLite(t, "b-extra", "latest", 20)
	w.Close()
	for _, tg := range []dbconn.Target{repaired, differs} {
		db := openDB(t, tg)
		mustExec(t, db, "DROP TABLE atlas_schema_revisions")
		if tg == differs {
			mustExec(t, db, "ALTER TABLE reports ADD COLUMN by_hand INTEGER")
		}
		db.Close()
	}
	before := fileStateOf(t, differs.Path)

	for _, args := range [][]string{{"--baseline", "999"}, {"--baseline", pkg, "--dry-run"}, {"--baseline", pkg, "--sql"}} {
		if r := supervisor(t, w.Dir, "", nil, append([]string{"migrate", "-y"}, args...)...); r.code != 2 {
			t.Errorf("migrate %v: want exit 2, got\n%s", args, r)
		}
	}
	r := supervisor(t, w.Dir, "", nil, "migrate", "-y", "--baseline", pkg)
	if r.code != 1 {
		t.Fatalf("migrate --baseline: want exit 1 (b-extra refused), got\n%s", r)
	}
	for _, want := range []string{"Do you want to record 'a-dropped' as being at version " + pkg + " (nothing is executed)?", "extra column reports.by_hand"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("migrate --baseline: stdout lacks %q\n%s", want, r)
		}
	}
	if got := fileStateOf(t, differs.Path).sum; got != before.sum {
		t.Errorf("b-extra: sha256 got %s after the refused baseline, want %s (nothing written)", got, before.sum)
	}

	if r := supervisor(t, w.Dir, "", nil, "migrate", "-y", "--product", "a-dropped"); r.code != 0 || !strings.Contains(r.stdout, "every product was already up to date") {
		t.Errorf("migrate after the baseline: want exit 0 and nothing to do, got\n%s", r)
	}
	r = supervisor(t, w.Dir, "", nil, "status", "--product", "a-dropped", "--json")
	var states []struct {
		UpToDate  bool   `json:"up_to_date"`
		DBVersion string `json:"db_version"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &states); err != nil || r.code != 0 || len(states) != 1 || !states[0].UpToDate || states[0].DBVersion != pkg {
		t.Errorf("status after the baseline: got %+v (%v), want up to date at %s\n%s", states, err, pkg, r)
	}
	doc := historyJSON(t, w.Dir, nil, "--product", "a-dropped")
	revs := doc.Products[0].Revisions
	if len(revs) == 0 || revs[len(revs)-1].Version != pkg {
		t.Fatalf("history after the baseline: got %+v, want revisions up to %s", revs, pkg)
	}
	for _, rv := range revs {
		if rv.Type != "baseline" || rv.Hash == "" || rv.Operator == "" {
			t.Errorf("history after the baseline: version %s got %+v, want a baseline with hash and operator", rv.Version, rv)
		}
	}
}

// TestE2EMigrateBaselinePostgres is TestE2EMigrateBaseline on PostgreSQL:
// a product whose revisions table was dropped is repaired, one with a
// column added by hand is refused and keeps no revisions table.
func TestE2EMigrateBaselinePostgres(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	w := newWorkspace(t)
	pkg := latestVersion(t, dbconn.Postgres)
	repaired := w.Postgres(t, c, "pg-dropped", "pg_dropped", "latest", 20, pgRole{}, "")
	differs := w.Postgres(t, c, "pg-extra", "pg_extra", "latest", 20, pgRole{}, "")
	env := []string{"PGPASSFILE=" + writePassfile(t, repaired, differs)}
	w.Close()
	for _, tg := range []dbconn.Target{repaired, differs} {
		db := openDB(t, tg)
		mustExec(t, db, "DROP TABLE atlas_schema_revisions")
		if tg == differs {
			mustExec(t, db, "ALTER TABLE reports ADD COLUMN by_hand integer")
		}
		db.Close()
	}
	r := supervisor(t, w.Dir, "", env, "migrate", "-y", "--baseline", pkg)
	if r.code != 1 || !strings.Contains(r.stdout, "extra column reports.by_hand") {
		t.Fatalf("migrate --baseline: want exit 1 and b's extra column, got\n%s", r)
	}
	db := openReadOnly(t, differs)
	if tables := tableNames(t, db, dbconn.Postgres); slices.Contains(tables, "atlas_schema_revisions") {
		t.Errorf("pg-extra: tables %v after the refused baseline, want no revisions table", tables)
	}
	var scratch int
	if err := db.QueryRow("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'supervisor_scratch_%'").Scan(&scratch); err != nil || scratch != 0 {
		t.Errorf("pg-extra: %d scratch schemas left (%v), want 0", scratch, err)
	}
	db.Close()
	if r := supervisor(t, w.Dir, "", env, "migrate", "-y", "--product", "pg-dropped"); r.code != 0 || !strings.Contains(r.stdout, "every product was already up to date") {
		t.Errorf("migrate after the baseline: want exit 0 and nothing to do, got\n%s", r)
	}
	doc := historyJSON(t, w.Dir, env, "--product", "pg-dropped")
	if revs := doc.Products[0].Revisions; len(revs) == 0 || revs[len(revs)-1].Version != pkg || revs[0].Type != "baseline" {
		t.Errorf("history after the baseline: got %+v, want baselines up to %s", revs, pkg)
	}
}
