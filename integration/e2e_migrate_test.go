package integration

// End-to-end tests of `migrate`: a mixed fleet, the prompts, --dry-run,
// --sql and --backup-dir. Helpers are in e2e_status_test.go.

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
	"supervisor/internal/status"
)

var e2eSummaryHeader = []string{"Product endpoint", "From", "To", "Files applied", "Duration", "Result"}

// e2eMigrateTables splits migrate's stdout into its status table before the
// work, the one after, and the summary (nil when every product was already
// up to date).
func e2eMigrateTables(t *testing.T, r result) (before, after, summary map[string][]string) {
	t.Helper()
	tables := tablesOf(r.stdout)
	want := 3
	if strings.Contains(r.stdout, "Summary: every product was already up to date.") {
		want = 2
	}
	if len(tables) != want {
		t.Fatalf("migrate printed %d tables, want %d\n%s", len(tables), want, r)
	}
	for _, tbl := range tables[:2] {
		if !slices.Equal(tbl[0], statusHeader) {
			t.Fatalf("status table header %q", tbl[0])
		}
	}
	before, after = byEndpoint(t, tables[0]), byEndpoint(t, tables[1])
	if want == 3 {
		if !slices.Equal(tables[2][0], e2eSummaryHeader) {
			t.Fatalf("summary header %q, want %q", tables[2][0], e2eSummaryHeader)
		}
		summary = byEndpoint(t, tables[2])
	}
	return before, after, summary
}

// e2eApplying counts the "applying migration file" log lines per endpoint
// (text format: "[endpoint] applying migration file: ...").
func e2eApplying(stderr string) map[string]int {
	re := regexp.MustCompile(`\[([\w-]+)\] applying migration file`)
	out := map[string]int{}
	for _, m := range re.FindAllStringSubmatch(stderr, -1) {
		out[m[1]]++
	}
	return out
}

