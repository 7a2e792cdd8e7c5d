package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqlclient"
	"github.com/hashicorp/go-hclog"

	"supervisor/internal/dbconn"
	"supervisor/internal/event"
	"supervisor/internal/logging"
	"supervisor/internal/status"
	"supervisor/schema"
)

// Options tune an upgrade.
type Options struct {
	// LockTimeout bounds the wait for the database's lock (default 30s).
	LockTimeout time.Duration
	// BackupDir, when set, receives a consistent copy of a SQLite database
	// (VACUUM INTO) before its first pending file is applied.
	BackupDir string
	// BackupName prefixes the backup file name (the product endpoint).
	BackupName string
	// Operator is recorded as the operator version of each applied file.
	Operator string
	// ToVersion stops after this version ("" = the latest packaged one). Tests,
	// the demo and the fleet generator use it to make databases at older versions.
	ToVersion string
	// Logger receives one line per event; nil discards.
	Logger hclog.Logger
}

// Result says what an upgrade did.
type Result struct {
	From, To string
	// Applied lists the versions executed (a baseline is not counted).
	Applied []string
	// Adopted is set when a CodeChecker database was adopted as version 001.
	Adopted bool
	// Backup is the backup file written, if any.
	Backup string
}

// Upgrade applies every pending packaged file to db, one transaction per file
// (on SQLite as atlas's sqlite.OpenTx does it, with atlas's own CommitFunc:
// foreign keys off before BEGIN, PRAGMA foreign_key_check before COMMIT, so a
// table rebuild does not cascade-delete child rows; see openSQLiteTx for why
// not OpenTx itself). It takes the database's lock (dbconn.Lock), reads
// where the database stands (Inspect) and applies what is pending (Apply).
// On SQLite db must be opened with one connection and immediate
// transactions (dbconn does both).
func Upgrade(ctx context.Context, db *sql.DB, dialect dbconn.Dialect, kind schema.Kind, opts Options) (_ Result, err error) {
	if opts.LockTimeout == 0 {
		opts.LockTimeout = dbconn.DefaultLockTimeout
	}
	// On SQLite the lock is the database's own write lock, waited for with
	// busy_timeout = LockTimeout: say so when the wait ran out.
	defer func() { err = dbconn.LockError(err, opts.LockTimeout) }()
	unlock, err := dbconn.Lock(ctx, db, dialect, dbconn.LockName(string(kind)), dbconn.LockOptions{Timeout: opts.LockTimeout})
	if err != nil {
		return Result{}, err
	}
	// Unlock even when ctx was cancelled: the lock must not outlive us.
	defer unlock(context.WithoutCancel(ctx))
	st, err := Inspect(ctx, db, dialect, kind)
	if err != nil {
		return Result{}, err
	}
	return Apply(ctx, db, dialect, kind, st, opts)
}

// Apply applies the pending files of st, the state Inspect read from db
// under the database's lock (dbconn.Lock), which the caller holds. Whether a
// file is still pending is decided again inside its own transaction, under
// the database's write lock, so two supervisors never apply a file twice.
// Each file is logged as an event.FileStarted and an event.FileApplied line.
// A state that rules an upgrade out is ErrNotUpgradable; an up-to-date one
// applies nothing.
func Apply(ctx context.Context, db *sql.DB, dialect dbconn.Dialect, kind schema.Kind, st State, opts Options) (Result, error) {
	dir, err := Dir(kind, dialect)
	if err != nil {
		return Result{From: st.DBVersion, To: st.DBVersion}, err
	}
	return apply(ctx, db, dialect, kind, dir, st, opts)
}

