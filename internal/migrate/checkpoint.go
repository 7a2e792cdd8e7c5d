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
	sum, err := checksum(dir)
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
	if err := execCheckpoint(ctx, tx, dialect, cp.File); err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			fe.Version, fe.Description, fe.Err = cp.Version, "checkpoint", dbconn.Explain(fe.Err, opts.LockTimeout)
			return false, fe
		}
		return false, fileErr(err)
	}
	now := time.Now()
	for _, f := range cp.Covers {
		hash, err := sum.SumByName(f.Name())
		if err != nil {
			return false, fileErr(err)
		}
		n, err := stmtCount(f, hash)
		if err != nil {
			return false, fileErr(err)
		}
		if err := rrw.WriteRevision(ctx, &migrate.Revision{
			Version: f.Version(), Description: f.Desc(), Type: migrate.RevisionTypeExecute,
			Applied: n, Total: n, ExecutedAt: now, ExecutionTime: time.Since(start),
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

// execCheckpoint runs the checkpoint's statements in tx. On SQLite they go
// to the driver as one script (it runs them one after the other, as
// separate statements): splitting the file with atlas's statement scanner
// costs more CPU than executing it (about 2 ms of a new product's worker,
// whose whole job is some 10 ms). The split is left for a failure, to name
// the statement that failed: the script's work is undone to a savepoint
// and the statements run one by one until one fails again. PostgreSQL runs
// them one by one, as the chain's files do.
func execCheckpoint(ctx context.Context, tx *sqlclient.Tx, dialect dbconn.Dialect, f migrate.File) error {
	if dialect == dbconn.SQLite {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT checkpoint"); err != nil {
			return err
		}
		err := func() error { _, err := tx.ExecContext(ctx, string(f.Bytes())); return err }()
		if err == nil {
			_, err = tx.ExecContext(ctx, "RELEASE checkpoint")
			return err
		}
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO checkpoint"); rerr != nil {
			return err
		}
		if serr := execEach(ctx, tx, f); serr != nil {
			return serr
		}
		return err
	}
	return execEach(ctx, tx, f)
}

// execEach runs f's statements one by one in tx; an error is a *FileError
// naming the statement.
func execEach(ctx context.Context, tx *sqlclient.Tx, f migrate.File) error {
	stmts, err := f.Stmts()
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return &FileError{Statement: s, Err: err}
		}
	}
	return nil
}

// knownStmtCounts are the statement counts (what atlas's scanner makes of
// the file) of the packaged files a checkpoint covers, by their atlas.sum
// hash: a checkpoint records each covered version with its count, as the
// chain does, and scanning the files for it (26 KB of SQL through atlas's
// regular expressions) was a third of a new product's worker CPU. A file
// whose hash is not here is scanned; TestKnownStmtCounts keeps the table
// right and complete for the packaged checkpoints.
var knownStmtCounts = map[string]int{
	"vyDvMvx3P81uRGXYsamBVrPF3kUMbtvmYD2FT9m7bpc=": 47,  // product/sqlite/001_codechecker_baseline.sql
	"G7c2VlA8WX7ANF9qX0t4L5lK6uoywuWaMrGjYOJtgco=": 21,  // product/sqlite/002_drop_leftovers.sql
	"m0p/uGT199zUPD4PEVyTVYlpHfrg9ZyBWUfN+okMxiA=": 142, // product/postgres/001_codechecker_baseline.sql
	"f/uDYojYACGIgkO368O6lzH0ymKmmtOqNBpkRjQpqi0=": 4,   // product/postgres/002_drop_leftovers.sql
}

// stmtCount is how many statements f (whose atlas.sum hash is hash) has.
func stmtCount(f migrate.File, hash string) (int, error) {
	if n, ok := knownStmtCounts[hash]; ok {
		return n, nil
	}
	stmts, err := f.Stmts()
	return len(stmts), err
}
