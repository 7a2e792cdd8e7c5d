package supervise

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/event"
	"supervisor/internal/job"
)

// describe is what TestRecordedWorkerStream checks of an event: its kind and
// the fields of that kind but for times (durations vary from one recording
// to the next).
func describe(e event.Event) string {
	switch e.Kind {
	case event.LockWait:
		return fmt.Sprintf("lock_wait timeout=%s", e.Timeout)
	case event.LockAcquired:
		return "lock_acquired"
	case event.FileStarted, event.FileApplied:
		return fmt.Sprintf("%s %d/%d %s %s", e.Kind, e.Index, e.Total, e.Version, e.Description)
	case event.RoutineStarted:
		return fmt.Sprintf("routine_started %s", e.Routine)
	case event.RoutineDone:
		var rows []string
		for _, k := range slices.Sorted(maps.Keys(e.Rows)) {
			rows = append(rows, fmt.Sprintf("%s=%d", k, e.Rows[k]))
		}
		return fmt.Sprintf("routine_done %s %s", e.Routine, strings.Join(rows, " "))
	case event.Result:
		return fmt.Sprintf("result ok=%v status=%s applied=%d error=%q", e.OK, e.Status, e.Applied, e.Error)
	}
	return "unknown " + string(e.Kind)
}

// A recorded worker stream (testdata/README.md), replayed by fake workers
// for its three jobs run side by side, comes out of Run as the typed events
// the real worker logged, per product, in the worker's order, stamped with
// the worker's times; the outcomes agree with the result events.
func TestRecordedWorkerStream(t *testing.T) {
	logs, out := newLogs(t, "json")
	var mu sync.Mutex // Events is called from the workers' stderr readers
	got := map[string][]event.Event{}
	cfg := Config{Command: helperCommand(), Logs: logs, Parallel: 3, Events: func(endpoint string, e event.Event) {
		mu.Lock()
		defer mu.Unlock()
		got[endpoint] = append(got[endpoint], e)
	}}
	jobs := specs("replay.sqlite-migrate", "replay.sqlite-cleanup", "replay.postgres-migrate")
	jobs[1].Action = job.ActionCleanup
	var outcomes []Outcome
	done := make(chan struct{})
	go func() {
		defer close(done)
		outcomes = Run(context.Background(), cfg, jobs)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return within 20s")
	}

	// The CodeChecker-made databases are adopted as 001, so 002 is the one
	// file applied; SQLite's lock is no lock (no lock events), PostgreSQL's
	// was held by another session for about a second.
	want := map[string][]string{
		"replay.sqlite-migrate": {
			"file_started 1/1 002 drop_leftovers",
			"file_applied 1/1 002 drop_leftovers",
			`result ok=true status=ok applied=1 error=""`,
		},
		"replay.sqlite-cleanup": {
			"routine_started remove expired run locks",
			"routine_done remove expired run locks run_locks=3",
			"routine_started remove unused files",
			"routine_done remove unused files extended_report_data=1 file_contents=17 files=15 source_component_files=2",
			"routine_started remove unused comments",
			"routine_done remove unused comments comments=12",
			"routine_started remove unused analysis info",
			"routine_done remove unused analysis info analysis_info=5",
			"routine_started remove unused checker sets",
			"routine_done remove unused checker sets checker_set=3 checker_set_items=80",
			"routine_started upgrade severity levels",
			"routine_done upgrade severity levels severities=0",
			`result ok=true status=ok applied=0 error=""`,
		},
		"replay.postgres-migrate": {
			"lock_wait timeout=30s",
			"lock_acquired",
			"file_started 1/1 002 drop_leftovers",
			"file_applied 1/1 002 drop_leftovers",
			`result ok=true status=ok applied=1 error=""`,
		},
	}
	for endpoint, w := range want {
		var d []string
		for _, e := range got[endpoint] {
			d = append(d, describe(e))
		}
		if !slices.Equal(d, w) {
			t.Errorf("%s: events\n  %s\nwant\n  %s", endpoint, strings.Join(d, "\n  "), strings.Join(w, "\n  "))
		}
	}
	if len(got) != len(want) {
		t.Errorf("events for %v, want for the three jobs only", slices.Sorted(maps.Keys(got)))
	}

	// Times and durations are the worker's, as recorded.
	if evs := got["replay.postgres-migrate"]; len(evs) > 1 {
		wantAt := time.Date(2026, 12, 2, 1, 3, 47, 363856000, time.UTC)
		if e := evs[1]; !e.Time.Equal(wantAt) || e.Duration != 1034*time.Millisecond {
			t.Errorf("lock_acquired at %s after %s, want at %s after 1.034s", e.Time, e.Duration, wantAt)
		}
	}
	if evs := got["replay.sqlite-migrate"]; len(evs) > 1 && evs[1].Duration != 55*time.Millisecond {
		t.Errorf("file 1/1 applied in %s, want 55ms", evs[1].Duration)
	}

	for _, i := range []int{0, 2} {
		if m := outcomes[i]; !m.OK() || m.Result.Applied != 1 {
			t.Errorf("%s: %+v (%v), want OK with 1 file applied", jobs[i].Endpoint, m.Result, m.Err)
		}
	}
	// testdata/codechecker/README.md's counts of the sample's garbage.
	wantRemoved := map[string]int64{"run_locks": 3, "files": 15, "file_contents": 17, "source_component_files": 2,
		"extended_report_data": 1, "comments": 12, "analysis_info": 5, "checker_set": 3, "checker_set_items": 80,
		"severities": 0}
	if c := outcomes[1]; !c.OK() || !maps.Equal(c.Result.Removed, wantRemoved) {
		t.Errorf("cleanup: %+v (%v), want OK, removed %v", c.Result, c.Err, wantRemoved)
	}
	// The event lines are relayed like any other.
	if n := strings.Count(out.String(), `"@message":"applying migration file"`); n != 2 {
		t.Errorf("%d relayed 'applying migration file' lines, want 2\n%s", n, out.String())
	}
}

// The recorded stream's event lines are in the format event.Emit writes:
// each event line, decoded and emitted again through an hclog JSON logger,
// gives the same fields with the same values (so a change to Emit's format
// that the recording no longer matches is seen, and the stream re-recorded).
func TestRecordedStreamIsEmitFormat(t *testing.T) {
	data, err := os.ReadFile(recordedStream)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	events := 0
	for n := 1; sc.Scan(); n++ {
		var rec map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d is not JSON: %v", n, err)
		}
		e, ok := event.Decode(time.Time{}, rec)
		if !ok {
			continue
		}
		events++
		var buf bytes.Buffer
		log := hclog.New(&hclog.LoggerOptions{Output: &buf, JSONFormat: true, Level: hclog.Trace})
		event.Emit(log, hclog.Info, "m", e)
		var emitted map[string]json.RawMessage
		if err := json.Unmarshal(buf.Bytes(), &emitted); err != nil {
			t.Fatal(err)
		}
		for k, v := range emitted {
			if strings.HasPrefix(k, "@") {
				continue
			}
			if !bytes.Equal(rec[k], v) {
				t.Errorf("line %d: %s is %s, event.Emit writes %s", n, k, rec[k], v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if events == 0 {
		t.Error("no event lines in the recorded stream")
	}
}
