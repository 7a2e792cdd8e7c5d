package pass

import (
	"supervisor/internal/event"
	"supervisor/internal/job"
	"supervisor/internal/supervise"
)

// Progress follows the workers of each stage as they run, for a live
// display. Begin comes once every question is answered, before the first
// worker of the stage starts, with the stage ("migrate", "cleanup") and the
// products that get a worker, in start order; then Started, Event and
// Finished per product, from the goroutines that run the workers
// (concurrent for different products, and they must return quickly); End
// once every worker is over, before the pass reads the products again or
// returns. A product never started (fail-fast, interrupt) gets no Started
// nor Finished. A stage with no worker to run calls nothing.
type Progress interface {
	Begin(stage string, endpoints []string)
	Started(endpoint string)
	Event(endpoint string, e event.Event)
	Finished(endpoint string, ok bool)
	End()
}

// following is what supervise is told for Options.Events and
// Options.Progress during one stage.
type following struct {
	events   func(endpoint string, e event.Event)
	started  func(job.Spec)
	finished func(supervise.Outcome)
	end      func()
}

// follow begins the Progress of a stage that runs specs (not empty); the
// events go to next, then to the Progress.
func (f *Fleet) follow(specs []job.Spec, next func(endpoint string, e event.Event)) following {
	fw := following{events: next, end: func() {}}
	pr := f.opts.Progress
	if pr == nil {
		return fw
	}
	endpoints := make([]string, len(specs))
	for i, s := range specs {
		endpoints[i] = s.Endpoint
	}
	pr.Begin(string(specs[0].Action), endpoints)
	fw.events = func(endpoint string, e event.Event) {
		if next != nil {
			next(endpoint, e)
		}
		pr.Event(endpoint, e)
	}
	fw.started = func(s job.Spec) { pr.Started(s.Endpoint) }
	fw.finished = func(o supervise.Outcome) { pr.Finished(o.Spec.Endpoint, o.OK()) }
	fw.end = pr.End
	return fw
}
