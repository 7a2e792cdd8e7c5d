package pass

import (
	"context"
	"fmt"
	"time"

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
// reported and count as failed. stopped says that --fail-fast already saw a
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
	digest := f.labelDigest()
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

// labelDigest parses the checker label directory once for all the workers
// of the pass, which then get only its digest on stdin instead of parsing
// the directory each. nil when no directory is given or it does not load:
// then each worker gets the directory and reports the error for its
// product, as it always has.
func (f *Fleet) labelDigest() labels.Digest {
	if f.labels.made {
		return f.labels.digest
	}
	if f.opts.CheckerLabels == "" {
		return nil
	}
	l, err := labels.Load(f.opts.CheckerLabels)
	if err != nil {
		return nil
	}
	return l.Digest()
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

// fleetLabels is what a cooperative run's host knows of the checker labels
// once for all its products (Cooperate): the digest, and that the log said
// where they come from.
type fleetLabels struct {
	digest     labels.Digest
	made, said bool
}
