package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"ariga.io/atlas/sql/migrate"

	"supervisor/internal/dbconn"
	"supervisor/schema"
)

// ErrSchemaDiffers is returned by Baseline for a database whose schema is
// not the packaged one at the version asked for; nothing was written.
var ErrSchemaDiffers = errors.New("the schema differs from the packaged one")

// PackagedVersion reports whether version is one of kind's packaged versions.
func PackagedVersion(kind schema.Kind, dialect dbconn.Dialect, version string) (bool, error) {
	files, err := filesUpTo(kind, dialect, version)
	if err != nil {
		return false, err
	}
	return len(files) > 0 && files[len(files)-1].Version() == version, nil
}

// BaselineResult says what Baseline did.
type BaselineResult struct {
	// From is the version the database recorded before ("" if none).
	From string
	// Recorded are the versions written as baseline rows; none when every
	// version up to the one asked for was recorded already.
	Recorded []string
}

// Baseline repairs the revisions of a database whose schema is the packaged
// schema of kind at version, without executing any migration file: under
// the database's lock and in one transaction, it compares the live schema
// with the packaged one (Compare, the comparison adoption uses), and only
// if they are the same makes the revisions table say the database is at
// version. A recorded row up to version that is complete and whose hash is
// the packaged file's is kept (its history with it); every other version up
// to version is written as an atlas baseline row (RevisionTypeBaseline, the
// packaged hash, operator), and rows after version, or of versions this
// package does not have, are deleted. A schema that differs is
// ErrSchemaDiffers with the differences, and nothing is written.
func Baseline(ctx context.Context, db *sql.DB, dialect dbconn.Dialect, kind schema.Kind, version string, opts Options) (_ BaselineResult, err error) {
	var res BaselineResult
	if opts.LockTimeout == 0 {
		opts.LockTimeout = dbconn.DefaultLockTimeout
	}
	defer func() { err = dbconn.LockError(err, opts.LockTimeout) }()
	files, err := filesUpTo(kind, dialect, version)
	if err != nil {
		return res, err
	}
	if len(files) == 0 || files[len(files)-1].Version() != version {
		return res, fmt.Errorf("the packaged %s schema for %s has no version %s", kind, dialect, version)
	}
	dir, err := Dir(kind, dialect)
	if err != nil {
		return res, err
	}
	sum, err := checksum(dir)
	if err != nil {
		return res, err
	}
	unlock, err := dbconn.Lock(ctx, db, dialect, dbconn.LockName(string(kind)), dbconn.LockOptions{Timeout: opts.LockTimeout})
	if err != nil {
		return res, err
	}
	defer unlock(context.WithoutCancel(ctx))
	st, err := Inspect(ctx, db, dialect, kind)
	if err != nil {
		return res, err
	}
	res.From = st.DBVersion
	// The comparison runs in the transaction that writes (on SQLite a
	// BEGIN IMMEDIATE one): nothing changes the schema between the two.
	tx, release, err := beginDetached(ctx, db)
	if err != nil {
		return res, fmt.Errorf("begin: %w", err)
	}
	defer release()
	defer tx.Rollback()
	diffs, err := Compare(ctx, tx, dialect, kind, version)
	if err != nil {
		return res, err
	}
	if len(diffs) > 0 {
		return res, fmt.Errorf("%w at %s, so it is not recorded as %s: %s", ErrSchemaDiffers, version, version, summarize(diffs, 10))
	}
	rrw := newRevisions(tx, dialect)
	if err := rrw.create(ctx); err != nil {
		return res, err
	}
	revs, err := rrw.ReadRevisions(ctx)
	if err != nil {
		return res, err
	}
	recorded := map[string]*migrate.Revision{}
	for _, r := range revs {
		recorded[r.Version] = r
	}
	keep := map[string]bool{}
	now := time.Now()
	for _, f := range files {
		want, err := sum.SumByName(f.Name())
		if err != nil {
			return res, err
		}
		if r, ok := recorded[f.Version()]; ok && r.Applied == r.Total && r.Error == "" &&
			(r.Hash == want || r.Type.Has(migrate.RevisionTypeBaseline) && r.Hash == "") {
			keep[f.Version()] = true
			continue
		}
		keep[f.Version()] = true
		if err := rrw.WriteRevision(ctx, &migrate.Revision{
			Version: f.Version(), Description: f.Desc(), Type: migrate.RevisionTypeBaseline,
			ExecutedAt: now, Hash: want, OperatorVersion: opts.Operator,
		}); err != nil {
			return res, err
		}
		res.Recorded = append(res.Recorded, f.Version())
	}
	deleted := false
	for _, r := range revs {
		if !keep[r.Version] {
			if err := rrw.DeleteRevision(ctx, r.Version); err != nil {
				return res, fmt.Errorf("delete revision %s: %w", r.Version, err)
			}
			deleted = true
		}
	}
	if len(res.Recorded) == 0 && !deleted {
		return res, nil // the revisions said so already; nothing to commit
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("cancelled before commit: %w", context.Cause(ctx))
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

// History is the revisions recorded in db, by version: the files applied
// (or recorded as a baseline) with when, how long, their hash and the
// operator that did it. A database without the revisions table has none.
// It only reads.
func History(ctx context.Context, db dbconn.Querier, dialect dbconn.Dialect) ([]*migrate.Revision, error) {
	tables, err := listTables(ctx, db, dialect)
	if err != nil {
		return nil, err
	}
	if !tables[RevisionsTable] {
		return nil, nil
	}
	return newRevisions(db, dialect).ReadRevisions(ctx)
}
