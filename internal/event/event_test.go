package event_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/event"
)

// line emits e through a JSON hclog logger, as a worker does, and returns
// the fields of the line it wrote.
func line(t *testing.T, e event.Event, extra ...any) map[string]json.RawMessage {
	t.Helper()
	var buf bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &buf, JSONFormat: true, Level: hclog.Trace})
	event.Emit(log, hclog.Info, "something happened", e, extra...)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not one JSON line: %q: %v", buf.String(), err)
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 2, 1, 2, 3, 0, time.UTC)
	for _, e := range []event.Event{
		{Kind: event.LockWait, Timeout: 30 * time.Second},
		{Kind: event.LockAcquired, Duration: 1500 * time.Millisecond},
		{Kind: event.FileStarted, Version: "003", Description: "severity index", Index: 2, Total: 5},
		{Kind: event.FileApplied, Version: "003", Description: "severity index", Index: 2, Total: 5, Duration: 42 * time.Millisecond},
		{Kind: event.RoutineStarted, Routine: "remove unused files"},
		{Kind: event.RoutineDone, Routine: "remove unused files", Rows: map[string]int64{"files": 15, "file_contents": 17}, Duration: 3 * time.Millisecond},
		{Kind: event.Result, OK: false, Status: "schema_upgrade_failed", Applied: 1, Error: "version 003: boom"},
		{Kind: event.Result, OK: true, Status: "ok"},
	} {
		t.Run(string(e.Kind), func(t *testing.T) {
			got, ok := event.Decode(at, line(t, e, "words", "for people"))
			if !ok {
				t.Fatal("not decoded as an event")
			}
			want := e
			want.Time = at
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

func TestNotAnEvent(t *testing.T) {
	var buf bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &buf, JSONFormat: true})
	log.Info("applying", "version", "003", "index", 1)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if e, ok := event.Decode(time.Time{}, m); ok {
		t.Errorf("a line without %q decoded as %+v", event.Key, e)
	}
}

// The counts of a routine are written in the emitter's order, so the
// relayed line reads in routine order.
func TestRowKeysOrder(t *testing.T) {
	args := event.Event{Kind: event.RoutineDone, Routine: "r", Rows: map[string]int64{"b": 1, "a": 2}, RowKeys: []string{"b", "a"}}.Args()
	var keys []string
	for i := 0; i < len(args); i += 2 {
		keys = append(keys, args[i].(string))
	}
	if got := strings.Join(keys, ","); got != "event,routine,b,a,duration" {
		t.Errorf("keys = %s", got)
	}
}