// Issue 3's "Done when": a fleet of 12 products of both dialects at several
// versions, two of them broken, migrated four at a time.
func TestE2EMigrateMixedFleet(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	w := newWorkspace(t)
	const pwEnv = "E2E_FLEET_PASSWORD"
	super := pgRole{}

	// The fleet: ten good products of both dialects at several versions,
	// two broken ones. files is how many migration files the first run
	// applies (0: up to date already, not in the summary); keepsRows says
	// its content must survive (the generated products and CodeChecker's
	// sample); adopted that it is a CodeChecker database the run adopts;
	// broken is the word the failure to connect of a broken product says
	// ("" for the good ones).
	products := []struct {
		endpoint  string
		make      func(t *testing.T) dbconn.Target
		files     int
		keepsRows bool
		adopted   bool
		broken    string
	}{
		{endpoint: "s-current", make: func(t *testing.T) dbconn.Target { return w.SQLite(t, "s-current", "latest", 100) }},
		{endpoint: "s-old", make: func(t *testing.T) dbconn.Target { return w.SQLite(t, "s-old", "001", 400) }, files: 1, keepsRows: true},
		{endpoint: "s-empty", make: func(t *testing.T) dbconn.Target { return w.SQLite(t, "s-empty", "", 0) }, files: 2},
		{endpoint: "s-missing", make: func(t *testing.T) dbconn.Target { return w.Missing(t, "s-missing") }, files: 2},
		{endpoint: "s-cc-head", make: func(t *testing.T) dbconn.Target { return w.Fixture(t, "s-cc-head", "product-head.sqlite") },
			files: 1, adopted: true},
		{endpoint: "s-cc-sample", make: func(t *testing.T) dbconn.Target { return w.Fixture(t, "s-cc-sample", "product-sample.sqlite") },
			files: 1, keepsRows: true, adopted: true},
		{endpoint: "p-current", make: func(t *testing.T) dbconn.Target {
			return w.Postgres(t, c, "p-current", "p_current", "latest", 100, super, pwEnv)
		}},
		{endpoint: "p-old", make: func(t *testing.T) dbconn.Target { return w.Postgres(t, c, "p-old", "p_old", "001", 400, super, pwEnv) },
			files: 1, keepsRows: true},
		{endpoint: "p-empty", make: func(t *testing.T) dbconn.Target { return w.Postgres(t, c, "p-empty", "p_empty", "", 0, super, pwEnv) },
			files: 2},
		{endpoint: "p-cc-head", make: func(t *testing.T) dbconn.Target {
			return w.PostgresDump(t, c, "p-cc-head", "p_cc_head", "product-head.postgres.sql", pwEnv)
		}, files: 1, adopted: true},
		{endpoint: "s-noise", make: func(t *testing.T) dbconn.Target { return w.Garbage(t, "s-noise") }, broken: "not a database"},
		{endpoint: "p-down", make: func(t *testing.T) dbconn.Target { return w.Unreachable(t, "p-down", pwEnv) }, broken: "connection refused"},
	}
	targets := map[string]dbconn.Target{}
	kept := map[string]map[string]int64{}
	files := map[string]fileState{} // of the SQLite files
	wantFiles := map[string]int{}
	var good, broken []string
	for _, p := range products {
		tg := p.make(t)
		targets[p.endpoint] = tg
		if p.broken == "" {
			good = append(good, p.endpoint)
		} else {
			broken = append(broken, p.endpoint)
		}
		if p.files > 0 {
			wantFiles[p.endpoint] = p.files
		}
	}
	w.Close()
	env := []string{pwEnv + "=" + c.Password, "PGPASSWORD=", "PGPASSFILE=/nonexistent"}
	for _, p := range products {
		if p.keepsRows {
			kept[p.endpoint] = rowCounts(t, targets[p.endpoint])
		}
		if tg := targets[p.endpoint]; tg.Dialect == "sqlite" {
			files[p.endpoint] = fileStateOf(t, tg.Path)
		}
	}

	r := supervisor(t, w.Dir, "", env, "migrate", "-j", "4", "-y")
	if r.code != 1 {
		t.Fatalf("migrate with two broken products: want exit 1\n%s", r)
	}
	before, after, summary := e2eMigrateTables(t, r)
	if len(before) != len(products) || len(after) != len(products) {
		t.Fatalf("status tables have %d and %d rows, want %d\n%s", len(before), len(after), len(products), r)
	}
	for _, p := range products {
		e, tg := p.endpoint, targets[p.endpoint]
		row, inSummary := summary[e]
		switch {
		case p.broken != "":
			// The summary names the two failures with their reasons; the
			// broken file is left as it was.
			_, why := outcomeOf(r.stdout, e)
			if row == nil || row[5] != "failed" || !strings.HasPrefix(why, "failed: "+status.FailedToConnect.Message()) || !strings.Contains(why, p.broken) {
				t.Errorf("%s: summary row %q, failure %q, want a failure to connect saying %q", e, row, why, p.broken)
			}
			if after[e][1] != status.FailedToConnect.Message() {
				t.Errorf("%s: status after migrate %q", e, after[e][1])
			}
			if tg.Dialect == "sqlite" && fileStateOf(t, tg.Path) != files[e] {
				t.Errorf("%s: the broken file was changed", e)
			}
			continue
		case p.files == 0:
			if inSummary {
				t.Errorf("%s was up to date but is in the summary: %q", e, row)
			}
		case !inSummary || row[2] != latestVersion(t, tg.Dialect) || row[5] != "ok":
			t.Errorf("%s: summary row %q, want it upgraded to the latest version", e, row)
		}
		if got := after[e][1]; got != status.OK.Message() {
			t.Errorf("%s: status after migrate %q", e, got)
		}
		if v := lastRevision(t, tg); v != latestVersion(t, tg.Dialect) {
			t.Errorf("%s: atlas_schema_revisions at %q, want %q", e, v, latestVersion(t, tg.Dialect))
		}
		if tg.Dialect == "sqlite" {
			checkSQLiteIntact(t, tg)
		}
		if p.keepsRows {
			if got := rowCounts(t, tg); !maps.Equal(got, kept[e]) {
				t.Errorf("%s: row counts changed by the migration:\n got %v\nwant %v", e, got, kept[e])
			}
		}
		if p.adopted && !strings.Contains(r.stderr, "["+e+"] adopted CodeChecker database") {
			t.Errorf("%s: no adoption logged", e)
		}
	}
	if got := e2eApplying(r.stderr); !maps.Equal(got, wantFiles) {
		t.Errorf("applying migration file lines per product %v, want %v\n%s", got, wantFiles, r)
	}

	// A second run has nothing to do for the good products: no worker, no
	// file touched; the broken two still fail.
	for _, e := range good {
		if tg := targets[e]; tg.Dialect == "sqlite" {
			files[e] = fileStateOf(t, tg.Path)
		}
	}
	r = supervisor(t, w.Dir, "", env, "migrate", "-j", "4", "-y")
	if r.code != 1 {
		t.Fatalf("second migrate: want exit 1 (the broken products)\n%s", r)
	}
	if got := e2eApplying(r.stderr); len(got) != 0 {
		t.Errorf("second run applied files again: %v\n%s", got, r)
	}
	if strings.Contains(r.stderr, "upgrading database") {
		t.Errorf("second run upgraded something\n%s", r)
	}
	_, after, summary = e2eMigrateTables(t, r)
	if len(summary) != len(broken) || slices.ContainsFunc(broken, func(e string) bool { return summary[e] == nil }) {
		t.Errorf("second run: summary %q, want only the broken products %q", summary, broken)
	}
	for _, e := range good {
		if after[e][1] != status.OK.Message() {
			t.Errorf("second run: %s is %q", e, after[e][1])
		}
		if tg := targets[e]; tg.Dialect == "sqlite" && fileStateOf(t, tg.Path) != files[e] {
			t.Errorf("second run: %s: the file changed", e)
		}
	}
	// Only the good ones: exit 0.
	args := []string{"migrate", "-y"}
	for _, e := range good {
		args = append(args, "--product", e)
	}
	if r := supervisor(t, w.Dir, "", env, args...); r.code != 0 || !strings.Contains(r.stdout, "every product was already up to date") {
		t.Errorf("migrate of the good products only: want exit 0 and nothing to do\n%s", r)
	}
}

