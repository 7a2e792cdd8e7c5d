package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"supervisor/internal/cleanup"
	"supervisor/internal/pass"
	"supervisor/internal/status"
)

func TestCell(t *testing.T) {
	tests := []struct {
		o      pass.Outcome
		reason string
		want   string
	}{
		{pass.OK, "", "ok"},
		{pass.Failed, "worker killed by signal: killed", "failed"},
		{pass.Declined, "not upgraded: the answer was no", "declined"},
		{pass.Skipped, "not started: an earlier product failed (fail-fast)", "skipped (fail-fast)"},
		{pass.Skipped, "not started: interrupted", "skipped (interrupted)"},
		{pass.Skipped, "not started: a canary failed", "skipped (canary failed)"},
		{pass.Skipped, `not started: a product of stage "first" failed (stop-stage)`, "skipped (stage failed)"},
		{pass.NotAttempted, `database status is "Database is missing."`, "not attempted"},
	}
	for _, tt := range tests {
		if got := Cell(tt.o, tt.reason); got != tt.want {
			t.Errorf("Cell(%q, %q) = %q, want %q", tt.o, tt.reason, got, tt.want)
		}
	}
}

func TestTotalsLine(t *testing.T) {
	tests := []struct {
		name string
		t    Totals
		want string
	}{
		{"all ok", Totals{Products: 3, OK: 3}, "Totals: 3 products: 3 ok.\n"},
		{"one", Totals{Products: 1, OK: 1}, "Totals: 1 product: 1 ok.\n"},
		{"none", Totals{}, "Totals: 0 products.\n"},
		{"every word, ok named even at 0", Totals{Products: 5, Failed: 1, Declined: 1, Skipped: 2, NotAttempted: 1},
			"Totals: 5 products: 0 ok, 1 failed, 1 declined, 2 skipped, 1 not attempted.\n"},
		{"the issue's example", Totals{Products: 5, OK: 3, Failed: 1, Declined: 1}, "Totals: 5 products: 3 ok, 1 failed, 1 declined.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			TotalsLine(&b, tt.t)
			if b.String() != tt.want {
				t.Errorf("TotalsLine = %q, want %q", b.String(), tt.want)
			}
		})
	}
}

