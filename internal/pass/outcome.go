package pass

import (
	"sync"
	"time"

	"supervisor/internal/event"
	"supervisor/internal/supervise"
)

// Outcome is the word for what became of one product in an action (the
// tables, the totals line and --json use it as it is).
type Outcome string

// The outcome words of DESIGN.md.
const (
	// OK: the product was upgraded (or was up to date already) or cleaned.
	OK Outcome = "ok"
	// Failed: its worker, or the supervisor's look at it, failed.
	Failed Outcome = "failed"
	// Declined: the operator answered no.
	Declined Outcome = "declined"
	// Skipped: never started, because of --fail-fast or an interrupt (the
	// row's Reason says which).
	Skipped Outcome = "skipped"
	// NotAttempted: cleanup of a product whose database is not up to date.
	NotAttempted Outcome = "not attempted"
)

// reasonDeclined is the Reason of a declined upgrade.
const reasonDeclined = "not upgraded: the answer was no"

// workerOutcome is the word for a worker's outcome; supervise's reason of a
// skipped one says why ("not started: interrupted", "... (fail-fast)").
func workerOutcome(o supervise.Outcome) Outcome {
	switch {
	case o.OK():
		return OK
	case o.Skipped:
		return Skipped
	}
	return Failed
}

// FileApplied is one migration file a worker committed (its file_applied
// event).
type FileApplied struct {
	Version, Description string
	Duration             time.Duration
}

// RoutineDone is one cleanup routine a worker committed (its routine_done
// event): what it removed or changed, by cleanup key.
type RoutineDone struct {
	Routine  string
	Rows     map[string]int64
	Duration time.Duration
}

// collector keeps, per product, the files and routines its worker reported
// as done, and hands every event on to next. Workers run side by side, so
// it locks.
type collector struct {
	next     func(endpoint string, e event.Event)
	mu       sync.Mutex
	files    map[string][]FileApplied
	routines map[string][]RoutineDone
}

func newCollector(next func(string, event.Event)) *collector {
	return &collector{next: next, files: map[string][]FileApplied{}, routines: map[string][]RoutineDone{}}
}

func (c *collector) event(endpoint string, e event.Event) {
	c.mu.Lock()
	switch e.Kind {
	case event.FileApplied:
		c.files[endpoint] = append(c.files[endpoint], FileApplied{Version: e.Version, Description: e.Description, Duration: e.Duration})
	case event.RoutineDone:
		c.routines[endpoint] = append(c.routines[endpoint], RoutineDone{Routine: e.Routine, Rows: e.Rows, Duration: e.Duration})
	}
	c.mu.Unlock()
	if c.next != nil {
		c.next(endpoint, e)
	}
}

// Files are the files endpoint's worker committed, in order.
func (c *collector) Files(endpoint string) []FileApplied {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.files[endpoint]
}

// Routines are the routines endpoint's worker committed, in order.
func (c *collector) Routines(endpoint string) []RoutineDone {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.routines[endpoint]
}

// warnings says each product's trouble once per command: the first warning
// about a product is a warning, a different later one (the consequence:
// "Cleanup not attempted") is information, and the same one again (the
// inspection after the workers) is not repeated. Inspections run side by
// side, so it locks.
type warnings struct {
	mu   sync.Mutex
	said map[string]map[string]bool
}

// warn logs msg about endpoint through f's logs as warnings says.
func (f *Fleet) warn(endpoint, msg string) {
	w := &f.warnings
	w.mu.Lock()
	first := len(w.said[endpoint]) == 0
	again := w.said[endpoint][msg]
	if w.said == nil {
		w.said = map[string]map[string]bool{}
	}
	if w.said[endpoint] == nil {
		w.said[endpoint] = map[string]bool{}
	}
	w.said[endpoint][msg] = true
	w.mu.Unlock()
	log := f.opts.Logs.Product(endpoint)
	switch {
	case again:
	case first:
		log.Warn(msg)
	default:
		log.Info(msg)
	}
}