// apply is Apply with the migration directory st's files are of.
func apply(ctx context.Context, db *sql.DB, dialect dbconn.Dialect, kind schema.Kind, dir *migrate.MemDir, st State, opts Options) (_ Result, err error) {
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = dbconn.DefaultLockTimeout
	}
	defer func() { err = dbconn.LockError(err, opts.LockTimeout) }()
	res := Result{From: st.DBVersion, To: st.DBVersion}
	if !st.Status.Upgradable() {
		if st.Status == status.OK {
			return res, nil
		}
		return res, fmt.Errorf("%w: %s", ErrNotUpgradable, st.Reason)
	}
	// Refused before anything is written (Dir checks its files when it
	// loads them; a State may hold the files of another directory).
	if err := checkGoSteps(st.Pending); err != nil {
		return res, err
	}
	if len(st.Pending) > 0 && opts.BackupDir != "" && dialect == dbconn.SQLite && st.Status != status.SchemaMissing {
		if res.Backup, err = backup(ctx, db, opts, st.DBVersion); err != nil {
			return res, err
		}
		log.Info("backup written", "path", res.Backup)
	}
	if st.Adopt {
		if err := adopt(ctx, db, dialect, dir); err != nil {
			return res, err
		}
		res.Adopted, res.To = true, "001"
		log.Info("adopted CodeChecker database as version 001", "alembic_revision", kind.CodeCheckerHead())
	}
	// A new database gets the checkpoint of the latest version in one step,
	// unless the upgrade stops short of it (--to, the fleet generator).
	if cp := st.Checkpoint; cp != nil && (opts.ToVersion == "" || opts.ToVersion >= cp.Version) {
		applied, err := applyCheckpoint(ctx, db, dialect, dir, cp, opts, log)
		if err != nil {
			return res, err
		}
		if applied {
			for _, f := range cp.Covers {
				res.Applied = append(res.Applied, f.Version())
			}
		}
		res.To = cp.Version
		return res, nil
	}
	files := st.Pending
	for i, f := range files {
		if opts.ToVersion != "" && f.Version() > opts.ToVersion {
			files = files[:i]
			break
		}
	}
	for i, f := range files {
		at := step{index: i + 1, total: len(files)}
		applied, err := applyFile(ctx, db, dialect, dir, f, at, opts, log)
		if err != nil {
			return res, err
		}
		if applied {
			res.Applied = append(res.Applied, f.Version())
		}
		res.To = f.Version()
	}
	return res, nil
}

// step is where a file stands among the files an Apply applies: file index
// (1-based) of total.
type step struct{ index, total int }

// event is the event of f at step s.
func (s step) event(kind event.Kind, f migrate.File) event.Event {
	return event.Event{Kind: kind, Version: f.Version(), Description: f.Desc(), Index: s.index, Total: s.total}
}

// adopt records version 001 as a baseline for a CodeChecker database at its head.
func adopt(ctx context.Context, db *sql.DB, dialect dbconn.Dialect, dir *migrate.MemDir) error {
	files, err := dir.Files()
	if err != nil {
		return err
	}
	tx, release, err := beginDetached(ctx, db)
	if err != nil {
		return fmt.Errorf("adopt: %w", err)
	}
	defer release()
	defer tx.Rollback()
	rrw := newRevisions(tx, dialect)
	if err := rrw.create(ctx); err != nil {
		return err
	}
	if _, err := rrw.ReadRevision(ctx, files[0].Version()); err == nil {
		return nil // another supervisor adopted it meanwhile
	}
	if err := rrw.WriteRevision(ctx, &migrate.Revision{
		Version: files[0].Version(), Description: files[0].Desc(),
		Type: migrate.RevisionTypeBaseline, ExecutedAt: time.Now(),
	}); err != nil {
		return err
	}
	return tx.Commit()
}

