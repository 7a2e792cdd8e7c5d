package progress

import (
	"testing"
	"time"

	"supervisor/internal/event"
)

var t0 = time.Date(2026, 11, 26, 7, 10, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func TestModelProductLine(t *testing.T) {
	tests := []struct {
		name   string
		events []event.Event
		want   string
	}{
		{"no event yet", nil, "  acme          5s  starting"},
		{"file started", []event.Event{
			{Kind: event.FileStarted, Version: "002", Description: "drop_leftovers", Index: 2, Total: 5},
		}, "  acme          5s  file 2/5 002 drop_leftovers"},
		{"file applied", []event.Event{
			{Kind: event.FileStarted, Version: "002", Index: 2, Total: 5},
			{Kind: event.FileApplied, Version: "002", Index: 2, Total: 5, Duration: time.Second},
		}, "  acme          5s  file 2/5 002 applied"},
		{"routine started", []event.Event{
			{Kind: event.RoutineStarted, Routine: "remove unused files"},
		}, "  acme          5s  remove unused files"},
		{"routine done", []event.Event{
			{Kind: event.RoutineStarted, Routine: "remove unused files"},
			{Kind: event.RoutineDone, Routine: "remove unused files", Rows: map[string]int64{"files": 3}},
		}, "  acme          5s  remove unused files done"},
		{"lock wait open", []event.Event{
			{Kind: event.LockWait, Timeout: 30 * time.Second},
		}, "  acme          5s  waiting for lock 3s (at most 30s)"},
		{"lock wait without a bound", []event.Event{
			{Kind: event.LockWait},
		}, "  acme          5s  waiting for lock 3s"},
		{"lock acquired shows the work again", []event.Event{
			{Kind: event.FileStarted, Version: "001", Index: 1, Total: 3},
			{Kind: event.LockWait, Timeout: 30 * time.Second},
			{Kind: event.LockAcquired, Duration: 3 * time.Second},
		}, "  acme          5s  file 1/3 001"},
		{"result", []event.Event{
			{Kind: event.LockWait},
			{Kind: event.Result, OK: true},
		}, "  acme          5s  finishing"},
		{"unknown kinds change nothing", []event.Event{
			{Kind: event.RoutineStarted, Routine: "vacuum"},
			{Kind: "from_a_newer_worker", Routine: "other"},
		}, "  acme          5s  vacuum"},
		{"a worker's words cannot move the cursor", []event.Event{
			{Kind: event.RoutineStarted, Routine: "x\x1b[2A\r\n\ty"},
		}, `  acme          5s  x\x1b[2A\r\n y`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m model
			// The endpoint column is as wide as the stage's longest endpoint.
			m.begin("migrate", []string{"acme", "longer-one"}, at(0))
			m.started("acme", at(1))
			for _, e := range tc.events {
				m.event("acme", e, at(3))
			}
			if got := m.line("acme", at(6)); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestModelLineOfProductNotRunning(t *testing.T) {
	var m model
	m.begin("cleanup", []string{"a", "b"}, at(0))
	m.started("a", at(0))
	// Events of a product never started, or already finished, are dropped.
	m.event("b", event.Event{Kind: event.RoutineStarted, Routine: "vacuum"}, at(1))
	m.finished("a", true)
	m.event("a", event.Event{Kind: event.RoutineStarted, Routine: "vacuum"}, at(1))
	for _, e := range []string{"a", "b"} {
		if got := m.line(e, at(2)); got != "" {
			t.Errorf("line of %s: got %q, want none", e, got)
		}
	}
}

func TestModelEndpointColumnIsBounded(t *testing.T) {
	var m model
	long := "a-very-long-endpoint-name-of-more-than-thirty-two-characters"
	m.begin("migrate", []string{long, "b"}, at(0))
	m.started("b", at(0))
	want := "  b" + spaces(maxEndpointColumn-1) + "    0s  starting"
	if got := m.line("b", at(0)); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func spaces(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = ' '
	}
	return string(b)
}

// TestModelOverall follows the overall line through a stage of four
// products, two at a time, one failing.
func TestModelOverall(t *testing.T) {
	var m model
	type want struct{ counts, timing string }
	check := func(step string, now time.Time, w want) {
		t.Helper()
		if got := m.counts(); got != w.counts {
			t.Errorf("%s: counts %q, want %q", step, got, w.counts)
		}
		if got := m.timing(now); got != w.timing {
			t.Errorf("%s: timing %q, want %q", step, got, w.timing)
		}
	}
	m.begin("migrate", []string{"a", "b", "c", "d"}, at(0))
	check("begun", at(0), want{"migrate 0/4 done, 0 failed", "elapsed 0s"})
	m.started("a", at(0))
	m.started("b", at(0))
	check("two running", at(5), want{"migrate 0/4 done, 0 failed, 2 running", "elapsed 5s"})
	m.finished("a", true)
	m.started("c", at(10))
	// One of four done in 10s: three more at that pace.
	check("one done", at(10), want{"migrate 1/4 done, 0 failed, 2 running", "elapsed 10s, ETA 30s"})
	m.finished("b", false)
	m.finished("c", true)
	m.started("d", at(20))
	check("three done", at(20), want{"migrate 3/4 done, 1 failed, 1 running", "elapsed 20s, ETA 7s"})
	m.finished("d", true)
	check("all done", at(25), want{"migrate 4/4 done, 1 failed", "elapsed 25s"})
	m.end(at(26))
	// The clock stops at the end: a later redraw shows the same.
	check("ended", at(90), want{"migrate 4/4 done, 1 failed", "elapsed 26s"})
	// A product finished twice, or never started, counts once or not at all.
	if m.finished("d", true) || m.finished("x", false) {
		t.Error("finished counted a product not running")
	}
	check("ended", at(90), want{"migrate 4/4 done, 1 failed", "elapsed 26s"})
}

func TestModelOverallOfAStageCutShort(t *testing.T) {
	var m model
	m.begin("cleanup", []string{"a", "b", "c"}, at(0))
	m.started("a", at(0))
	m.finished("a", false)
	if got, want := m.counts(), "cleanup 1/3 done, 1 failed"; got != want {
		t.Errorf("running: got %q, want %q", got, want)
	}
	m.end(at(3))
	if got, want := m.counts(), "cleanup 1/3 done, 1 failed, 2 not started"; got != want {
		t.Errorf("ended: got %q, want %q", got, want)
	}
	if got, want := m.timing(at(9)), "elapsed 3s"; got != want {
		t.Errorf("ended: got %q, want %q", got, want)
	}
}

func TestShort(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"},
		{1499 * time.Millisecond, "1s"},
		{59 * time.Second, "59s"},
		{2*time.Minute + 5*time.Second, "2m05s"},
		{time.Hour + 2*time.Minute + 30*time.Second, "1h02m"},
	} {
		if got := short(tc.d); got != tc.want {
			t.Errorf("short(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
