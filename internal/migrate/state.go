// Package migrate brings a database to the schema packaged in the binary with
// atlas's migration engine, in-process: it reads where a database stands
// (Inspect), adopts databases made by CodeChecker, checks that applied files were
// not changed since, and applies pending files one transaction per file (Upgrade).
package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"ariga.io/atlas/sql/migrate"

	"supervisor/internal/dbconn"
	"supervisor/internal/status"
	"supervisor/schema"
)

// State is where a database stands against the packaged schema.
type State struct {
	Status status.Status
	// DBVersion is the schema version in the database for display: "002", or
	// "b1be74589382 (CodeChecker)" for a database CodeChecker made; "" if none.
	DBVersion string
	// PackageVersion is the latest packaged version.
	PackageVersion string
	// Pending are the files an upgrade applies, in order.
	Pending []migrate.File
	// Adopt is set for a CodeChecker database at its head whose schema
	// compares equal to version 001's (see Compare): 001 is recorded as a
	// baseline, not executed.
	Adopt bool
	// Checkpoint, set for a database with no schema at all, initialises it
	// in one step instead of replaying Pending (the whole chain).
	Checkpoint *Checkpoint
	// Reason says in one line why the status is not ok.
	Reason string
}

var (
	dirs sync.Map // "kind/dialect" -> *migrate.MemDir
	// sums holds the checksum of each directory Dir returned, computed once
	// per process on first use: Inspect compares recorded hashes with it for
	// every product (BenchmarkInspect), and the packaged files never change.
	sums sync.Map // *migrate.MemDir -> func() (migrate.HashFile, error)
)

// Dir returns the packaged migration directory for kind and dialect, loaded
// and checked against atlas.sum once per process.
func Dir(kind schema.Kind, dialect dbconn.Dialect) (*migrate.MemDir, error) {
	key := string(kind) + "/" + dialect.String()
	if d, ok := dirs.Load(key); ok {
		return d.(*migrate.MemDir), nil
	}
	d, err := schema.Dir(kind, dialect.String())
	if err != nil {
		return nil, err
	}
	files, err := d.Files()
	if err != nil {
		return nil, err
	}
	if err := checkGoSteps(files); err != nil {
		return nil, fmt.Errorf("packaged %s schema for %s: %w", kind, dialect, err)
	}
	sums.Store(d, sync.OnceValues(d.Checksum))
	dirs.Store(key, d)
	return d, nil
}

// checksum is dir.Checksum(), computed once per process for a directory
// Dir returned (any other, a test's, is summed on every call).
func checksum(dir *migrate.MemDir) (migrate.HashFile, error) {
	if f, ok := sums.Load(dir); ok {
		return f.(func() (migrate.HashFile, error))()
	}
	return dir.Checksum()
}

// filesUpTo are the packaged files of kind up to version, in order.
func filesUpTo(kind schema.Kind, dialect dbconn.Dialect, version string) ([]migrate.File, error) {
	dir, err := Dir(kind, dialect)
	if err != nil {
		return nil, err
	}
	files, err := dir.Files()
	if err != nil {
		return nil, err
	}
	for i, f := range files {
		if f.Version() > version {
			return files[:i], nil
		}
	}
	return files, nil
}

// LatestVersion is the newest packaged version of kind.
func LatestVersion(kind schema.Kind, dialect dbconn.Dialect) (string, error) {
	dir, err := Dir(kind, dialect)
	if err != nil {
		return "", err
	}
	files, err := dir.Files()
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("packaged %s schema for %s has no files", kind, dialect)
	}
	return files[len(files)-1].Version(), nil
}

