package pass

import (
	"context"
	"fmt"
	"time"

	"supervisor/internal/job"
	"supervisor/internal/status"
)

// CleanupRow is what became of one product's garbage collection.
type CleanupRow struct {
	Endpoint string
	// Removed counts what was removed or changed, by cleanup key; nil when
	// the worker said nothing.
	Removed  map[string]int64
	Duration time.Duration
	// Err says why the product was not cleaned ("" when it was).
	Err string
	// Skipped is set when it was never started (fail-fast, interrupted).
	Skipped bool
}

// CleanupReport is what Cleanup did.
type CleanupReport struct {
	Stage
	// Rows has one row per product, in endpoint order.
	Rows []CleanupRow
}

// Cleanup garbage-collects every product whose state (Inspect's, or
// Migrate's After) is up to date, in worker processes; the others are
// reported and count as failed. stopped says that --fail-fast already saw a
// product fail (in up's migrate stage): then no worker starts.
func (f *Fleet) Cleanup(ctx context.Context, states []State, stopped bool) CleanupReport {
	var (
		rep   CleanupReport
		specs []job.Spec
		rows  = map[string]CleanupRow{}
		ff    = failFast{on: f.opts.FailFast, hit: stopped}
	)
	switch {
	case f.opts.CheckerLabels == "":
		f.log.Info("no checker labels given (--checker-labels, SUPERVISOR_CHECKER_LABELS) or found (CC_DATA_FILES_DIR, CodeChecker on PATH): the severity upgrade is skipped")
	case f.opts.LabelsFoundVia != "":
		f.log.Info("checker labels found", "dir", f.opts.CheckerLabels, "via", f.opts.LabelsFoundVia)
	}
	for i, st := range states {
		p := f.Products[i]
		row := CleanupRow{Endpoint: p.Endpoint}
		switch {
		case st.Status != status.OK:
			row.Err = fmt.Sprintf("Cleanup not attempted, database status is %q", st.Message)
			f.opts.Logs.Product(p.Endpoint).Warn(row.Err)
			// A broken product trips --fail-fast; one that only awaits an
			// upgrade (declined in up, say) does not.
			if !st.Status.Upgradable() {
				ff.fail()
			}
		case ff.skip():
			row.Err, row.Skipped = errFailFast.Error(), true
		default:
			spec, err := f.spec(p, job.ActionCleanup)
			if err != nil {
				row.Err = err.Error()
				ff.fail()
				break
			}
			spec.Options.CheckerLabels = f.opts.CheckerLabels
			specs = append(specs, spec)
			continue
		}
		rows[p.Endpoint] = row
	}
	outcomes, interrupted := f.run(ctx, specs)
	rep.Interrupted = interrupted
	ff.after(outcomes)
	rep.Stopped = ff.hit
	for _, o := range outcomes {
		row := CleanupRow{Endpoint: o.Spec.Endpoint, Duration: o.Duration, Skipped: o.Skipped}
		if o.Result != nil {
			row.Removed = o.Result.Removed
		}
		if !o.OK() {
			row.Err = f.reason(o)
		}
		rows[o.Spec.Endpoint] = row
	}
	for _, p := range f.Products {
		r := rows[p.Endpoint]
		r.Endpoint = p.Endpoint
		rep.Rows = append(rep.Rows, r)
		rep.Failed = rep.Failed || r.Err != ""
	}
	return rep
}