// Answers come from stdin a line at a time, in endpoint order, all before
// any work starts; "n" leaves a product alone; end of input is "no".
func TestE2EMigratePrompts(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	a := w.SQLite(t, "a-old", "001", 100)
	b := w.Missing(t, "b-new")
	cOld := w.SQLite(t, "c-old", "001", 100)
	d := w.SQLite(t, "d-current", "latest", 0)
	e := w.SQLite(t, "e-old", "001", 0)
	w.Close()
	untouched := map[string]fileState{}
	for _, tg := range []dbconn.Target{cOld, d, e} {
		untouched[tg.Path] = fileStateOf(t, tg.Path)
	}

	// --product limits the questions and the work, and never widens.
	r := supervisor(t, w.Dir, "n\n", nil, "migrate", "--product", "e-old", "--product", "d-current")
	if r.code != 1 || strings.Count(r.stdout, "Do you want") != 1 || !strings.Contains(r.stdout, "'e-old' to new schema? Y(es)/n(o)/a(ll)/q(uit) [n] n\n") {
		t.Errorf("migrate --product e-old --product d-current, answer n: want one question, exit 1\n%s", r)
	}
	if before, _, _ := e2eMigrateTables(t, r); len(before) != 2 {
		t.Errorf("--product: status table of %d rows, want 2", len(before))
	}

	// "Y\r\n" is yes (any case, CRLF tolerated), "No" is no, then the input ends.
	res := startCombined(t, w.Dir, "Y\r\nNo\n", nil, "migrate", "-j", "2").wait(t, 5*time.Minute)
	code, out := res.code, res.stdout
	if code != 1 {
		t.Fatalf("migrate with products left behind: want exit 1, got %d\n%s", code, out)
	}
	prompts := []string{
		"Do you want to upgrade 'a-old' to new schema? Y(es)/n(o)/a(ll)/q(uit) [n]",
		"Do you want to initialize a new schema for 'b-new'? Y(es)/n(o)/a(ll)/q(uit) [n]",
		"Do you want to upgrade 'c-old' to new schema? Y(es)/n(o)/a(ll)/q(uit) [n]",
		"Do you want to upgrade 'e-old' to new schema? Y(es)/n(o)/a(ll)/q(uit) [n]",
	}
	last := -1
	for _, p := range prompts {
		i := strings.Index(out, p)
		if i < 0 || i < last {
			t.Fatalf("prompt %q missing or out of endpoint order\n%s", p, out)
		}
		if strings.Count(out, p) != 1 {
			t.Errorf("prompt %q asked %d times", p, strings.Count(out, p))
		}
		last = i
	}
	if strings.Contains(out, "'d-current'") {
		t.Errorf("asked about the up-to-date product\n%s", out)
	}
	eof := strings.Index(out, "End of input")
	if eof < strings.Index(out, prompts[2]) || eof > strings.Index(out, prompts[3]) || !strings.Contains(out, `taking that as "no"`) {
		t.Errorf("end of input must be reported (once, at the first question it hits) and taken as no\n%s", out)
	}
	work := strings.Index(out, "applying migration file")
	if work < 0 || work < last {
		t.Errorf("work started before every question was asked (or never)\n%s", out)
	}
	if !strings.Contains(out, "[a-old] applying migration file") || strings.Count(out, "applying migration file") != 1 {
		t.Errorf("want exactly a-old's one file applied\n%s", out)
	}
	if v := lastRevision(t, a); v != latestVersion(t, "sqlite") {
		t.Errorf("a-old (yes) at %q", v)
	}
	if _, err := os.Stat(b.Path); !os.IsNotExist(err) {
		t.Errorf("b-new (no) was created: %v", err)
	}
	for path, st := range untouched {
		if got := fileStateOf(t, path); got != st {
			t.Errorf("%s changed although the answer was no / it was up to date", filepath.Base(path))
		}
	}
	for _, e := range []string{"b-new", "c-old", "e-old"} {
		if cell, _ := outcomeOf(out, e); cell != "declined" {
			t.Errorf("%s: %q: the summary does not say why it was left behind (declined)\n%s", e, cell, out)
		}
	}

	// Yes to the rest: exit 0, everything at the latest version.
	r = supervisor(t, w.Dir, "y\nyes\nYES\n", nil, "migrate", "-j", "2")
	if r.code != 0 {
		t.Fatalf("migrate answering yes to everything: want exit 0\n%s", r)
	}
	// Piped answers are echoed: each question ends its own line, and the
	// tables after them are intact.
	for _, want := range []string{
		"Do you want to initialize a new schema for 'b-new'? Y(es)/n(o)/a(ll)/q(uit) [n] y\n",
		"Do you want to upgrade 'c-old' to new schema? Y(es)/n(o)/a(ll)/q(uit) [n] yes\n",
		"Do you want to upgrade 'e-old' to new schema? Y(es)/n(o)/a(ll)/q(uit) [n] YES\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q\n%s", want, r)
		}
	}
	if _, after, summary := e2eMigrateTables(t, r); len(after) != 5 || len(summary) != 3 {
		t.Errorf("after the prompts: status table of %d rows, summary of %d, want 5 and 3\n%s", len(after), len(summary), r)
	}
	for _, tg := range []dbconn.Target{a, b, cOld, d, e} {
		if v := lastRevision(t, tg); v != latestVersion(t, "sqlite") {
			t.Errorf("%s at %q after yes to all", filepath.Base(tg.Path), v)
		}
	}
	// Nothing left: no question, exit 0, even with no input at all.
	r = supervisor(t, w.Dir, "", nil, "migrate")
	if r.code != 0 || strings.Contains(r.stdout, "Do you want") || !strings.Contains(r.stdout, "every product was already up to date") {
		t.Errorf("migrate with nothing to do: want exit 0 and no question\n%s", r)
	}
}

