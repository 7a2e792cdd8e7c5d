package pass

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/event"
	"supervisor/internal/job"
	"supervisor/internal/logging"
	"supervisor/internal/status"
	"supervisor/internal/supervise"
	"supervisor/internal/testutil"
)

// testFleet is a fleet over endpoints that logs into the returned buffer
// and asks through ask; it runs no worker as long as nothing is started.
func testFleet(t *testing.T, opts Options, endpoints ...string) (*Fleet, *testutil.SyncBuffer) {
	t.Helper()
	var buf testutil.SyncBuffer
	logs, err := logging.New(&buf, "text", hclog.Info)
	if err != nil {
		t.Fatal(err)
	}
	opts.Logs = logs
	opts.Jobs = 1
	return &Fleet{opts: opts, log: logs.Logger(), Products: products(endpoints...)}, &buf
}

func TestWorkerOutcome(t *testing.T) {
	tests := []struct {
		name string
		o    supervise.Outcome
		want Outcome
	}{
		{"done", supervise.Outcome{Result: &job.Result{OK: true}}, OK},
		{"job failed", supervise.Outcome{Result: &job.Result{Error: "boom"}, Err: supervise.ErrJobFailed}, Failed},
		{"killed", supervise.Outcome{Err: supervise.ErrNoResult}, Failed},
		{"interrupted while running", supervise.Outcome{Err: supervise.ErrInterrupted, Interrupted: true}, Failed},
		{"never started", supervise.Outcome{Err: supervise.ErrSkipped, Skipped: true}, Skipped},
		{"never started, interrupted", supervise.Outcome{Err: supervise.ErrSkipped, Skipped: true, Interrupted: true}, Skipped},
	}
	for _, tt := range tests {
		if got := workerOutcome(tt.o); got != tt.want {
			t.Errorf("%s: workerOutcome = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestMigrateOutcomeWords: Migrate says failed for a product it cannot
// upgrade, declined for one the operator said no to, skipped (with the
// fail-fast reason) for one --fail-fast left out, and asks nothing about
// the skipped or the up-to-date ones. No worker runs.
func TestMigrateOutcomeWords(t *testing.T) {
	var asked []Question
	f, _ := testFleet(t, Options{Ask: func(q Question) bool { asked = append(asked, q); return false }}, "a", "b", "c")
	before := []State{
		{Endpoint: "a", Status: status.OK, DBVersion: "002"},
		{Endpoint: "b", Status: status.SchemaMismatchOK, DBVersion: "001"},
		{Endpoint: "c", Status: status.SchemaMismatchNo, Reason: "at CodeChecker revision x"},
	}
	rep := f.Migrate(context.Background(), before)
	got := map[string]MigrateRow{}
	for _, r := range rep.Rows {
		got[r.Endpoint] = r
	}
	if _, ok := got["a"]; ok || len(rep.Rows) != 2 {
		t.Errorf("rows = %+v, want b and c only", rep.Rows)
	}
	if r := got["b"]; r.Outcome != Declined || r.Reason != "not upgraded: the answer was no" {
		t.Errorf("b = %+v, want declined", r)
	}
	if r := got["c"]; r.Outcome != Failed || !strings.Contains(r.Reason, "NOT possible to upgrade") || !strings.HasSuffix(r.Reason, "at CodeChecker revision x") {
		t.Errorf("c = %+v, want failed with its status", r)
	}
	if len(asked) != 1 || !rep.Failed || len(rep.Before) != 3 {
		t.Errorf("asked %v, failed %v, before %d; want one question, failed, the states kept", asked, rep.Failed, len(rep.Before))
	}
	// A per-product question: 'a' and 'q' answer the remaining ones too.
	if want := (Question{Text: "Do you want to upgrade 'b' to new schema?", Fleet: true}); len(asked) == 1 && asked[0] != want {
		t.Errorf("asked %+v, want %+v", asked[0], want)
	}

	f, _ = testFleet(t, Options{FailFast: true, Ask: func(q Question) bool { t.Errorf("asked %q", q.Text); return true }}, "a", "b")
	rep = f.Migrate(context.Background(), []State{
		{Endpoint: "a", Status: status.FailedToConnect, Reason: "gone"},
		{Endpoint: "b", Status: status.SchemaMismatchOK, DBVersion: "001"},
	})
	if len(rep.Rows) != 2 || rep.Rows[0].Outcome != Failed || rep.Rows[1].Outcome != Skipped || !strings.Contains(rep.Rows[1].Reason, "(fail-fast)") {
		t.Errorf("fail-fast rows = %+v, want a failed, b skipped (fail-fast)", rep.Rows)
	}
}

// TestCleanupOutcomeWords: Cleanup says not attempted for a product that is
// not up to date, and skipped for an up-to-date one --fail-fast leaves out
// after a broken product.
func TestCleanupOutcomeWords(t *testing.T) {
	f, _ := testFleet(t, Options{FailFast: true}, "a", "b", "c")
	rep := f.Cleanup(context.Background(), []State{
		{Endpoint: "a", Status: status.SchemaMismatchOK, Message: status.SchemaMismatchOK.Message()},
		{Endpoint: "b", Status: status.FailedToConnect, Message: status.FailedToConnect.Message()},
		{Endpoint: "c", Status: status.OK},
	}, false)
	want := []Outcome{NotAttempted, NotAttempted, Skipped}
	for i, r := range rep.Rows {
		if r.Outcome != want[i] {
			t.Errorf("%s: %q (%s), want %q", r.Endpoint, r.Outcome, r.Reason, want[i])
		}
	}
	if r := rep.Rows[0]; r.Reason != `database status is "Database schema mismatch! Possible to upgrade."` {
		t.Errorf("a: reason %q", r.Reason)
	}
	if !rep.Failed {
		t.Error("cleanup with nothing cleaned is not failed")
	}
}

// TestWarnOncePerProduct: a product's trouble is one warning per command:
// the inspection after the workers does not repeat it, and the
// consequence (cleanup not attempted) is information after it.
func TestWarnOncePerProduct(t *testing.T) {
	f, buf := testFleet(t, Options{}, "broken", "old")
	f.warn("broken", "Connection failed to the database server. file is not a database")
	f.warn("broken", "Connection failed to the database server. file is not a database")
	f.warn("broken", `Cleanup not attempted, database status is "Connection failed to the database server."`)
	f.warn("old", `Cleanup not attempted, database status is "Database schema mismatch! Possible to upgrade."`)
	out := buf.String()
	if n := strings.Count(out, "[WARN]  [broken]"); n != 1 {
		t.Errorf("broken warned %d times, want once:\n%s", n, out)
	}
	if n := strings.Count(out, "file is not a database"); n != 1 {
		t.Errorf("the same warning logged %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, `[INFO]  [broken] Cleanup not attempted`) || !strings.Contains(out, `[WARN]  [old] Cleanup not attempted`) {
		t.Errorf("log:\n%s\nwant broken's cleanup line as info, old's as its one warning", out)
	}
}

// TestCollectorKeepsFilesAndRoutinesPerProduct: the files and routines the
// workers report done are kept per product, in order, and every event is
// handed on.
func TestCollectorKeepsFilesAndRoutinesPerProduct(t *testing.T) {
	var handed []event.Kind
	c := newCollector(func(_ string, e event.Event) { handed = append(handed, e.Kind) })
	c.event("a", event.Event{Kind: event.FileStarted, Version: "001", Index: 1, Total: 2})
	c.event("a", event.Event{Kind: event.FileApplied, Version: "001", Description: "baseline", Duration: time.Second})
	c.event("b", event.Event{Kind: event.RoutineDone, Routine: "remove unused files", Rows: map[string]int64{"files": 3}, Duration: time.Millisecond})
	c.event("a", event.Event{Kind: event.FileApplied, Version: "002", Description: "drop", Duration: 2 * time.Second})
	c.event("a", event.Event{Kind: event.Result, OK: true})
	if got := c.Files("a"); len(got) != 2 || got[0] != (FileApplied{"001", "baseline", time.Second}) || got[1].Version != "002" {
		t.Errorf("files of a = %+v", got)
	}
	if got := c.Routines("b"); len(got) != 1 || got[0].Routine != "remove unused files" || got[0].Rows["files"] != 3 {
		t.Errorf("routines of b = %+v", got)
	}
	if len(c.Files("b")) != 0 || len(c.Routines("a")) != 0 {
		t.Error("events landed on the wrong product")
	}
	if len(handed) != 5 {
		t.Errorf("handed on %v, want all 5 events", handed)
	}
	newCollector(nil).event("a", event.Event{Kind: event.Result}) // no next: no panic
}
