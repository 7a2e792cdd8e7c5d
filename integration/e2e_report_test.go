package integration

// End-to-end tests of the result of migrate, cleanup and up: the outcome
// words, the totals line, one warning per product, one status table when
// nothing changed, and the --json / --report document, read with this
// file's own copy of the schema the README documents (unknown fields are
// refused) and checked against the run and `status --json` after it.

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"supervisor/internal/testutil"
)

// reportDoc is the README's schema, version 1.
type reportDoc struct {
	Version  int             `json:"version"`
	Command  string          `json:"command"`
	Products []reportProduct `json:"products"`
	Totals   reportTotals    `json:"totals"`
	ExitCode int             `json:"exit_code"`
	// TargetVersion and Stages: migrate --to and a staged rollout
	// (e2e_rollout_test.go).
	TargetVersion string        `json:"target_version"`
	Stages        []reportStage `json:"stages"`
}

type reportProduct struct {
	Endpoint      string         `json:"endpoint"`
	Outcome       string         `json:"outcome"`
	Reason        string         `json:"reason"`
	StatusBefore  string         `json:"status_before"`
	StatusAfter   string         `json:"status_after"`
	VersionBefore string         `json:"version_before"`
	VersionAfter  string         `json:"version_after"`
	DurationMS    int64          `json:"duration_ms"`
	PeakRSSBytes  int64          `json:"peak_rss_bytes"`
	Migrate       *reportMigrate `json:"migrate"`
	Cleanup       *reportCleanup `json:"cleanup"`
}

type reportMigrate struct {
	Outcome      string `json:"outcome"`
	Reason       string `json:"reason"`
	From         string `json:"from"`
	To           string `json:"to"`
	FilesApplied int    `json:"files_applied"`
	Files        []struct {
		Version     string `json:"version"`
		Description string `json:"description"`
		DurationMS  int64  `json:"duration_ms"`
	} `json:"files"`
	DurationMS   int64    `json:"duration_ms"`
	PeakRSSBytes int64    `json:"peak_rss_bytes"`
	LastOutput   []string `json:"last_output"`
}

type reportCleanup struct {
	Outcome  string           `json:"outcome"`
	Reason   string           `json:"reason"`
	Removed  map[string]int64 `json:"removed"`
	Routines []struct {
		Routine    string           `json:"routine"`
		Rows       map[string]int64 `json:"rows"`
		DurationMS int64            `json:"duration_ms"`
	} `json:"routines"`
	DurationMS   int64    `json:"duration_ms"`
	PeakRSSBytes int64    `json:"peak_rss_bytes"`
	LastOutput   []string `json:"last_output"`
	NothingToDo  bool     `json:"nothing_to_do"`
}

type reportTotals struct {
	Products     int `json:"products"`
	OK           int `json:"ok"`
	Failed       int `json:"failed"`
	Declined     int `json:"declined"`
	Skipped      int `json:"skipped"`
	NotAttempted int `json:"not_attempted"`
}

// decodeReport reads the one document in text, failing t unless text is
// exactly one JSON value of the schema (white space around it aside).
func decodeReport(t *testing.T, what, text string) reportDoc {
	t.Helper()
	if !strings.HasPrefix(text, "{") {
		t.Fatalf("%s does not start with the document:\n%s", what, text)
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	var doc reportDoc
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s is not the result document: %v\n%s", what, err, text)
	}
	var more json.RawMessage
	if err := dec.Decode(&more); err != io.EOF {
		t.Fatalf("%s holds more than one JSON document (%v, %s)", what, err, more)
	}
	if doc.Version != 1 {
		t.Errorf("%s: version %d, want 1", what, doc.Version)
	}
	return doc
}

// productsOf indexes doc's products by endpoint, checking they come in the
// given (endpoint) order.
func productsOf(t *testing.T, doc reportDoc, order ...string) map[string]reportProduct {
	t.Helper()
	var got []string
	out := map[string]reportProduct{}
	for _, p := range doc.Products {
		got = append(got, p.Endpoint)
		out[p.Endpoint] = p
	}
	if !slices.Equal(got, order) {
		t.Errorf("%s document: products %q, want %q", doc.Command, got, order)
	}
	return out
}

