package pass

import (
	"context"
	"fmt"
	"time"

	"supervisor/internal/cleanup"
	"supervisor/internal/job"
	"supervisor/internal/labels"
	"supervisor/internal/status"
)

// CleanupRow is what became of one product's garbage collection.
type CleanupRow struct {
	Endpoint string
	// Removed counts what was removed or changed, by cleanup key; nil when
	// the worker said nothing.
	Removed map[string]int64
	// Routines are the routines its worker reported committed, in order
	// (its routine_done events).
	Routines []RoutineDone
	Duration time.Duration
	// Outcome is the word for it; Reason says why it is not OK ("" when it
	// is): the failure, the status that kept cleanup from being attempted,
	// or why it was never started (fail-fast, interrupted).
	Outcome Outcome
	Reason  string
	// PeakRSS is its worker's peak resident set size in bytes (0: no worker
	// ran, or unknown); LastOutput the last stderr lines of a worker that failed.
	PeakRSS    int64
	LastOutput []string
	// NothingToDo says the supervisor's read-only check found nothing to
	// remove, change or warn about (cleanup.Pending): no worker ran, and
	// Removed is all zeros (Outcome OK).
	NothingToDo bool
}

// CleanupReport is what Cleanup did.
type CleanupReport struct {
	Stage
	// DryRun says the rows' Removed counts are what would have been
	// removed: nothing was written.
	DryRun bool
	// Rows has one row per product, in endpoint order.
	Rows []CleanupRow
}

// Cleanup garbage-collects every product whose state (Inspect's, or
// Migrate's After) is up to date, in worker processes; the others are
// reported and count as failed. A product whose state says the garbage
// check (Options.CheckGarbage) found nothing to do gets no worker: its row
// is OK with zero counts and NothingToDo. One the check did not clear (not
// run, something found, or the check failed: locked, an error) gets its
// worker, which does the work or reports the real reason. stopped says that --fail-fast already saw a
// product fail (in up's migrate stage): then no worker starts.
func (f *Fleet) Cleanup(ctx context.Context, states []State, stopped bool) CleanupReport {
	var (
		rep   = CleanupReport{DryRun: f.opts.DryRun}
		specs []job.Spec
		rows  = map[string]CleanupRow{}
		ff    = newFailFast(f.opts)
	)
	ff.stopped = stopped
	if !f.labels.said {
		f.sayLabels()
	}
	digest, _ := f.cleanupLabels()
	for i, st := range states {
		p := f.Products[i]
		row := CleanupRow{Endpoint: p.Endpoint, Outcome: Failed}
		switch {
		case st.Status != status.OK:
			row.Outcome = NotAttempted
			row.Reason = fmt.Sprintf("database status is %q", st.Message)
			f.warn(p.Endpoint, "Cleanup not attempted, "+row.Reason)
			// A broken product trips --fail-fast; one that only awaits an
			// upgrade (declined in up, say) does not.
			if !st.Status.Upgradable() {
				ff.fail()
			}
		case ff.skip():
			row.Outcome, row.Reason = Skipped, errFailFast.Error()
		case st.garbage == garbageNone:
			row.Outcome, row.NothingToDo = OK, true
			row.Removed = make(map[string]int64, len(cleanup.Keys))
			for _, k := range cleanup.Keys {
				row.Removed[k] = 0
			}
			f.opts.Logs.Product(p.Endpoint).Info("nothing to remove or change (read-only check): no worker started")
		default:
			spec, err := f.spec(p, job.ActionCleanup)
			if err != nil {
				row.Reason = err.Error()
				ff.fail()
				break
			}
			spec.Options.CheckerLabels, spec.Options.DryRun = f.opts.CheckerLabels, f.opts.DryRun
			if digest != nil {
				spec.Options.CheckerLabels, spec.Options.SeverityLabels = "", digest
			}
			specs = append(specs, spec)
			continue
		}
		rows[p.Endpoint] = row
	}
	events := newCollector(f.opts.Events)
	outcomes, interrupted := f.run(ctx, specs, events, f.opts.Jobs, &ff)
	rep.Interrupted = interrupted
	rep.Stopped = ff.skip()
	for _, o := range outcomes {
		row := CleanupRow{Endpoint: o.Spec.Endpoint, Duration: o.Duration, Outcome: workerOutcome(o),
			Routines: events.Routines(o.Spec.Endpoint), PeakRSS: o.PeakRSS}
		if o.Result != nil {
			row.Removed = o.Result.Removed
		}
		if !o.OK() {
			row.Reason, row.LastOutput = f.reason(o), o.LastOutput
		}
		rows[o.Spec.Endpoint] = row
	}
	for _, p := range f.Products {
		r := rows[p.Endpoint]
		r.Endpoint = p.Endpoint
		rep.Rows = append(rep.Rows, r)
		rep.Failed = rep.Failed || r.Outcome != OK
	}
	return rep
}

// cleanupLabels parses the checker label directory once for the whole
// pass: the workers get only its digest on stdin instead of parsing the
// directory each, and the garbage check (Inspect) its severity view, the
// one the workers rebuild from the digest. Both nil when no directory is
// given or it does not load: then each worker gets the directory and
// reports the error for its product, as it always has, and no check is
// made (see checkGarbage). Safe for concurrent use.
func (f *Fleet) cleanupLabels() (labels.Digest, *labels.Labels) {
	f.labels.once.Do(func() {
		if f.opts.CheckerLabels == "" {
			return
		}
		l, err := labels.Load(f.opts.CheckerLabels)
		if err != nil {
			return
		}
		f.labels.digest = l.Digest()
		f.labels.view = labels.FromDigest(f.labels.digest)
	})
	return f.labels.digest, f.labels.view
}

// shareLabels gives f, a fleet of one of host's products (a cooperative
// host's, see runOne), host's checker labels, loaded once for all of them,
// and whether the log said where they come from.
func (f *Fleet) shareLabels(host *Fleet) {
	digest, view := host.cleanupLabels()
	f.labels.once.Do(func() { f.labels.digest, f.labels.view = digest, view })
	f.labels.said = host.labels.said
}

// sayLabels logs where the checker labels come from, or that there are none.
func (f *Fleet) sayLabels() {
	switch {
	case f.opts.CheckerLabels == "":
		f.log.Info("no checker labels given (--checker-labels, SUPERVISOR_CHECKER_LABELS) or found (CC_DATA_FILES_DIR, CodeChecker on PATH): the severity upgrade is skipped")
	case f.opts.LabelsFoundVia != "":
		f.log.Info("checker labels found", "dir", f.opts.CheckerLabels, "via", f.opts.LabelsFoundVia)
	}
}