// applyFile applies one file in its own transaction. It reports false when
// another process applied it first.
func applyFile(ctx context.Context, db *sql.DB, dialect dbconn.Dialect, dir *migrate.MemDir, f migrate.File, at step, opts Options, log hclog.Logger) (bool, error) {
	start := time.Now()
	fileErr := func(err error) error {
		var se *migrate.StmtExecError
		if errors.As(err, &se) {
			return &FileError{Version: f.Version(), Description: f.Desc(), Statement: se.Stmt.Text, Err: dbconn.Explain(se.Err, opts.LockTimeout)}
		}
		return &FileError{Version: f.Version(), Description: f.Desc(), Err: dbconn.Explain(err, opts.LockTimeout)}
	}
	if lf, ok := f.(*migrate.LocalFile); ok && len(lf.Directive("txmode")) > 0 && lf.Directive("txmode")[0] == "none" {
		return applyWith(ctx, db, dialect, dir, f, at, opts, log, fileErr)
	}
	var (
		tx      *sqlclient.Tx
		release func()
		err     error
	)
	if dialect == dbconn.SQLite {
		tx, release, err = openSQLiteTx(ctx, db)
	} else {
		var t *sql.Tx
		if t, release, err = beginDetached(ctx, db); err == nil {
			tx = &sqlclient.Tx{Tx: t}
		}
	}
	if err != nil {
		return false, fileErr(fmt.Errorf("begin: %w", err))
	}
	defer release()
	done := false
	defer func() {
		if !done {
			tx.Rollback()
		}
	}()
	applied, err := applyWith(ctx, tx, dialect, dir, f, at, opts, log, fileErr)
	if err != nil || !applied {
		return false, err
	}
	// Cancelled after the last statement (SIGTERM, the supervisor's death):
	// roll back, as for a cancellation at any earlier point.
	if ctx.Err() != nil {
		return false, fileErr(fmt.Errorf("cancelled before commit: %w", context.Cause(ctx)))
	}
	done = true
	if err := tx.Commit(); err != nil {
		return false, fileErr(fmt.Errorf("commit: %w", err))
	}
	e := at.event(event.FileApplied, f)
	e.Duration = time.Since(start)
	event.Emit(log, hclog.Info, "applied migration file", e)
	return true, nil
}

// applyWith applies f on conn (the file's transaction, or the database for a
// file run outside one) unless another process recorded it first.
func applyWith(ctx context.Context, conn dbconn.Querier, dialect dbconn.Dialect, dir *migrate.MemDir, f migrate.File, at step, opts Options, log hclog.Logger, fileErr func(error) error) (bool, error) {
	rrw := newRevisions(conn, dialect)
	if err := rrw.create(ctx); err != nil {
		return false, fileErr(err)
	}
	// Decided under the lock: on SQLite the transaction is BEGIN IMMEDIATE,
	// on PostgreSQL the advisory lock is held.
	if _, err := rrw.ReadRevision(ctx, f.Version()); err == nil {
		log.Info("migration file already applied by another process", "version", f.Version())
		return false, nil
	} else if !errors.Is(err, migrate.ErrRevisionNotExist) {
		return false, fileErr(err)
	}
	drv, err := openDriver(conn, dialect)
	if err != nil {
		return false, fileErr(err)
	}
	ex, err := migrate.NewExecutor(drv, dir, rrw, migrate.WithLogger(atlasLogger{log}), migrate.WithOperatorVersion(opts.Operator))
	if err != nil {
		return false, fileErr(err)
	}
	event.Emit(log, hclog.Info, "applying migration file", at.event(event.FileStarted, f))
	if err := ex.Execute(ctx, f); err != nil {
		return false, fileErr(err)
	}
	// After the statements and the revision row atlas wrote, in the same
	// transaction: a failing step rolls both back.
	if err := runGoStep(ctx, conn, f); err != nil {
		return false, fileErr(err)
	}
	return true, nil
}

// atlasLogger maps atlas's typed log events onto hclog key/value lines.
type atlasLogger struct{ log hclog.Logger }

func (l atlasLogger) Log(e migrate.LogEntry) {
	switch e := e.(type) {
	case migrate.LogStmt:
		l.log.Debug("executing statement", "sql", logging.OneLineCut(e.SQL, 200))
	case migrate.LogError:
		if e.SQL != "" {
			l.log.Error("statement failed", "sql", logging.OneLineCut(e.SQL, 200), "error", e.Error)
		}
	}
}