// checkAgainstStatus checks every product's status and version after the
// run against what `status --json` reads now.
func checkAgainstStatus(t *testing.T, ws string, doc reportDoc) {
	t.Helper()
	rows := map[string]statusRow{}
	for _, r := range statusJSON(t, supervisor(t, ws, "", nil, "status", "--json")) {
		rows[r.Endpoint] = r
	}
	for _, p := range doc.Products {
		st := rows[p.Endpoint]
		if p.StatusAfter != st.Status || p.VersionAfter != st.DBVersion {
			t.Errorf("%s %s: after %s/%q, status --json says %s/%q", doc.Command, p.Endpoint, p.StatusAfter, p.VersionAfter, st.Status, st.DBVersion)
		}
	}
}

// checkRoutines checks a cleanup's routines against its removed counts:
// every count is one routine's, and together they are what was removed.
func checkRoutines(t *testing.T, e string, c *reportCleanup) {
	t.Helper()
	if len(c.Routines) == 0 || len(c.Removed) == 0 {
		t.Errorf("%s: cleanup with routines %v and removed %v, want both", e, c.Routines, c.Removed)
		return
	}
	sum := map[string]int64{}
	for _, r := range c.Routines {
		if r.Routine == "" || len(r.Rows) == 0 || r.DurationMS < 0 || r.DurationMS > c.DurationMS {
			t.Errorf("%s: routine %+v (worker %d ms)", e, r, c.DurationMS)
		}
		for k, n := range r.Rows {
			if _, twice := sum[k]; twice {
				t.Errorf("%s: %s counted by two routines", e, k)
			}
			sum[k] += n
		}
	}
	for k, n := range c.Removed {
		if sum[k] != n {
			t.Errorf("%s: removed %s = %d, the routines say %d", e, k, n, sum[k])
		}
	}
	if len(sum) != len(c.Removed) {
		t.Errorf("%s: the routines count %v, removed has %v", e, sum, c.Removed)
	}
}

