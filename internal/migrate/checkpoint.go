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
	"supervisor/schema"
)

// Checkpoint is the one-step initialisation of a new database: the packaged
// checkpoint of the latest version (schema.Checkpoint), which makes what the
// whole chain makes without replaying it (on SQLite, 002's table rebuilds).
type Checkpoint struct {
	// Version is the version the checkpoint brings the database to.
	Version string
	// File holds the checkpoint's statements.
	File migrate.File
	// Covers are the chain's files the checkpoint stands for, in order; each
	// is recorded as a revision, so the database reads as if the chain ran.
	Covers []migrate.File
}

// checkpointOf returns the checkpoint of the latest of files, or nil when none
// is packaged or a file it would cover has a step written in Go (SQL cannot
// stand for that step): the chain is then replayed, as before.
func checkpointOf(kind schema.Kind, dialect dbconn.Dialect, files []migrate.File) *Checkpoint {
	for _, f := range files {
		if goStepOf(f) != "" {
			return nil
		}
	}
	latest := files[len(files)-1]
	b, ok := schema.Checkpoint(kind, dialect.String(), latest.Version())
	if !ok {
		return nil
	}
	return &Checkpoint{
		Version: latest.Version(),
		File:    migrate.NewLocalFile(latest.Version()+"_checkpoint.sql", b),
		Covers:  files,
	}
}

// applyCheckpoint applies cp to an empty database in one transaction and
// records every version it covers as an executed revision with its file's
// hash, as the chain would have (so status, history and checkHashes read it
// exactly as a replayed chain, and later files apply on top). It
// reports false when another process initialised the database first.
func applyCheckpoint(ctx context.Context, db *sql.DB, dialect dbconn.Dialect, dir *migrate.MemDir, cp *Checkpoint, opts Options, log hclog.Logger) (bool, error) {
	start := time.Now()
	fileErr := func(err error) error {
		return &FileError{Version: cp.Version, Description: "checkpoint", Err: dbconn.Explain(err, opts.LockTimeout)}
	}
	stmts, err := cp.File.Stmts()
	if err != nil {
		return false, fileErr(err)
	}
	sum, err := dir.Checksum()
	if err != nil {
		return false, fileErr(err)
	}
	var (
		tx      *sqlclient.Tx
		release func()
	)
	if dialect == dbconn.SQLite {
		tx, release, err = openSQLiteTx(ctx, db)
	} else if t, rel, berr := beginDetached(ctx, db); berr == nil {
		tx, release = &sqlclient.Tx{Tx: t}, rel
	} else {
		err = berr
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
	rrw := newRevisions(tx, dialect)
	if err := rrw.create(ctx); err != nil {
		return false, fileErr(err)
	}
	// Decided under the lock, as for a file of the chain.
	if _, err := rrw.ReadRevision(ctx, cp.Covers[0].Version()); err == nil {
		log.Info("database already initialised by another process")
		return false, nil
	} else if !errors.Is(err, migrate.ErrRevisionNotExist) {
		return false, fileErr(err)
	}
	// One file_started and one file_applied per version covered, as the
	// chain logs them (progress, reports and the files_applied count read
	// those); the line before says they come from the checkpoint.
	log.Info("initialising the new database from the checkpoint", "version", cp.Version, "versions", len(cp.Covers))
	for i, f := range cp.Covers {
		event.Emit(log, hclog.Info, "applying migration file", step{index: i + 1, total: len(cp.Covers)}.event(event.FileStarted, f))
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return false, &FileError{Version: cp.Version, Description: "checkpoint", Statement: s, Err: dbconn.Explain(err, opts.LockTimeout)}
		}
	}
	now := time.Now()
	for _, f := range cp.Covers {
		hash, err := sum.SumByName(f.Name())
		if err != nil {
			return false, fileErr(err)
		}
		n, err := f.Stmts()
		if err != nil {
			return false, fileErr(err)
		}
		if err := rrw.WriteRevision(ctx, &migrate.Revision{
			Version: f.Version(), Description: f.Desc(), Type: migrate.RevisionTypeExecute,
			Applied: len(n), Total: len(n), ExecutedAt: now, ExecutionTime: time.Since(start),
			Hash: hash, OperatorVersion: opts.Operator,
		}); err != nil {
			return false, fileErr(err)
		}
	}
	if ctx.Err() != nil {
		return false, fileErr(fmt.Errorf("cancelled before commit: %w", context.Cause(ctx)))
	}
	done = true
	if err := tx.Commit(); err != nil {
		return false, fileErr(fmt.Errorf("commit: %w", err))
	}
	// The checkpoint's time is the last version's: the earlier ones took
	// no time of their own.
	took := time.Since(start)
	for i, f := range cp.Covers {
		e := step{index: i + 1, total: len(cp.Covers)}.event(event.FileApplied, f)
		if i == len(cp.Covers)-1 {
			e.Duration = took
		}
		event.Emit(log, hclog.Info, "applied migration file", e)
	}
	return true, nil
}