// TestFailuresBlocks: a failed or not-attempted product gets one block, its
// reason on the first line and the worker's last lines indented under it,
// control characters escaped; declined, skipped and ok products none.
func TestFailuresBlocks(t *testing.T) {
	var b bytes.Buffer
	Failures(&b, []Failure{
		{Endpoint: "a", Outcome: pass.OK},
		{Endpoint: "b", Outcome: pass.Failed, Reason: "timed out after 1s: worker killed by signal: killed", LastOutput: []string{"applying migration file version=002", "evil \x1b[2J line"}},
		{Endpoint: "c", Outcome: pass.Declined, Reason: "not upgraded: the answer was no"},
		{Endpoint: "d", Outcome: pass.Skipped, Reason: "not started: interrupted"},
		{Endpoint: "e", Outcome: pass.NotAttempted, Reason: `database status is "Database is missing."`},
		{Endpoint: "f", Outcome: pass.Failed},
	})
	want := "Failures:\n" +
		"  [b] failed: timed out after 1s: worker killed by signal: killed\n" +
		"      last worker output:\n" +
		"        applying migration file version=002\n" +
		"        evil \\x1b[2J line\n" +
		"  [e] not attempted: database status is \"Database is missing.\"\n" +
		"  [f] failed: no reason given\n"
	if b.String() != want {
		t.Errorf("Failures =\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	Failures(&b, []Failure{{Endpoint: "a", Outcome: pass.OK}, {Endpoint: "c", Outcome: pass.Declined}})
	if b.Len() != 0 {
		t.Errorf("Failures with nothing failed = %q, want nothing", b.String())
	}
}

// TestMigrateSummaryKeepsReasonsOutOfTheTable: a 700-character reason goes
// to the Failures section, so no table line grows past 120 columns.
func TestMigrateSummaryKeepsReasonsOutOfTheTable(t *testing.T) {
	long := strings.Repeat("connection refused; ", 35)
	var b bytes.Buffer
	MigrateSummary(&b, []pass.MigrateRow{
		{Endpoint: "a-bad", From: "001", To: "001", Outcome: pass.Failed, Reason: long, LastOutput: []string{"last line"}},
		{Endpoint: "b-fine", From: "001", To: "002", Applied: 1, Duration: 1500 * time.Millisecond, Outcome: pass.OK},
		{Endpoint: "c-no", From: "001", To: "001", Outcome: pass.Declined, Reason: "not upgraded: the answer was no"},
	})
	out := b.String()
	table, failures, ok := strings.Cut(out, "Failures:\n")
	if !ok {
		t.Fatalf("no Failures section:\n%s", out)
	}
	for _, l := range strings.Split(table, "\n") {
		if n := len([]rune(l)); n > 120 {
			t.Errorf("table line of %d columns: %q", n, l)
		}
	}
	for _, want := range []string{"| failed\n", "| ok\n", "| declined\n", "| 1.5s "} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if want := "  [a-bad] failed: " + long + "\n      last worker output:\n        last line\n"; failures != want {
		t.Errorf("failures =\n%q\nwant\n%q", failures, want)
	}
}

// TestCleanupSummaryFits120Columns: the table of a fleet that was cleaned
// (six-digit counts everywhere, a 20-character endpoint, a product not
// attempted) fits 120 columns; it shows the parent tables' counts, not the
// rows cascaded with them.
func TestCleanupSummaryFits120Columns(t *testing.T) {
	big := map[string]int64{}
	for _, k := range cleanup.Keys {
		big[k] = 123456
	}
	var b bytes.Buffer
	CleanupSummary(&b, pass.CleanupReport{Rows: []pass.CleanupRow{
		{Endpoint: "a-twenty-characters-", Removed: big, Duration: 83 * time.Second, Outcome: pass.OK},
		{Endpoint: "b", Removed: map[string]int64{cleanup.KeyFiles: 15, cleanup.KeyExtendedReportData: 1, cleanup.KeySourceComponentFiles: 2, cleanup.KeyCheckerSet: 3, cleanup.KeyCheckerSetItems: 80}, Outcome: pass.OK},
		{Endpoint: "c", Outcome: pass.NotAttempted, Reason: `database status is "Database is missing."`},
	}})
	out := b.String()
	for _, l := range strings.Split(out, "\n") {
		if n := len([]rune(l)); n > 120 {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
	var rowB []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "b ") {
			rowB = strings.Split(l, "|")
		}
	}
	cells := make([]string, len(rowB))
	for i, c := range rowB {
		cells[i] = strings.TrimSpace(c)
	}
	// Product, Locks, Files, Contents, Comments, Analysis, Sets, Severity, Duration, Result.
	want := []string{"b", "0", "15", "0", "0", "0", "3", "0", "0s", "ok"}
	if strings.Join(cells, ",") != strings.Join(want, ",") {
		t.Errorf("row b = %q, want %q\n%s", cells, want, out)
	}
	if !strings.Contains(out, "c                    | -") || !strings.Contains(out, "  [c] not attempted: database status is \"Database is missing.\"\n") {
		t.Errorf("not-attempted row or block missing:\n%s", out)
	}
}

// TestNewDocumentUp: in up, a product's outcome is its migration's unless
// that was ok, then its cleanup's; the totals count those; durations add up
// and the peak RSS is the larger one.
func TestNewDocumentUp(t *testing.T) {
	states := []pass.State{
		{Endpoint: "a", Status: status.SchemaMismatchOK, DBVersion: "001"},
		{Endpoint: "b", Status: status.OK, DBVersion: "002"},
		{Endpoint: "c", Status: status.SchemaMismatchOK, DBVersion: "001"},
		{Endpoint: "d", Status: status.FailedToConnect, Reason: "gone"},
	}
	mig := pass.MigrateReport{
		Rows: []pass.MigrateRow{
			{Endpoint: "a", From: "001", To: "002", Applied: 1, Files: []pass.FileApplied{{Version: "002", Description: "drop_leftovers", Duration: 1500 * time.Millisecond}},
				Duration: 2 * time.Second, Outcome: pass.OK, PeakRSS: 10},
			{Endpoint: "c", From: "001", To: "001", Outcome: pass.Declined, Reason: "not upgraded: the answer was no"},
			{Endpoint: "d", Outcome: pass.Failed, Reason: "Connection failed to the database server. gone"},
		},
		Before: states,
		After: []pass.State{
			{Endpoint: "a", Status: status.OK, DBVersion: "002"}, states[1], states[2], states[3],
		},
	}
	cl := pass.CleanupReport{Rows: []pass.CleanupRow{
		{Endpoint: "a", Removed: map[string]int64{"files": 4}, Routines: []pass.RoutineDone{{Routine: "remove unused files", Rows: map[string]int64{"files": 4}, Duration: time.Second}},
			Duration: 3 * time.Second, Outcome: pass.OK, PeakRSS: 30},
		{Endpoint: "b", Outcome: pass.Failed, Reason: "worker killed by signal: killed", LastOutput: []string{"x"}, Duration: time.Second},
		{Endpoint: "c", Outcome: pass.NotAttempted, Reason: "database status is \"Database schema mismatch! Possible to upgrade.\""},
		{Endpoint: "d", Outcome: pass.NotAttempted, Reason: "database status is \"Connection failed to the database server.\""},
	}}
	doc := NewDocument(Run{Command: "up", States: states, Migrate: &mig, Cleanup: &cl, ExitCode: 1})
	if doc.Version != 1 || doc.Command != "up" || doc.ExitCode != 1 || len(doc.Products) != 4 {
		t.Fatalf("document = %+v", doc)
	}
	wantOutcomes := []pass.Outcome{pass.OK, pass.Failed, pass.Declined, pass.Failed}
	for i, p := range doc.Products {
		if p.Outcome != wantOutcomes[i] {
			t.Errorf("%s: outcome %q, want %q", p.Endpoint, p.Outcome, wantOutcomes[i])
		}
	}
	a := doc.Products[0]
	if a.VersionBefore != "001" || a.VersionAfter != "002" || a.StatusAfter != status.OK || a.DurationMS != 5000 || a.PeakRSSBytes != 30 {
		t.Errorf("a = %+v", a)
	}
	if len(a.Migrate.Files) != 1 || a.Migrate.Files[0] != (File{Version: "002", Description: "drop_leftovers", DurationMS: 1500}) {
		t.Errorf("a's files = %+v", a.Migrate.Files)
	}
	if len(a.Cleanup.Routines) != 1 || a.Cleanup.Routines[0].Rows["files"] != 4 || a.Cleanup.Removed["files"] != 4 {
		t.Errorf("a's cleanup = %+v", a.Cleanup)
	}
	b := doc.Products[1]
	if b.Migrate.Outcome != pass.OK || b.Migrate.From != "002" || b.Migrate.To != "002" || b.Reason != "worker killed by signal: killed" {
		t.Errorf("b (up to date, cleanup failed) = %+v, migrate %+v", b, b.Migrate)
	}
	if d := doc.Products[3]; d.Reason != "Connection failed to the database server. gone" {
		t.Errorf("d: reason %q, want the migration's", d.Reason)
	}
	if want := (Totals{Products: 4, OK: 1, Failed: 2, Declined: 1}); doc.Totals != want {
		t.Errorf("totals = %+v, want %+v", doc.Totals, want)
	}
	// Empty lists are [], never null: a consumer can range over them.
	var buf bytes.Buffer
	if err := JSON(&buf, doc); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "null") {
		t.Errorf("document holds null:\n%s", buf.String())
	}
	var back Document
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Totals != doc.Totals {
		t.Errorf("document does not read back: %v", err)
	}
}

// TestNewDocumentNoProducts: a run over nothing is still one document with
// an empty product list.
func TestNewDocumentNoProducts(t *testing.T) {
	var buf bytes.Buffer
	if err := JSON(&buf, NewDocument(Run{Command: "cleanup", Cleanup: &pass.CleanupReport{}})); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"products": []`) {
		t.Errorf("document:\n%s\nwant an empty product list", buf.String())
	}
}

// TestCleanupDryRunSaysWouldRemove: a dry run's document is marked as one
// and holds its counts under would_remove, not removed; its summary says
// nothing was written; the outcome stays ok.
func TestCleanupDryRunSaysWouldRemove(t *testing.T) {
	states := []pass.State{{Endpoint: "a", Status: status.OK, DBVersion: "002"}}
	cl := pass.CleanupReport{DryRun: true, Rows: []pass.CleanupRow{
		{Endpoint: "a", Removed: map[string]int64{cleanup.KeyFiles: 15}, Outcome: pass.OK},
	}}
	b, err := json.Marshal(NewDocument(Run{Command: "cleanup", States: states, Cleanup: &cl}))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		DryRun   bool `json:"dry_run"`
		Products []struct {
			Outcome string `json:"outcome"`
			Cleanup map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.DryRun || len(doc.Products) != 1 || doc.Products[0].Outcome != "ok" {
		t.Fatalf("document = %s; want dry_run true, one product ok", b)
	}
	c := doc.Products[0].Cleanup
	if _, ok := c["removed"]; ok || string(c["would_remove"]) != `{"files":15}` {
		t.Errorf("cleanup stage = %s; want would_remove {\"files\":15} and no removed", b)
	}

	var out bytes.Buffer
	CleanupSummary(&out, cl)
	if want := "Garbage collection dry run: what would be removed or changed (nothing was written):\n"; !strings.HasPrefix(out.String(), want) {
		t.Errorf("summary =\n%s\nwant it to start with %q", out.String(), want)
	}
	cl.DryRun = false
	b, _ = json.Marshal(NewDocument(Run{Command: "cleanup", States: states, Cleanup: &cl}))
	if strings.Contains(string(b), "dry_run") || strings.Contains(string(b), "would_remove") {
		t.Errorf("real run document = %s; want neither dry_run nor would_remove", b)
	}
}