// Inspect reads where the database stands. It only reads. An error means the
// database could not be read at all (the caller reports failed_to_connect).
func Inspect(ctx context.Context, db dbconn.Querier, dialect dbconn.Dialect, kind schema.Kind) (State, error) {
	dir, err := Dir(kind, dialect)
	if err != nil {
		return State{}, err
	}
	files, err := dir.Files()
	if err != nil {
		return State{}, err
	}
	latest := files[len(files)-1].Version()
	st := State{PackageVersion: latest}

	tables, err := listTables(ctx, db, dialect)
	if err != nil {
		return State{}, err
	}
	switch {
	case tables[RevisionsTable]:
		st, err := inspectRevisions(ctx, db, dialect, dir, files, st)
		if err == nil && st.Status == status.SchemaMissing && len(tables) == 1 {
			st.Checkpoint = checkpointOf(kind, dialect, files)
		}
		return st, err
	case tables["alembic_version"]:
		return inspectAlembic(ctx, db, dialect, kind, files, st)
	case len(tables) == 0:
		st.Status, st.Pending = status.SchemaMissing, files
		st.Reason = "the database has no tables"
		st.Checkpoint = checkpointOf(kind, dialect, files)
		return st, nil
	default:
		st.Status = status.SchemaMismatchNo
		st.Reason = "the database has tables but no schema version (neither " + RevisionsTable + " nor alembic_version)"
		return st, nil
	}
}

func inspectAlembic(ctx context.Context, db dbconn.Querier, dialect dbconn.Dialect, kind schema.Kind, files []migrate.File, st State) (State, error) {
	rows, err := db.QueryContext(ctx, "SELECT version_num FROM alembic_version ORDER BY version_num")
	if err != nil {
		return State{}, fmt.Errorf("read alembic_version: %w", err)
	}
	var revs []string
	for rows.Next() {
		var rev sql.NullString
		if err := rows.Scan(&rev); err != nil {
			rows.Close()
			return State{}, fmt.Errorf("read alembic_version: %w", err)
		}
		revs = append(revs, rev.String)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return State{}, fmt.Errorf("read alembic_version: %w", err)
	}
	head := kind.CodeCheckerHead()
	st.Status = status.SchemaMismatchNo
	switch {
	case len(revs) == 0:
		st.Reason = "alembic_version is empty: CodeChecker never finished creating this database"
	case len(revs) > 1:
		// CodeChecker's chains are linear and alembic keeps one row per
		// head: two rows are a branched or broken alembic state, which no
		// version of ours describes.
		st.DBVersion = strings.Join(revs, ", ") + " (alembic)"
		st.Reason = fmt.Sprintf("alembic_version has %d rows (%s) where CodeChecker keeps one: a branched or broken alembic state, not upgradable",
			len(revs), strings.Join(revs, ", "))
	case revs[0] == head:
		st.DBVersion = head + " (CodeChecker)"
		// Adoption records version 001 without executing it: only if the
		// schema is 001's. A database of ours that lost its revisions table
		// still has CodeChecker's alembic_version, and must not be taken for
		// 001 and have 002 applied again.
		diffs, err := Compare(ctx, db, dialect, kind, files[0].Version())
		if err != nil {
			return State{}, fmt.Errorf("compare with CodeChecker's schema at %s: %w", head, err)
		}
		if len(diffs) > 0 {
			st.Reason = fmt.Sprintf("the schema differs from CodeChecker's %s, which alembic_version names, so it is not adopted: %s",
				head, summarize(diffs, 5))
			return st, nil
		}
		st.Status, st.Adopt, st.Pending = status.SchemaMismatchOK, true, files[1:]
	case olderCodeCheckerRevision(kind, revs[0]):
		st.DBVersion = revs[0] + " (CodeChecker)"
		st.Reason = fmt.Sprintf("the database is at CodeChecker revision %s; upgrade it with CodeChecker to revision %s first", revs[0], head)
	default:
		st.DBVersion = revs[0] + " (alembic)"
		st.Reason = fmt.Sprintf("alembic revision %s is not a CodeChecker revision this supervisor knows; only databases at CodeChecker's config %s / product %s are adopted",
			revs[0], schema.Config.CodeCheckerHead(), schema.Product.CodeCheckerHead())
	}
	return st, nil
}

