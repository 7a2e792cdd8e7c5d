package cleanup

import (
	"bufio"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/dbconn"
	"supervisor/internal/event"
	"supervisor/internal/testutil"
)

// Every routine is one routine_started and one routine_done event on the
// worker's JSON log stream, in routine order, and what the routine_done
// events carry as Rows adds up to Run's counts: a consumer of the events
// (the summary, the progress display) gets the counts without reading log
// text, and no other integer of a routine_done line is taken for a count.
func TestRoutineEventsCarryTheCounts(t *testing.T) {
	db := openSQLite(t, copySample(t))
	buf := &testutil.SyncBuffer{}
	log := hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: buf, JSONFormat: true})
	got, err := Run(context.Background(), db, Options{
		Dialect: dbconn.SQLite, Labels: loadFixtureLabels(t), Now: fixedNow, BatchSize: 4, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	var started, done []string
	sum := map[string]int64{}
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	for sc.Scan() {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &fields); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		e, ok := event.Decode(time.Time{}, fields)
		if !ok {
			continue
		}
		switch e.Kind {
		case event.RoutineStarted:
			started = append(started, e.Routine)
		case event.RoutineDone:
			done = append(done, e.Routine)
			for k, n := range e.Rows {
				if !slices.Contains(Keys, k) {
					t.Errorf("%s: routine_done carries the integer %s=%d, which is no count", e.Routine, k, n)
				}
				sum[k] += n
			}
		}
	}
	want := []string{"remove expired run locks", "remove unused files", "remove unused comments",
		"remove unused analysis info", "remove unused checker sets", "upgrade severity levels"}
	if !slices.Equal(started, want) || !slices.Equal(done, want) {
		t.Errorf("routines started %q, done %q; want both %q", started, done, want)
	}
	// A count of 0 may be written or left out.
	maps.DeleteFunc(got, func(_ string, n int64) bool { return n == 0 })
	maps.DeleteFunc(sum, func(_ string, n int64) bool { return n == 0 })
	if !maps.Equal(sum, got) {
		t.Errorf("the routine_done events add up to %v, want Run's counts %v", sum, got)
	}
}
