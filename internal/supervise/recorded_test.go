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
// for a migrate and a cleanup job run side by side, comes out of Run as the
// typed events the worker logged, per product, in the worker's order,
// stamped with the worker's times; the outcomes agree with the result events.
func TestRecordedWorkerStream(t *testing.T) {
	logs, out := newLogs(t, "json")
	var mu sync.Mutex // Events is called from both workers' stderr readers
	got := map[string][]event.Event{}
	cfg := Config{Command: helperCommand(), Logs: logs, Parallel: 2, Events: func(endpoint string, e event.Event) {
		mu.Lock()
		defer mu.Unlock()
		got[endpoint] = append(got[endpoint], e)
	}}
	jobs := specs("replay.migrate", "replay.cleanup")
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

	want := map[string][]string{
		"replay.migrate": {
			"lock_acquired",
			"file_started 1/2 001 codechecker_baseline",
			"file_applied 1/2 001 codechecker_baseline",
			"file_started 2/2 002 drop_leftovers",
			"file_applied 2/2 002 drop_leftovers",
			`result ok=true status=ok applied=2 error=""`,
		},
		"replay.cleanup": {
			"lock_wait timeout=30s",
			"lock_acquired",
			"routine_started expired run locks",
			"routine_done expired run locks run_locks=1",
			"routine_started unused files",
			"routine_done unused files extended_report_data=0 file_contents=2 files=3 source_component_files=0",
			"routine_started unused comments",
			"routine_done unused comments comments=0",
			"routine_started unused analysis info",
			"routine_done unused analysis info analysis_info=4",
			"routine_started unused checker sets",
			"routine_done unused checker sets checker_set=1 checker_set_items=7",
			`result ok=true status=ok applied=0 error=""`,
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
		t.Errorf("events for %v, want for the two jobs only", slices.Sorted(maps.Keys(got)))
	}

	// Times and durations are the worker's, as recorded.
	if evs := got["replay.cleanup"]; len(evs) > 1 {
		wantAt := time.Date(2026, 12, 2, 0, 37, 45, 720928000, time.UTC)
		if e := evs[1]; !e.Time.Equal(wantAt) || e.Duration != 1200*time.Millisecond {
			t.Errorf("lock_acquired at %s after %s, want at %s after 1.2s", e.Time, e.Duration, wantAt)
		}
	}
	if evs := got["replay.migrate"]; len(evs) > 2 && evs[2].Duration != 31*time.Millisecond {
		t.Errorf("file 1/2 applied in %s, want 31ms", evs[2].Duration)
	}

	if m := outcomes[0]; !m.OK() || m.Result.Applied != 2 {
		t.Errorf("migrate: %+v (%v), want OK with 2 files applied", m.Result, m.Err)
	}
	wantRemoved := map[string]int64{"run_locks": 1, "files": 3, "file_contents": 2, "source_component_files": 0,
		"extended_report_data": 0, "comments": 0, "analysis_info": 4, "checker_set": 1, "checker_set_items": 7}
	if c := outcomes[1]; !c.OK() || !maps.Equal(c.Result.Removed, wantRemoved) {
		t.Errorf("cleanup: %+v (%v), want OK, removed %v", c.Result, c.Err, wantRemoved)
	}
	// The event lines are relayed like any other.
	if n := strings.Count(out.String(), `"@message":"applying migration file"`); n != 2 {
		t.Errorf("%d relayed 'applying migration file' lines, want 2\n%s", n, out.String())
	}
}

// The hand-made event lines of the recorded stream are in the format
// event.Emit writes: each event line, decoded and emitted again through an
// hclog JSON logger, gives the same fields with the same values.
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
