package supervise

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"supervisor/internal/event"
)

// readStamp is the time the supervisor stamps on a line it relays.
var readStamp = regexp.MustCompile(`"@timestamp":"[^"]*"`)

// feed writes lines through a sink relaying to a fresh JSON log and handing
// events to a collector (none when collect is false), and returns the
// relayed output, the events and the sink.
func feed(t *testing.T, collect bool, lines ...string) (string, []event.Event, *stderrSink) {
	t.Helper()
	logs, out := newLogs(t, "json")
	var got []event.Event
	var events func(event.Event)
	if collect {
		events = func(e event.Event) { got = append(got, e) }
	}
	s := newStderrSink(logs.Relay("p"), events)
	for _, l := range lines {
		if _, err := s.Write([]byte(l + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	s.Flush()
	return out.String(), got, s
}

// Only a worker's hclog JSON line that carries event.Key with a kind reaches
// the sink, a kind this build does not know included; anything else that
// looks like one (the key in text, in a line that is no hclog entry, with a
// value that is no kind) is relayed and no more.
func TestSinkDecodesEventLinesOnly(t *testing.T) {
	at := time.Date(2026, 12, 2, 1, 2, 3, 456000000, time.UTC)
	for _, tc := range []struct {
		name string
		line string
		want *event.Event
	}{
		{"file applied", `{"@level":"info","@message":"applied migration file","@timestamp":"2026-12-02T01:02:03.456Z","event":"file_applied","version":"003","description":"severity index","index":2,"total":5,"duration":"42ms"}`,
			&event.Event{Kind: event.FileApplied, Time: at, Version: "003", Description: "severity index", Index: 2, Total: 5, Duration: 42 * time.Millisecond}},
		{"unknown kind", `{"@level":"debug","@message":"from a newer worker","@timestamp":"2026-12-02T01:02:03.456Z","event":"vacuum_done","routine":"vacuum"}`,
			&event.Event{Kind: "vacuum_done", Time: at, Routine: "vacuum"}},
		{"no timestamp", `{"@level":"info","@message":"m","event":"routine_started","routine":"unused files"}`,
			&event.Event{Kind: event.RoutineStarted, Routine: "unused files"}},
		{"bad field values", `{"@level":"info","@message":"m","event":"file_started","index":"two","total":null,"duration":true}`,
			&event.Event{Kind: event.FileStarted}},
		{"plain log line", `{"@level":"info","@message":"applying migration file","version":"003"}`, nil},
		{"kind not a string", `{"@level":"info","@message":"m","event":5}`, nil},
		{"empty kind", `{"@level":"info","@message":"m","event":""}`, nil},
		{"null kind", `{"@level":"info","@message":"m","event":null}`, nil},
		{"object kind", `{"@level":"info","@message":"m","event":{"kind":"result"}}`, nil},
		{"no message", `{"@level":"info","event":"result","ok":true}`, nil},
		{"unknown level", `{"@level":"loud","@message":"m","event":"result"}`, nil},
		{"cut short", `{"@level":"info","@message":"m","event":"result"`, nil},
		{"text", `event=result ok=true {"event":"result"}`, nil},
		{"the result record", `{"endpoint":"p","ok":true,"status":"ok","event":"result"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			relayed, got, _ := feed(t, true, tc.line)
			var want []event.Event
			if tc.want != nil {
				want = []event.Event{*tc.want}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("events %+v, want %+v", got, want)
			}
			// Relayed as it was before events were decoded at all (but
			// for the stamps: a line without one is stamped when it is read).
			plain, _, _ := feed(t, false, tc.line)
			if readStamp.ReplaceAllString(relayed, "") != readStamp.ReplaceAllString(plain, "") {
				t.Errorf("relayed with an event sink:\n%s\nwithout:\n%s", relayed, plain)
			}
			if relayed == "" {
				t.Error("the line was not relayed")
			}
		})
	}
}

// A result event repeats the result record, which a failure reason quotes
// already: it stays out of the tail kept for the reason; other event lines
// (where the worker was when it died) stay in it.
func TestResultEventLeftOutOfFailureTail(t *testing.T) {
	_, _, s := feed(t, false,
		`{"@level":"info","@message":"applying migration file","event":"file_started","version":"003","index":1,"total":1}`,
		`{"@level":"debug","@message":"job finished","event":"result","ok":false,"status":"schema_upgrade_failed","error":"version 003: boom"}`,
	)
	tail := strings.Join(s.LastLines(), " | ")
	if !strings.Contains(tail, "applying migration file") || strings.Contains(tail, "job finished") {
		t.Errorf("kept tail %q; want the file_started line and not the result event", tail)
	}
}
