package worker

import (
	"context"
	"errors"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/cleanup"
	"supervisor/internal/dbconn"
	"supervisor/internal/job"
	"supervisor/internal/labels"
	"supervisor/internal/migrate"
	"supervisor/internal/status"
	"supervisor/schema"
)

// runCleanup garbage-collects one product database. It only runs on a
// database that is up to date and never touches the schema version. A dry
// run (spec.Options.DryRun) counts what it would remove, on a database
// opened read-only, under the same lock: the lock keeps it from reading a
// database mid-migration.
func runCleanup(ctx context.Context, spec job.Spec, log hclog.Logger) job.Result {
	db, err := open(ctx, spec, false, log)
	if errors.Is(err, dbconn.ErrMissing) {
		return notAttempted(status.Missing)
	}
	if err != nil {
		return job.Result{Status: status.FailedToConnect, Error: explain(spec, dbconn.LockError(err, lockTimeout(spec)), "connect: ", "while connecting")}
	}
	defer db.Close()
	unlock, err := lockProduct(ctx, spec, db, log)
	if err != nil {
		return job.Result{Error: explain(spec, err, "", "before the garbage collection")}
	}
	defer unlock(context.WithoutCancel(ctx))
	st, err := migrate.Inspect(ctx, db, spec.Target.Dialect, schema.Product)
	if err != nil {
		return job.Result{Status: status.FailedToConnect, Error: explain(spec, dbconn.LockError(err, lockTimeout(spec)), "read schema version: ", "while reading the schema version")}
	}
	if st.Status != status.OK {
		return notAttempted(st.Status)
	}
	var lbl *labels.Labels
	if d := spec.Options.SeverityLabels; d != nil {
		lbl = labels.FromDigest(d)
	} else if dir := spec.Options.CheckerLabels; dir != "" {
		if lbl, err = labels.Load(dir); err != nil {
			return job.Result{Status: st.Status, Error: "checker labels: " + err.Error()}
		}
	}
	dry := spec.Options.DryRun
	log.Info(said(dry, "Garbage collection started...", "Garbage collection dry run started: counting what would be removed, writing nothing..."))
	removed, err := cleanup.Run(ctx, db, cleanup.Options{Dialect: spec.Target.Dialect, Labels: lbl, Logger: log, DryRun: dry})
	res := job.Result{Status: status.OK, FromVersion: st.DBVersion, ToVersion: st.DBVersion, Removed: removed}
	if err != nil {
		res.Error = explain(spec, err, "", "during the garbage collection")
		return res
	}
	log.Info(said(dry, "Garbage collection finished.", "Garbage collection dry run finished."))
	res.OK = true
	return res
}

// notAttempted is CodeChecker's answer for a database cleanup cannot touch.
func notAttempted(s status.Status) job.Result {
	return job.Result{Status: s, Error: `Cleanup not attempted, database status is "` + s.Message() + `"`}
}

// said is msg for a real run, dry for a dry run.
func said(dryRun bool, msg, dry string) string {
	if dryRun {
		return dry
	}
	return msg
}
