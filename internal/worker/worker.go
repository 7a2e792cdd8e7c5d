// Package worker is one worker process, the child side of the job protocol
// (package job): Serve reads the spec, handles the signals and the
// parent-death pipe and writes the result (serve.go); Run is what the
// worker does for its one product: open its database, take its lock, run
// the migrations or the garbage collection, and say how it went in one
// result record. It runs in the supervisor binary's hidden worker mode and
// in cmd/worker.
package worker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/buildinfo"
	"supervisor/internal/dbconn"
	"supervisor/internal/job"
	"supervisor/internal/logging"
	"supervisor/internal/migrate"
	"supervisor/internal/status"
	"supervisor/schema"
)

// Run runs spec and returns its result; it honours ctx (SIGTERM or the
// supervisor's death), rolling back the open transaction. The result's
// Endpoint and Duration are left for Serve, which fills them for every job.
func Run(ctx context.Context, spec job.Spec, log hclog.Logger) job.Result {
	var res job.Result
	switch spec.Action {
	case job.ActionMigrate:
		res = runMigrate(ctx, spec, log)
	case job.ActionCleanup:
		res = runCleanup(ctx, spec, log)
	case job.ActionBaseline:
		res = runBaseline(ctx, spec, log)
	default:
		res = job.Result{Error: fmt.Sprintf("unknown action %q", spec.Action)}
	}
	if err := context.Cause(ctx); err != nil && !res.OK && res.Error != "" {
		res.Error += " (" + err.Error() + ")"
	}
	return res
}

// open opens the product database; create allows making a new SQLite file.
//
// On PostgreSQL every statement of the job waits at most the lock timeout
// for a lock held by another session (lock_timeout), and a wait is logged
// when it starts: a table lock held by a leftover backend (a killed
// worker's CREATE INDEX still running) or a long transaction must neither
// stall the job past --lock-timeout nor keep it waiting silently. The
// session also has client_connection_check_interval set (dbconn), so that
// if this worker is killed, its own statement stops soon after.
func open(ctx context.Context, spec job.Spec, create bool, log hclog.Logger) (*sql.DB, error) {
	t := spec.Target
	lock := lockTimeout(spec)
	if create && t.Dialect == dbconn.SQLite {
		if err := os.MkdirAll(filepath.Dir(t.Path), 0o755); err != nil {
			return nil, err
		}
	}
	o := dbconn.Options{
		Create:         create,
		ImmediateTx:    true,
		BusyTimeout:    lock,
		ConnectTimeout: spec.Options.ConnectTimeout,
	}
	if spec.Options.DryRun {
		// A dry run opens a SQLite file read-only, so that any write is an
		// error; on PostgreSQL its cleanup transactions are read-only.
		o.ReadOnly, o.ImmediateTx = true, false
	}
	if t.Dialect == dbconn.Postgres {
		o.LockTimeout = lock
		o.OnLockWait = func(w dbconn.LockWait) {
			held := make([]string, len(w.Blockers))
			for i, b := range w.Blockers {
				held[i] = b.String()
			}
			log.Warn("waiting for a lock held by another session",
				"statement", logging.OneLineCut(w.Statement, 200), "lock", w.Lock, "held_by", strings.Join(held, "; "),
				"lock_timeout", lock.String())
		}
	}
	return dbconn.Open(ctx, t, o)
}

// explain is err, an error of the job's work on its database, as a
// reason: said as what happened when the session was lost
// (dbconn.Explain), with where it happened ("the PostgreSQL server shut
// down during the garbage collection: ..."), else what prefix says the job
// was doing, then err (always so on SQLite). An error that says it already (a FileError, an
// error holding a LostError) is left as it is.
func explain(spec job.Spec, err error, prefix, during string) string {
	var lost *dbconn.LostError
	if errors.As(err, &lost) {
		return err.Error()
	}
	if spec.Target.Dialect != dbconn.Postgres {
		return prefix + err.Error()
	}
	err = dbconn.Explain(err, lockTimeout(spec))
	if errors.As(err, &lost) {
		msg := lost.What() + " " + during
		if d := lost.Detail(); d != "" {
			msg += ": " + d
		}
		return msg
	}
	return prefix + err.Error()
}

// lockTimeout is the job's lock timeout, dbconn.DefaultLockTimeout unless
// the spec says.
func lockTimeout(spec job.Spec) time.Duration {
	if spec.Options.LockTimeout > 0 {
		return spec.Options.LockTimeout
	}
	return dbconn.DefaultLockTimeout
}