// --dry-run and --sql touch nothing and ask nothing; --backup-dir copies each
// SQLite product that had pending files before changing it.
func TestE2EMigrateDryRunSQLBackup(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	w := newWorkspace(t)
	const pwEnv = "E2E_DRY_PASSWORD"
	old := w.SQLite(t, "s-old", "001", 200)
	cc := w.Fixture(t, "s-cc", "product-head.sqlite")
	cur := w.SQLite(t, "s-current", "latest", 0)
	miss := w.Missing(t, "s-missing")
	pg1 := w.Postgres(t, c, "p-old", "p_old", "001", 0, pgRole{}, pwEnv)
	pg2 := w.Postgres(t, c, "p-old2", "p_old2", "001", 0, pgRole{}, pwEnv)
	w.Close()
	env := []string{pwEnv + "=" + c.Password}
	sqlites := []dbconn.Target{old, cc, cur, miss}
	snapshot := func() map[string]fileState {
		m := map[string]fileState{}
		for _, tg := range sqlites {
			for _, p := range []string{tg.Path, tg.Path + "-journal", tg.Path + "-wal"} {
				m[p] = fileStateOf(t, p)
			}
		}
		return m
	}
	counts := map[string]map[string]int64{"s-old": rowCounts(t, old), "s-cc": rowCounts(t, cc)}
	start := snapshot()
	unchanged := func(what string) {
		t.Helper()
		if got := snapshot(); !maps.Equal(got, start) {
			t.Errorf("%s changed files:\n got %v\nwant %v", what, got, start)
		}
		for _, tg := range []dbconn.Target{pg1, pg2} {
			if v := lastRevision(t, tg); v != "001" {
				t.Errorf("%s: %s moved to %q", what, tg.Database, v)
			}
		}
	}

	// --dry-run: per product, the pending files.
	r := supervisor(t, w.Dir, "", env, "migrate", "--dry-run")
	if r.code != 0 {
		t.Errorf("migrate --dry-run: want exit 0\n%s", r)
	}
	if strings.Contains(r.stdout, "Do you want") {
		t.Errorf("--dry-run asked a question\n%s", r)
	}
	for _, want := range []string{
		"[s-old] 1 pending file(s), from 001 to 002:",
		"[s-cc] 2 pending file(s), from b1be74589382 (CodeChecker) to 002:",
		"[s-missing] 2 pending file(s), from - to 002:",
		"[p-old] 1 pending file(s), from 001 to 002:",
		"[s-current] " + status.OK.Message(),
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--dry-run: stdout lacks %q\n%s", want, r)
		}
	}
	for _, re := range []string{
		`(?m)^\[s-old\]\s+002\s+drop_leftovers\b`,
		`(?m)^\[s-cc\]\s+001\s+codechecker_baseline.*recorded as a baseline, not executed$`,
		`(?m)^\[s-missing\]\s+001\s+codechecker_baseline\s+\d+ statement`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("--dry-run: stdout does not match %s\n%s", re, r)
		}
	}
	unchanged("--dry-run")

	// --sql: the pending SQL per product.
	r = supervisor(t, w.Dir, "", env, "migrate", "--sql", "--product", "s-old", "--product", "s-cc", "--product", "s-missing")
	if r.code != 0 || strings.Contains(r.stdout, "Do you want") {
		t.Errorf("migrate --sql: want exit 0 and no question\n%s", r)
	}
	for _, want := range []string{
		"-- [s-old] " + old.Path + ": from 001 to 002",
		"-- [s-old] version 002 (drop_leftovers)",
		"CREATE TABLE new_runs",
		"-- [s-missing] version 001 (codechecker_baseline)",
		"-- [s-cc] version 001 (codechecker_baseline): CodeChecker's schema, recorded as a baseline, not executed\n-- [s-cc] version 002 (drop_leftovers)\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--sql: stdout lacks %q\n%s", want, r)
		}
	}
	if strings.Contains(r.stdout, "[p-old]") || strings.Contains(r.stdout, "[s-current]") {
		t.Errorf("--sql --product widened the selection\n%s", r)
	}
	unchanged("--sql")

	// --backup-dir: one VACUUM INTO copy per SQLite product with pending
	// files, taken at its old version; PostgreSQL is the operator's, said once.
	dir := filepath.Join(t.TempDir(), "backups")
	r = supervisor(t, w.Dir, "", env, "migrate", "-y", "--backup-dir", dir)
	if r.code != 0 {
		t.Fatalf("migrate --backup-dir: want exit 0\n%s", r)
	}
	if n := strings.Count(r.stderr, "back up PostgreSQL products yourself"); n != 1 {
		t.Errorf("the PostgreSQL backup notice was logged %d times, want once\n%s", n, r)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	backups := map[string]*regexp.Regexp{
		"s-old": regexp.MustCompile(`^s-old-v001-\d{8}T\d{6}\.\d{3}Z\.sqlite$`),
		"s-cc":  regexp.MustCompile(`^s-cc-vb1be74589382-\d{8}T\d{6}\.\d{3}Z\.sqlite$`),
	}
	if len(names) != len(backups) {
		t.Fatalf("backups %q, want one for s-old and one for s-cc only", names)
	}
	for e, re := range backups {
		i := slices.IndexFunc(names, re.MatchString)
		if i < 0 {
			t.Errorf("%s: no backup matching %s among %q", e, re, names)
			continue
		}
		bk := sqliteTarget(filepath.Join(dir, names[i]))
		if got := rowCounts(t, bk); !maps.Equal(got, counts[e]) {
			t.Errorf("%s: backup rows %v, want %v", e, got, counts[e])
		}
		checkSQLiteIntact(t, bk)
		if !strings.Contains(r.stderr, "["+e+"] backup written") {
			t.Errorf("%s: backup not logged\n%s", e, r)
		}
	}
	if v := lastRevision(t, sqliteTarget(filepath.Join(dir, names[slices.IndexFunc(names, backups["s-old"].MatchString)]))); v != "001" {
		t.Errorf("s-old backup at %q, want the old version 001", v)
	}
	for _, tg := range []dbconn.Target{old, cc, cur, miss, pg1, pg2} {
		if v := lastRevision(t, tg); v != latestVersion(t, tg.Dialect) {
			t.Errorf("%s%s at %q after migrate --backup-dir", tg.Path, tg.Database, v)
		}
	}
}