func inspectRevisions(ctx context.Context, db dbconn.Querier, dialect dbconn.Dialect, dir *migrate.MemDir, files []migrate.File, st State) (State, error) {
	revs, err := newRevisions(db, dialect).ReadRevisions(ctx)
	if err != nil {
		return State{}, err
	}
	if len(revs) == 0 {
		st.Status, st.Pending = status.SchemaMissing, files
		st.Reason = RevisionsTable + " is empty"
		return st, nil
	}
	last := revs[len(revs)-1]
	st.DBVersion = last.Version
	for _, r := range revs {
		if r.Applied != r.Total || r.Error != "" {
			st.Status = status.SchemaMismatchNo
			st.Reason = fmt.Sprintf("version %s was left partially applied (%d of %d statements): %s", r.Version, r.Applied, r.Total, r.Error)
			return st, nil
		}
	}
	if err := checkHashes(dir, files, revs); err != nil {
		st.Status, st.Reason = status.SchemaMismatchNo, err.Error()
		return st, nil
	}
	idx := -1
	for i, f := range files {
		if f.Version() == last.Version {
			idx = i
		}
	}
	if idx == -1 {
		st.Status = status.SchemaMismatchNo
		if last.Version > st.PackageVersion {
			st.Reason = fmt.Sprintf("the database is at version %s, newer than this package (%s); use a newer supervisor", last.Version, st.PackageVersion)
		} else {
			st.Reason = fmt.Sprintf("the database is at version %s, which this package does not have", last.Version)
		}
		return st, nil
	}
	// Every packaged version up to the last recorded one is recorded (those
	// a baseline covers need not be: a baseline stands for all before it). A
	// version missing there means the table was damaged, a row deleted by
	// hand, and nothing says what the database really holds.
	recorded, covered := map[string]bool{}, ""
	for _, r := range revs {
		recorded[r.Version] = true
		if r.Type.Has(migrate.RevisionTypeBaseline) && r.Version > covered {
			covered = r.Version
		}
	}
	for _, f := range files[:idx] {
		if f.Version() > covered && !recorded[f.Version()] {
			st.Status = status.SchemaMismatchNo
			st.Reason = fmt.Sprintf("%s is damaged: version %s is not recorded, but the later %s is", RevisionsTable, f.Version(), last.Version)
			return st, nil
		}
	}
	st.Pending = files[idx+1:]
	if len(st.Pending) == 0 {
		st.Status = status.OK
	} else {
		st.Status = status.SchemaMismatchOK
	}
	return st, nil
}

// checkHashes compares the hash recorded for every executed file with the
// packaged one. atlas only checks atlas.sum against the files; a file edited
// after it was applied would otherwise go unnoticed.
func checkHashes(dir *migrate.MemDir, files []migrate.File, revs []*migrate.Revision) error {
	sum, err := checksum(dir)
	if err != nil {
		return err
	}
	byVersion := map[string]migrate.File{}
	for _, f := range files {
		byVersion[f.Version()] = f
	}
	for _, r := range revs {
		f, ok := byVersion[r.Version]
		if !ok || r.Type.Has(migrate.RevisionTypeBaseline) && r.Hash == "" {
			continue
		}
		want, err := sum.SumByName(f.Name())
		if err != nil {
			return err
		}
		if r.Hash != want {
			return fmt.Errorf("migration file %s differs from the one applied to this database (recorded hash %s, packaged %s)", f.Name(), r.Hash, want)
		}
	}
	return nil
}

// listTables returns the names of the database's tables (public schema on PostgreSQL).
func listTables(ctx context.Context, db dbconn.Querier, dialect dbconn.Dialect) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, sqlOf(dialect).listTables)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	tables := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		tables[name] = true
	}
	return tables, rows.Err()
}
