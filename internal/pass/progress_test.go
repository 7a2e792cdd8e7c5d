package pass

import (
	"fmt"
	"slices"
	"testing"

	"supervisor/internal/event"
	"supervisor/internal/job"
	"supervisor/internal/supervise"
)

// recorder is a Progress that writes down what it is told.
type recorder struct{ calls []string }

func (r *recorder) Begin(stage string, endpoints []string) {
	r.calls = append(r.calls, fmt.Sprintf("begin %s %v", stage, endpoints))
}
func (r *recorder) Started(e string) { r.calls = append(r.calls, "started "+e) }
func (r *recorder) Event(e string, ev event.Event) {
	r.calls = append(r.calls, fmt.Sprintf("event %s %s", e, ev.Kind))
}
func (r *recorder) Finished(e string, ok bool) {
	r.calls = append(r.calls, fmt.Sprintf("finished %s %v", e, ok))
}
func (r *recorder) End() { r.calls = append(r.calls, "end") }

// TestFollowTellsProgressAndEvents: a stage's Progress hears of the stage,
// its products and their events, and Options.Events still gets every event.
func TestFollowTellsProgressAndEvents(t *testing.T) {
	var rec recorder
	var events []string
	f := &Fleet{opts: Options{Progress: &rec, Events: func(e string, ev event.Event) {
		events = append(events, e+" "+string(ev.Kind))
	}}}
	specs := []job.Spec{{Action: job.ActionCleanup, Endpoint: "a"}, {Action: job.ActionCleanup, Endpoint: "b"}}
	fw := f.follow(specs, f.opts.Events)
	fw.started(specs[0])
	fw.events("a", event.Event{Kind: event.RoutineStarted})
	fw.finished(supervise.Outcome{Spec: specs[0], Err: supervise.ErrTimeout})
	fw.end()
	want := []string{"begin cleanup [a b]", "started a", "event a routine_started", "finished a false", "end"}
	if !slices.Equal(rec.calls, want) {
		t.Errorf("progress heard %q, want %q", rec.calls, want)
	}
	if want := []string{"a routine_started"}; !slices.Equal(events, want) {
		t.Errorf("events got %q, want %q", events, want)
	}
}

// TestFollowWithoutProgress hands supervise the events sink as given and
// no hooks.
func TestFollowWithoutProgress(t *testing.T) {
	f := &Fleet{}
	fw := f.follow([]job.Spec{{Action: job.ActionMigrate, Endpoint: "a"}}, nil)
	if fw.events != nil || fw.started != nil || fw.finished != nil {
		t.Errorf("hooks set without a Progress: %+v", fw)
	}
	fw.end()
}