// TestE2EReportMigrateAndCleanupJSON: one migrate --fail-fast --json run
// with a product up to date, one initialised, one declined, one broken and
// one fail-fast leaves out; then cleanup --json over the same fleet. Each
// document is all of stdout, equals its --report file, and says what the
// run did.
func TestE2EReportMigrateAndCleanupJSON(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	w.SQLite(t, "a-current", "latest", 50)
	w.Missing(t, "b-new")
	w.Fixture(t, "c-no", "product-sample.sqlite")
	w.Garbage(t, "d-bad")
	later := w.Missing(t, "e-later")
	w.Close()
	latest := latestVersion(t, "sqlite")
	order := []string{"a-current", "b-new", "c-no", "d-bad", "e-later"}

	reportFile := filepath.Join(t.TempDir(), "migrate.json")
	r := supervisor(t, w.Dir, "y\nn\n", nil, "migrate", "-j", "1", "--fail-fast", "--json", "--report", reportFile)
	if r.code != 1 {
		t.Fatalf("migrate: exit %d, want 1\n%s", r.code, r)
	}
	doc := decodeReport(t, "migrate --json stdout", r.stdout)
	if b, err := os.ReadFile(reportFile); err != nil || string(b) != r.stdout {
		t.Errorf("--report file (err %v) differs from stdout:\n%s", err, b)
	}
	// The questions went to stderr; the answers were still read.
	for _, q := range []string{"Do you want to initialize a new schema for 'b-new'? Y(es)/n(o)/a(ll)/q(uit) [n] y", "Do you want to upgrade 'c-no' to new schema? Y(es)/n(o)/a(ll)/q(uit) [n] n"} {
		if !strings.Contains(r.stderr, q) || strings.Contains(r.stdout, q) {
			t.Errorf("question %q not on stderr alone\n%s", q, r)
		}
	}
	if doc.Command != "migrate" || doc.ExitCode != r.code {
		t.Errorf("command %q, exit_code %d; want migrate, %d", doc.Command, doc.ExitCode, r.code)
	}
	if want := (reportTotals{Products: 5, OK: 2, Failed: 1, Declined: 1, Skipped: 1}); doc.Totals != want {
		t.Errorf("totals %+v, want %+v", doc.Totals, want)
	}
	ps := productsOf(t, doc, order...)
	for e, want := range map[string]string{"a-current": "ok", "b-new": "ok", "c-no": "declined", "d-bad": "failed", "e-later": "skipped"} {
		p := ps[e]
		if p.Outcome != want || p.Migrate == nil || p.Migrate.Outcome != want || p.Cleanup != nil {
			t.Errorf("%s: outcome %q, migrate %+v, cleanup %+v; want %q in a migrate section only", e, p.Outcome, p.Migrate, p.Cleanup, want)
		}
		if (want == "ok") != (p.Reason == "") {
			t.Errorf("%s: %s with reason %q", e, p.Outcome, p.Reason)
		}
	}
	checkAgainstStatus(t, w.Dir, doc)

	if p := ps["a-current"]; p.StatusBefore != "ok" || p.VersionBefore != latest || p.Migrate.FilesApplied != 0 || len(p.Migrate.Files) != 0 || p.DurationMS != 0 || p.PeakRSSBytes != 0 {
		t.Errorf("a-current (up to date, no worker) = %+v, migrate %+v", p, p.Migrate)
	}
	nb := ps["b-new"]
	m := nb.Migrate
	if nb.StatusBefore != "missing" || nb.VersionBefore != "" || nb.VersionAfter != latest || m.From != "" || m.To != latest {
		t.Errorf("b-new = %+v, migrate %+v; want it from nothing to %s", nb, m, latest)
	}
	var versions []string
	var filesMS int64
	for _, f := range m.Files {
		versions = append(versions, f.Version)
		filesMS += f.DurationMS
		if f.Description == "" || f.DurationMS < 0 {
			t.Errorf("b-new: file %+v", f)
		}
	}
	if m.FilesApplied < 1 || len(m.Files) != m.FilesApplied || !slices.IsSorted(versions) || versions[len(versions)-1] != latest {
		t.Errorf("b-new: files_applied %d, files %q; want one per applied file, in order, up to %s", m.FilesApplied, versions, latest)
	}
	if m.DurationMS < filesMS || nb.DurationMS != m.DurationMS || m.PeakRSSBytes <= 0 || nb.PeakRSSBytes != m.PeakRSSBytes {
		t.Errorf("b-new: worker %d ms (files %d ms), product %d ms, peak RSS %d/%d", m.DurationMS, filesMS, nb.DurationMS, m.PeakRSSBytes, nb.PeakRSSBytes)
	}
	if p := ps["c-no"]; p.Reason != "not upgraded: the answer was no" || p.StatusBefore != "schema_mismatch_ok" || p.VersionAfter != p.VersionBefore || !strings.Contains(p.VersionBefore, "CodeChecker") || len(p.Migrate.Files) != 0 {
		t.Errorf("c-no (declined) = %+v", p)
	}
	if p := ps["d-bad"]; p.StatusBefore != "failed_to_connect" || !strings.Contains(p.Reason, "not a database") || p.Migrate.Reason != p.Reason {
		t.Errorf("d-bad (broken) = %+v, migrate %+v", p, p.Migrate)
	}
	if p := ps["e-later"]; p.StatusBefore != "missing" || p.StatusAfter != "missing" || !strings.Contains(p.Reason, "fail-fast") || p.PeakRSSBytes != 0 {
		t.Errorf("e-later (fail-fast) = %+v", p)
	}
	if _, err := os.Stat(later.Path); !os.IsNotExist(err) {
		t.Errorf("e-later was created although fail-fast left it out: %v", err)
	}

	// cleanup over the same fleet: the two up-to-date products cleaned,
	// the others not attempted.
	reportFile = filepath.Join(t.TempDir(), "cleanup.json")
	r = supervisor(t, w.Dir, "", nil, "cleanup", "-j", "2", "--checker-labels", testutil.LabelsDir, "--json", "--report", reportFile)
	if r.code != 1 {
		t.Fatalf("cleanup: exit %d, want 1\n%s", r.code, r)
	}
	doc = decodeReport(t, "cleanup --json stdout", r.stdout)
	if b, err := os.ReadFile(reportFile); err != nil || string(b) != r.stdout {
		t.Errorf("--report file (err %v) differs from stdout:\n%s", err, b)
	}
	if doc.Command != "cleanup" || doc.ExitCode != 1 {
		t.Errorf("command %q, exit_code %d; want cleanup, 1", doc.Command, doc.ExitCode)
	}
	if want := (reportTotals{Products: 5, OK: 2, NotAttempted: 3}); doc.Totals != want {
		t.Errorf("cleanup totals %+v, want %+v", doc.Totals, want)
	}
	ps = productsOf(t, doc, order...)
	checkAgainstStatus(t, w.Dir, doc)
	// a-current has garbage (fleetgen's): its worker cleaned it. b-new,
	// just initialised, has nothing to remove: the supervisor's read-only
	// check found so, and no worker ran for it.
	for _, e := range []string{"a-current"} {
		p := ps[e]
		if p.Outcome != "ok" || p.Migrate != nil || p.Cleanup == nil || p.Cleanup.Outcome != "ok" || p.Cleanup.PeakRSSBytes <= 0 || p.DurationMS != p.Cleanup.DurationMS || p.Cleanup.NothingToDo {
			t.Errorf("%s: %+v, cleanup %+v; want it cleaned, no migrate section", e, p, p.Cleanup)
			continue
		}
		checkRoutines(t, e, p.Cleanup)
	}
	if p := ps["b-new"]; p.Outcome != "ok" || p.Migrate != nil || p.Cleanup == nil || p.Cleanup.Outcome != "ok" || !p.Cleanup.NothingToDo ||
		p.Cleanup.PeakRSSBytes != 0 || p.Cleanup.DurationMS != 0 || p.DurationMS != 0 || len(p.Cleanup.Routines) != 0 || len(p.Cleanup.Removed) != 10 {
		t.Errorf("b-new: %+v, cleanup %+v; want ok, nothing to do, no worker", p, p.Cleanup)
	} else {
		for k, n := range p.Cleanup.Removed {
			if n != 0 {
				t.Errorf("b-new: removed %s = %d, want 0", k, n)
			}
		}
	}
	for e, status := range map[string]string{"c-no": "Database schema mismatch! Possible to upgrade.", "d-bad": "Connection failed to the database server.", "e-later": "Database is missing."} {
		p := ps[e]
		want := `database status is "` + status + `"`
		if p.Outcome != "not attempted" || p.Cleanup == nil || p.Cleanup.Reason != want || p.Reason != want || p.Cleanup.Removed != nil || p.StatusAfter != p.StatusBefore {
			t.Errorf("%s: %+v, cleanup %+v; want not attempted, %s", e, p, p.Cleanup, want)
		}
	}
}

