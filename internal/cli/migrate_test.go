package cli

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"supervisor/internal/migrate"
	"supervisor/internal/pass"
	"supervisor/internal/report"
	"supervisor/schema"
)

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
		"Do you want to initialize a new schema for 'Default'? Y(es)/n(o)/a(ll)/q(uit) [n] n\n",
		"Do you want to upgrade 'codechecker' to new schema? Y(es)/n(o)/a(ll)/q(uit) [n] no\n",
		"Do you want to upgrade 'old' to new schema? Y(es)/n(o)/a(ll)/q(uit) [n] N\n",
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
	for _, e := range []string{"Default", "codechecker", "old"} {
		if cell := cellOf(r.stdout, e); cell != "declined" {
			t.Errorf("migrate output:\n%s\n%s: %q, want the summary to say declined (the answer was no)", r.stdout, e, cell)
		}
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

// --fail-fast reacts to every kind of failure, not only a worker's: with a
// product the supervisor's own inspection finds broken, the products after
// it in endpoint order are not started (nor asked about), and are reported
// skipped.
func TestFailFastStopsAtAnInspectionFailure(t *testing.T) {
	t.Parallel()
	ws, _ := statusWorkspace(t)
	// In endpoint order: bad (random bytes), codechecker and old (upgradable).
	r := run(t, "-w", ws, "migrate", "-y", "-j", "1", "--fail-fast", "--product", "bad", "--product", "codechecker", "--product", "old")
	if r.code != ExitFailed {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	if cell, f := cellOf(r.stdout, "bad"), failureOf(r.stdout, "bad"); cell != "failed" || !strings.HasPrefix(f, "failed: Connection failed to the database server.") {
		t.Errorf("bad: %q, failure %q, want it failed with its status", cell, f)
	}
	for _, e := range []string{"codechecker", "old"} {
		if cell := cellOf(r.stdout, e); cell != "skipped (fail-fast)" {
			t.Errorf("%s: %q, want it skipped (fail-fast)\n%s", e, cell, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "Do you want") {
		t.Errorf("asked about a product fail-fast leaves out:\n%s", r.stdout)
	}
	// No worker was started: one would have failed to start in this test.
	if strings.Contains(r.stdout+r.stderr, "no-worker-here") {
		t.Errorf("a worker was started:\n%s\n%s", r.stdout, r.stderr)
	}
	// Without --fail-fast the others are tried (and, here, fail to start).
	r = run(t, "-w", ws, "migrate", "-y", "-j", "1", "--product", "bad", "--product", "old")
	if cell := cellOf(r.stdout, "old"); cell != "failed" {
		t.Errorf("without --fail-fast, old: %q, want it tried (failed)", cell)
	}
}

// TestMigrateJSONIsStdoutAlone: under --json stdout is one document (no
// table, no question, no totals line), the questions go to stderr and are
// still answered from stdin, and --report writes the same bytes.
func TestMigrateJSONIsStdoutAlone(t *testing.T) {
	t.Parallel()
	ws, _ := statusWorkspace(t)
	file := filepath.Join(t.TempDir(), "report.json")
	r := cmdline{stdin: "n\nn\nn\n"}.run(t, "-w", ws, "migrate", "--json", "--report", file)
	if r.code != ExitFailed {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	doc := decodeJSON[report.Document](t, r.stdout)
	if b, err := os.ReadFile(file); err != nil || string(b) != r.stdout {
		t.Errorf("--report (err %v) =\n%s\nwant stdout\n%s", err, b, r.stdout)
	}
	if !strings.Contains(r.stderr, "Do you want to upgrade 'old' to new schema? Y(es)/n(o)/a(ll)/q(uit) [n] n") {
		t.Errorf("stderr:\n%s\nwant the questions there", r.stderr)
	}
	got := map[string]pass.Outcome{}
	for _, p := range doc.Products {
		got[p.Endpoint] = p.Outcome
	}
	want := map[string]pass.Outcome{"Default": pass.Declined, "bad": pass.Failed, "codechecker": pass.Declined, "good": pass.OK, "old": pass.Declined}
	if !maps.Equal(got, want) || doc.ExitCode != ExitFailed || doc.Command != "migrate" || doc.Version != report.SchemaVersion {
		t.Errorf("document: %v, exit_code %d, command %q, version %d; want %v, 1, migrate, 1", got, doc.ExitCode, doc.Command, doc.Version, want)
	}
	if doc.Totals != (report.Totals{Products: 5, OK: 1, Failed: 1, Declined: 3}) {
		t.Errorf("totals %+v", doc.Totals)
	}
}

// TestReportFileCheckedUpFront: --report into a directory that does not
// exist, or onto a directory, is bad usage before anything is touched; so
// are --json and --report with --dry-run.
func TestReportFileCheckedUpFront(t *testing.T) {
	t.Parallel()
	ws, _ := statusWorkspace(t)
	for _, args := range [][]string{
		{"migrate", "-y", "--report", filepath.Join(t.TempDir(), "nope", "r.json")},
		{"cleanup", "--report", t.TempDir()},
		{"up", "-y", "--report", filepath.Join(t.TempDir(), "nope", "r.json")},
		{"migrate", "--dry-run", "--json"},
		{"migrate", "--sql", "--report", filepath.Join(t.TempDir(), "r.json")},
	} {
		r := run(t, append([]string{"-w", ws}, args...)...)
		if r.code != ExitUsage || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q; want 2 and nothing", args, r.code, r.stdout)
		}
	}
	if fileExists(t, filepath.Join(ws, "Default.sqlite")) {
		t.Error("a refused run created Default.sqlite")
	}
}