func runMigrate(ctx context.Context, spec job.Spec, log hclog.Logger) job.Result {
	if res, done := initAside(ctx, spec, log); done {
		return res
	}
	// Opening and reading a SQLite database wait, up to the lock timeout,
	// for a writer that holds it exclusively (another supervisor's migration
	// spilling its cache or committing): say so when that wait runs out.
	db, err := open(ctx, spec, true, log)
	if err != nil {
		return job.Result{Status: status.FailedToConnect, Error: explain(spec, dbconn.LockError(err, lockTimeout(spec)), "connect: ", "while connecting")}
	}
	defer db.Close()
	return migrateDB(ctx, spec, db, log)
}

// migrateDB is runMigrate's work on the open database db.
func migrateDB(ctx context.Context, spec job.Spec, db *sql.DB, log hclog.Logger) job.Result {
	lock := lockTimeout(spec)
	// The state is read once, under the lock: what it says is pending is
	// what this job applies (each file still checks its revision row again
	// in its own transaction, for a supervisor that does not lock).
	unlock, err := lockProduct(ctx, spec, db, log)
	if err != nil {
		return job.Result{Status: status.SchemaUpgradeFailed, Error: explain(spec, err, "", "during the upgrade")}
	}
	defer unlock(context.WithoutCancel(ctx))
	st, err := migrate.Inspect(ctx, db, spec.Target.Dialect, schema.Product)
	if err != nil {
		return job.Result{Status: status.FailedToConnect, Error: explain(spec, dbconn.LockError(err, lock), "read schema version: ", "while reading the schema version")}
	}
	res := job.Result{FromVersion: st.DBVersion, ToVersion: st.DBVersion, Status: st.Status}
	if st.Status == status.OK {
		log.Info("database is up to date", "version", st.DBVersion)
		res.OK = true
		return res
	}
	to := spec.Options.ToVersion
	if to != "" && st.Status == status.SchemaMismatchOK && job.AtOrPast(st.DBVersion, to) {
		log.Info("database is at or past the target version: left alone", "version", st.DBVersion, "target", to)
		res.OK = true
		return res
	}
	target := st.PackageVersion
	if to != "" {
		target = to
	}
	log.Info("upgrading database", "from", display(st.DBVersion), "to", target, "pending_files", len(st.Pending))
	up, err := migrate.Apply(ctx, db, spec.Target.Dialect, schema.Product, st, migrate.Options{
		LockTimeout: spec.Options.LockTimeout,
		BackupDir:   spec.Options.BackupDir,
		BackupName:  spec.Endpoint,
		Operator:    buildinfo.Operator(),
		ToVersion:   to,
		Logger:      log,
	})
	res.Applied = len(up.Applied)
	if up.To != "" {
		res.ToVersion = up.To
	}
	if err != nil {
		res.Status = status.SchemaUpgradeFailed
		if st.Status == status.SchemaMissing {
			res.Status = status.SchemaInitError
		}
		if errors.Is(err, migrate.ErrNotUpgradable) {
			res.Status = st.Status
		}
		res.Error = explain(spec, err, "", "during the upgrade")
		return res
	}
	// Every pending file is committed (by this job or, for a file whose
	// revision row was there when its transaction began, by another
	// process): the database is at the packaged version, up.To, with
	// nothing left pending, unless the job's ToVersion stopped it short:
	// then it is at that version, upgradable still.
	res.Status, res.OK = status.OK, true
	if to != "" && res.ToVersion != st.PackageVersion {
		res.Status = status.SchemaMismatchOK
	}
	log.Info("database upgraded", "from", display(st.DBVersion), "to", res.ToVersion, "files_applied", res.Applied)
	return res
}

// runBaseline records the product's revisions up to spec.Options.Baseline
// as a baseline (migrate.Baseline: the schema is compared first, under the
// lock, and nothing is executed).
func runBaseline(ctx context.Context, spec job.Spec, log hclog.Logger) job.Result {
	db, err := open(ctx, spec, false, log)
	if err != nil {
		return job.Result{Status: status.FailedToConnect, Error: explain(spec, dbconn.LockError(err, lockTimeout(spec)), "connect: ", "while connecting")}
	}
	defer db.Close()
	version := spec.Options.Baseline
	b, err := migrate.Baseline(ctx, db, spec.Target.Dialect, schema.Product, version, migrate.Options{
		LockTimeout: spec.Options.LockTimeout, Operator: buildinfo.Operator(), Logger: log,
	})
	res := job.Result{FromVersion: b.From, ToVersion: b.From}
	if err != nil {
		res.Error = explain(spec, err, "baseline "+version+": ", "while recording the baseline")
		return res
	}
	res.OK, res.ToVersion = true, version
	log.Info("baseline recorded, nothing executed", "from", display(b.From), "version", version, "recorded", strings.Join(b.Recorded, ","))
	return res
}

func display(v string) string {
	if v == "" {
		return "none"
	}
	return v
}