// TestE2EReportUp: up in text mode with --report: tables that fit 120
// columns, a Failures section, one totals line at the end, one warning for
// the broken product; the report says the same. Run again with --json: one
// document, nothing left to remove; and once more in text: the status
// table, unchanged by the run, is printed once.
func TestE2EReportUp(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	w.Fixture(t, "a-sample", "product-sample.sqlite")
	w.Garbage(t, "b-broken")
	w.Close()
	latest := latestVersion(t, "sqlite")

	// A --report whose directory does not exist is bad usage, before
	// anything is touched; so is --json with --dry-run.
	for _, args := range [][]string{
		{"up", "-y", "--report", filepath.Join(t.TempDir(), "nope", "r.json")},
		{"migrate", "--dry-run", "--json"},
	} {
		if r := supervisor(t, w.Dir, "", nil, args...); r.code != 2 || r.stdout != "" {
			t.Errorf("%v: want exit 2 and nothing on stdout\n%s", args, r)
		}
	}
	if r := statusJSON(t, supervisor(t, w.Dir, "", nil, "status", "--json")); r[0].DBVersion == latest {
		t.Fatalf("a-sample at %s before up", latest)
	}

	reportFile := filepath.Join(t.TempDir(), "up.json")
	r := supervisor(t, w.Dir, "", nil, "up", "-y", "-j", "2", "--checker-labels", testutil.LabelsDir, "--report", reportFile)
	if r.code != 1 {
		t.Fatalf("up: exit %d, want 1\n%s", r.code, r)
	}
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "Totals: 2 products: 1 ok, 1 failed." || strings.Count(r.stdout, "Totals:") != 1 {
		t.Errorf("up: last line %q, want one totals line \"Totals: 2 products: 1 ok, 1 failed.\" at the end\n%s", last, r.stdout)
	}
	for _, part := range []string{"Summary:\n", "Garbage collection summary:\n"} {
		_, rest, _ := strings.Cut(r.stdout, part)
		table := rest[:strings.Index(rest, "\nFailures:")]
		for _, l := range strings.Split(table, "\n") {
			if n := len([]rune(l)); n > 120 {
				t.Errorf("%s line of %d columns: %q", strings.TrimSpace(part), n, l)
			}
		}
	}
	if cell, why := outcomeOf(r.stdout, "b-broken"); cell != "not attempted" || why != `not attempted: database status is "Connection failed to the database server."` {
		t.Errorf("b-broken in the cleanup summary: %q, %q", cell, why)
	}
	if !strings.Contains(r.stdout, "  [b-broken] failed: Connection failed to the database server. file is not a database") {
		t.Errorf("the migrate Failures section lacks b-broken's reason\n%s", r.stdout)
	}
	if cell, _ := outcomeOf(r.stdout, "a-sample"); cell != "ok" {
		t.Errorf("a-sample: %q, want ok", cell)
	}
	var warned []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, "[WARN]") && strings.Contains(l, "[b-broken]") {
			warned = append(warned, l)
		}
	}
	if len(warned) != 1 {
		t.Errorf("b-broken warned %d times, want once:\n%s", len(warned), strings.Join(warned, "\n"))
	}

	b, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	doc := decodeReport(t, "up --report file", string(b))
	if doc.Command != "up" || doc.ExitCode != 1 || doc.Totals != (reportTotals{Products: 2, OK: 1, Failed: 1}) {
		t.Errorf("up document: command %q, exit_code %d, totals %+v", doc.Command, doc.ExitCode, doc.Totals)
	}
	ps := productsOf(t, doc, "a-sample", "b-broken")
	checkAgainstStatus(t, w.Dir, doc)
	a := ps["a-sample"]
	if a.Outcome != "ok" || a.Migrate == nil || a.Cleanup == nil || a.VersionAfter != latest || a.Migrate.FilesApplied != len(a.Migrate.Files) || a.Migrate.FilesApplied == 0 {
		t.Fatalf("a-sample = %+v, migrate %+v, cleanup %+v", a, a.Migrate, a.Cleanup)
	}
	if a.DurationMS != a.Migrate.DurationMS+a.Cleanup.DurationMS || a.PeakRSSBytes != max(a.Migrate.PeakRSSBytes, a.Cleanup.PeakRSSBytes) {
		t.Errorf("a-sample: %d ms, %d bytes; stages %d+%d ms, %d/%d bytes", a.DurationMS, a.PeakRSSBytes, a.Migrate.DurationMS, a.Cleanup.DurationMS, a.Migrate.PeakRSSBytes, a.Cleanup.PeakRSSBytes)
	}
	checkRoutines(t, "a-sample", a.Cleanup)
	if a.Cleanup.Removed["files"] == 0 || a.Cleanup.Removed["comments"] == 0 {
		t.Errorf("a-sample: removed %v, want CodeChecker's sample garbage", a.Cleanup.Removed)
	}
	if p := ps["b-broken"]; p.Outcome != "failed" || p.Migrate.Outcome != "failed" || p.Cleanup.Outcome != "not attempted" || p.Reason != p.Migrate.Reason {
		t.Errorf("b-broken = %+v, migrate %+v, cleanup %+v", p, p.Migrate, p.Cleanup)
	}

	// Again, as JSON: nothing to migrate or remove; stdout is the document.
	r = supervisor(t, w.Dir, "", nil, "up", "-y", "--checker-labels", testutil.LabelsDir, "--json")
	doc = decodeReport(t, "up --json stdout", r.stdout)
	if r.code != 1 || doc.ExitCode != 1 {
		t.Errorf("second up: exit %d, document %d, want 1", r.code, doc.ExitCode)
	}
	a = productsOf(t, doc, "a-sample", "b-broken")["a-sample"]
	if a.Outcome != "ok" || a.Migrate.FilesApplied != 0 || a.Migrate.DurationMS != 0 || a.Cleanup == nil {
		t.Fatalf("second up, a-sample = %+v, migrate %+v", a, a.Migrate)
	}
	for k, n := range a.Cleanup.Removed {
		if n != 0 {
			t.Errorf("second up removed %d %s", n, k)
		}
	}

	// Once more, as text: no worker migrated anything, so the status table
	// after the migration would be the same one: printed once.
	r = supervisor(t, w.Dir, "", nil, "up", "-y", "--checker-labels", testutil.LabelsDir)
	n := 0
	for _, tbl := range tablesOf(r.stdout) {
		if slices.Equal(tbl[0], statusHeader) {
			n++
		}
	}
	if n != 1 || !bytes.HasSuffix([]byte(r.stdout), []byte("Totals: 2 products: 1 ok, 1 failed.\n")) {
		t.Errorf("third up: %d status tables, want 1, and the totals line last\n%s", n, r.stdout)
	}
}
