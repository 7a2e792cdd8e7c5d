package progress

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"supervisor/internal/event"
	"supervisor/internal/progress/screen"
	"supervisor/internal/testutil"
)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// testDisplay is a Display on a buffer, redrawn only when redraw says (and
// by End).
type testDisplay struct {
	*Display
	out   *testutil.SyncBuffer
	clock *clock
}

func newTestDisplay() *testDisplay {
	td := &testDisplay{out: &testutil.SyncBuffer{}, clock: &clock{now: t0}}
	td.Display = New(td.out, Options{Now: td.clock.Now, RefreshRate: 24 * time.Hour})
	return td
}

// redraw asks for a redraw now and returns once it is drawn: mpb takes
// each request in turn, so the third is taken only once the first one's
// drawing is over.
func (d *Display) redraw() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for range 3 {
		d.refresh <- struct{}{}
	}
}

func (td *testDisplay) screen(t *testing.T) []string {
	t.Helper()
	lines, err := screen.Render(td.out.Bytes(), 80)
	if err != nil {
		t.Fatalf("render %q: %v", td.out.Bytes(), err)
	}
	return lines
}

// TestDisplayFinalScreenHoldsNoProductLine follows a stage of three
// products: the product lines are drawn while they run, the log lines
// scroll above the bars, and the final screen holds the log lines and the
// overall bar with the final counts, no product line.
func TestDisplayFinalScreenHoldsNoProductLine(t *testing.T) {
	td := newTestDisplay()
	fmt.Fprintln(td, "log before the stage")
	td.Begin("migrate", []string{"alpha", "beta", "gamma"})
	td.Started("alpha")
	td.Started("beta")
	td.Event("alpha", event.Event{Kind: event.FileStarted, Version: "002", Description: "drop_leftovers", Index: 1, Total: 2})
	td.Event("beta", event.Event{Kind: event.LockWait, Timeout: 30 * time.Second})
	td.clock.set(at(4))
	fmt.Fprintln(td, "log while alpha and beta run")
	td.redraw()
	running := td.screen(t)
	want := []string{
		"log before the stage",
		"log while alpha and beta run",
		"migrate 0/3 done, 0 failed, 2 running [----------------------------] elapsed 4s",
		"  alpha    4s  file 1/2 002 drop_leftovers",
		"  beta     4s  waiting for lock 4s (at most 30s)",
	}
	if !slices.Equal(running, want) {
		t.Errorf("screen while two run:\n%s\nwant\n%s", strings.Join(running, "\n"), strings.Join(want, "\n"))
	}

	td.Finished("alpha", true)
	td.Started("gamma")
	td.clock.set(at(6))
	td.redraw()
	td.Finished("beta", false)
	td.Finished("gamma", true)
	fmt.Fprintln(td, "log as the last one ends")
	td.clock.set(at(8))
	td.End()
	fmt.Fprintln(td, "log after the stage")
	got := td.screen(t)
	want = []string{
		"log before the stage",
		"log while alpha and beta run",
		"log as the last one ends",
		"migrate 3/3 done, 1 failed [============================] elapsed 8s",
		"log after the stage",
	}
	if !slices.Equal(got, want) {
		t.Errorf("final screen:\n%s\nwant\n%s\nbytes %q", strings.Join(got, "\n"), strings.Join(want, "\n"), td.out.Bytes())
	}
	// gamma's line was drawn once, between the two redraws, then removed.
	if !bytes.Contains(td.out.Bytes(), []byte("  gamma ")) {
		t.Errorf("gamma's line was never drawn: %q", td.out.Bytes())
	}
}

// TestDisplayStageCutShort: products never started are counted as such,
// and a product still running when End comes (a Finished that never
// came) leaves no line behind.
func TestDisplayStageCutShort(t *testing.T) {
	td := newTestDisplay()
	td.Begin("cleanup", []string{"a", "b", "c", "d"})
	td.Started("a")
	td.Started("b")
	td.Event("b", event.Event{Kind: event.RoutineStarted, Routine: "remove unused files"})
	td.redraw()
	td.Finished("a", false)
	td.clock.set(at(2))
	td.End()
	got := td.screen(t)
	want := []string{"cleanup 1/4 done, 1 failed, 1 running, 2 not started [===>----------] elapsed 2s"}
	if !slices.Equal(got, want) {
		t.Errorf("final screen:\n%s\nwant\n%s\nbytes %q", strings.Join(got, "\n"), strings.Join(want, "\n"), td.out.Bytes())
	}
}

// TestDisplayTwoStages: up draws migrate, then cleanup; each stage's
// final bar stays where it ended, and what comes between (the tables)
// is not overwritten.
func TestDisplayTwoStages(t *testing.T) {
	td := newTestDisplay()
	td.Begin("migrate", []string{"a"})
	td.Started("a")
	td.redraw()
	td.Finished("a", true)
	td.End()
	fmt.Fprintln(td, "a table between the stages")
	td.Begin("cleanup", []string{"a"})
	td.Started("a")
	td.redraw()
	td.Finished("a", true)
	td.End()
	td.End() // once more: nothing
	got := td.screen(t)
	want := []string{
		"migrate 1/1 done, 0 failed [============================] elapsed 0s",
		"a table between the stages",
		"cleanup 1/1 done, 0 failed [============================] elapsed 0s",
	}
	if !slices.Equal(got, want) {
		t.Errorf("final screen:\n%s\nwant\n%s\nbytes %q", strings.Join(got, "\n"), strings.Join(want, "\n"), td.out.Bytes())
	}
}

// TestDisplayWithoutStageWritesLogsAsGiven: between stages the Display is
// a plain writer: not one byte added.
func TestDisplayWithoutStageWritesLogsAsGiven(t *testing.T) {
	td := newTestDisplay()
	const line = "2026-11-26T07:10:00.123Z [INFO]  [acme] applied file: version=002\n"
	fmt.Fprint(td, line)
	td.Started("acme") // no stage: ignored
	td.Finished("acme", true)
	td.End()
	if got := string(td.out.Bytes()); got != line {
		t.Errorf("got %q, want %q", got, line)
	}
}