// The config database of an existing CodeChecker workspace: status and
// products work on it as it is; migrate asks before adopting and upgrading
// it, and a bad --product touches nothing, the config database included.
func TestE2EMigrateCodeCheckerConfig(t *testing.T) {
	t.Parallel()
	ws := filepath.Join(t.TempDir(), "workspace")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(ws, "config.sqlite")
	copyFixture(t, "config-head.sqlite", config)
	prod := filepath.Join(ws, "cc.sqlite")
	copyFixture(t, "product-head.sqlite", prod)
	start := fileStateOf(t, config)

	r := supervisor(t, ws, "", nil, "status")
	if r.code != 0 || !strings.Contains(r.stderr, "config database schema mismatch") {
		t.Errorf("status on CodeChecker's config database (no products): want exit 0 and a warning about the config schema\n%s", r)
	}
	r = supervisor(t, ws, "", nil, "products", "add", "pg", "--postgresql", "--db-name", "pg", "--db-password-env", "PG_PW")
	if r.code != 2 || !strings.Contains(r.stderr, "supervisor migrate") {
		t.Errorf("--db-password-env needs our config schema: want exit 2 saying to migrate first\n%s", r)
	}
	for _, args := range [][]string{{"migrate", "-y", "--product", "nope"}, {"migrate", "--product", "nope"}} {
		r = supervisor(t, ws, "y\n", nil, args...)
		if r.code != 2 || strings.Contains(r.stdout, "Do you want") {
			t.Errorf("%q: want exit 2 before any question\n%s", args, r)
		}
		if got := fileStateOf(t, config); got != start {
			t.Fatalf("%q: exit 2 but the config database changed", args)
		}
	}
	if r := supervisor(t, ws, "", nil, "products", "add", "cc", "--sqlite", prod); r.code != 0 {
		t.Fatalf("products add on CodeChecker's config database\n%s", r)
	}
	// "n" for the config database: it stays as it is, the products go on.
	r = supervisor(t, ws, "n\ny\n", nil, "migrate")
	if !strings.Contains(r.stdout, "Do you want to upgrade the config database to new schema? Y(es)/n(o) [n] n\n") ||
		!strings.Contains(r.stdout, "Do you want to upgrade 'cc' to new schema? Y(es)/n(o)/a(ll)/q(uit) [n] y\n") || r.code != 0 {
		t.Errorf("migrate, no to the config database, yes to cc: want both asked, exit 0\n%s", r)
	}
	if v := lastRevision(t, sqliteTarget(config)); v != "" {
		t.Errorf("config database upgraded to %q although the answer was no", v)
	}
	if v := lastRevision(t, sqliteTarget(prod)); v != latestVersion(t, "sqlite") {
		t.Errorf("cc at %q", v)
	}
	r = supervisor(t, ws, "", nil, "migrate", "-y")
	if r.code != 0 || !strings.Contains(r.stderr, "config database upgraded") {
		t.Errorf("migrate -y: want the config database upgraded, exit 0\n%s", r)
	}
	if r := supervisor(t, ws, "", nil, "products", "add", "pg", "--postgresql", "--db-name", "pg", "--db-password-env", "PG_PW"); r.code != 0 {
		t.Errorf("--db-password-env after the upgrade\n%s", r)
	}
	if r := supervisor(t, ws, "", nil, "status"); strings.Contains(r.stderr, "config database schema mismatch") {
		t.Errorf("status still warns about the config database\n%s", r)
	}
}
