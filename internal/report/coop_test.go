package report

import (
	"bytes"
	"strings"
	"testing"

	"supervisor/internal/coop"
	"supervisor/internal/pass"
)

func testRun() coop.Progress {
	return coop.Progress{RunID: "r", Action: "migrate", Done: 1, Failed: 2, Pending: 1, Running: 1,
		RunningBy: map[string]int{"b/2": 1}, Hosts: map[string]int{"a/1": 1, "b/2": 1},
		Jobs: []coop.Job{
			{Endpoint: "e1", State: coop.StateDone, Host: "a/1", Attempts: 1, Result: &coop.Result{Host: "a/1", Outcome: "ok", From: "001", To: "002", DurationMS: 1500}},
			{Endpoint: "e2", State: coop.StateDone, Host: "b/2", Attempts: 2, Earlier: []string{"c/3"}, Result: &coop.Result{Host: "b/2", Outcome: "failed", Reason: "boom", From: "001", To: "001"}},
			{Endpoint: "e3", State: coop.StatePending},
			{Endpoint: "e4", State: coop.StateRunning, Host: "b/2", Attempts: 1},
			{Endpoint: "e5", State: coop.StateFailed, Attempts: 3, Earlier: []string{"c/3", "d/4", "e/5"}},
		}}
}

// TestRunSummaryMarksThisHostsProducts: the run's summary has every
// product of the run, this host's marked, the failures under it, and the
// counts line naming how many this host did.
func TestRunSummaryMarksThisHostsProducts(t *testing.T) {
	var b bytes.Buffer
	RunSummary(&b, "a/1", testRun())
	out := b.String()
	for _, want := range []string{
		"Run r (migrate), across 2 host(s); * marks this host's products:",
		"e1               | done    | a/1 * | 001  | 002 | 1.5s     | ok",
		"e2               | done    | b/2   | 001  | 001 | 0s       | failed",
		"e3               | pending | -     | -    | -   | -        | -",
		"e4               | running | b/2   | -    | -   | -        | -",
		"  [e2] failed: boom",
		"  [e5] failed: its host was lost on every attempt (3: c/3, d/4, e/5)",
		"Run r: 5 products: 1 done, 2 failed, 1 pending, 1 running; this host (a/1) did 1.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	RunSummary(&b, "", testRun())
	if strings.Contains(b.String(), "*") || strings.Contains(b.String(), "this host") {
		t.Errorf("status --run-id's summary marks a host:\n%s", b.String())
	}
}

// TestRunDocumentHasTheRunsProducts: a cooperative run's document lists
// the run's products with their host and state, counts them in totals and
// has the run section.
func TestRunDocumentHasTheRunsProducts(t *testing.T) {
	rep := pass.RunReport{Host: "a/1", Progress: testRun(), ExitCode: 1}
	doc := NewDocument(Run{Command: "migrate", Coop: &rep, ExitCode: 1})
	if doc.Run == nil || doc.Run.Host != "a/1" || doc.Run.Done != 1 || doc.Run.Failed != 2 || doc.Run.RunningByHost["b/2"] != 1 {
		t.Fatalf("run section %+v", doc.Run)
	}
	if len(doc.Products) != 5 || doc.Totals != (Totals{Products: 5, OK: 1, Failed: 2, Skipped: 2}) {
		t.Errorf("products %+v, totals %+v; want 5: 1 ok, 2 failed, 2 skipped (not finished)", doc.Products, doc.Totals)
	}
	if p := doc.Products[1]; p.Host != "b/2" || p.RunState != "done" || p.Outcome != pass.Failed || p.Reason != "boom" || p.VersionAfter != "001" {
		t.Errorf("e2: %+v", p)
	}
	if p := doc.Products[2]; p.Outcome != pass.Skipped || p.Reason != "not finished: pending in the run" {
		t.Errorf("e3: %+v", p)
	}
}
