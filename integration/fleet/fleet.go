// Package fleet generates realistic CodeChecker product-database content for
// tests, the demo and benchmarks.
//
// Fill writes runs, run histories, analyzer statistics, checkers, checker
// sets, analysis info, files and their contents, reports with their bug paths,
// comments, review rules and run locks into a database that already holds an
// empty CodeChecker product schema (SQLite or PostgreSQL). Alongside the live
// content it plants garbage of every kind CodeChecker's cleanup removes, and
// returns how much, so a cleanup can be checked against exact numbers.
//
// The content is a pure function of Options: the same Options give the same
// rows, on either dialect. Nothing depends on the clock; expired run locks
// are dated 2025-03-01 or earlier, live ones 2099-12-31.
//
// Fill never names the leftover columns that CodeChecker's SQLite schema still
// carries (reports.checker_name_MOVED_TO_checkers and friends, runs.command,
// run_histories.check_command), so it works whether or not a later migration
// dropped them.
//
// Speed: 200k reports (about 1.3 million rows) take about 5 to 7 seconds on
// SQLite on a 2-core machine, nearly all of it SQLite's own B-tree work for
// the rows and their 5 million index entries, and about 8 seconds on
// PostgreSQL (see BenchmarkFillSQLite, BenchmarkFillPostgres). To make many
// products, fill one template and copy it with CopySQLite (SQLite) or CREATE
// DATABASE ... TEMPLATE (PostgreSQL), which takes milliseconds.
package fleet

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Dialects understood by Fill.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// DefaultGarbage is the garbage fraction Fill uses when Options.Garbage is 0.
const DefaultGarbage = 0.05

// Options say how much content to generate.
type Options struct {
	Dialect string  // "sqlite" or "postgres"
	Reports int     // total reports across all runs
	Runs    int     // 0 = 3
	Seed    int64   // the same seed gives the same content
	Garbage float64 // fraction of files that are garbage (unused), e.g. 0.3; 0 = DefaultGarbage; always at least one of each garbage kind when Reports > 0
}

// Garbage counts what CodeChecker's cleanup should remove from what Fill
// wrote.
//
// Files are files that no bug_path_events or bug_report_points row uses and
// no report names. FileContents are contents that no file other than those
// uses (some were used only by garbage files, some by no file at all).
// Comments are on bug hashes that no report has. AnalysisInfo rows are in
// neither run_history_analysis_info nor report_analysis_info. CheckerSets are
// referenced by no analysis_info outside the garbage ones, and
// CheckerSetItems are the items of those sets. ExpiredRunLocks were taken on
// 2025-03-01 or earlier and never released (the live locks are dated
// 2099-12-31).
type Garbage struct {
	ExpiredRunLocks, Files, FileContents, Comments, AnalysisInfo, CheckerSets, CheckerSetItems int64
}

// ErrNotEmpty is returned by Fill when the product database already holds
// content other than the seed checkers.
var ErrNotEmpty = errors.New("product database is not empty")

// Fill writes content into db, which already holds an empty product schema
// (only the seed checkers rows (1,'__FAKE__','__FAKE__',0) and
// (2,'UNKNOWN','NOT FOUND',0) exist). It returns what garbage it planted.
//
// Everything is written in one transaction on one connection taken from db;
// on error nothing is left behind. On SQLite that connection's foreign key
// enforcement is switched off for the duration of the transaction (the rows
// are consistent by construction) and switched back on afterwards; if it
// cannot be restored the connection is discarded. On PostgreSQL db must use
// the pgx stdlib driver: the big tables are loaded with COPY, and the id
// sequences are moved past the ids Fill wrote.
func Fill(ctx context.Context, db *sql.DB, opts Options) (Garbage, error) {
	o, err := opts.normalize()
	if err != nil {
		return Garbage{}, fmt.Errorf("fleet: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return Garbage{}, fmt.Errorf("fleet: get connection: %w", err)
	}
	defer conn.Close()

	var g Garbage
	switch o.Dialect {
	case DialectSQLite:
		g, err = fillSQLite(ctx, conn, o)
	case DialectPostgres:
		g, err = fillPostgres(ctx, conn, o)
	}
	if err != nil {
		return Garbage{}, fmt.Errorf("fleet: fill %s product: %w", o.Dialect, err)
	}
	return g, nil
}

// normalize checks o and fills in defaults.
func (o Options) normalize() (Options, error) {
	switch o.Dialect {
	case DialectSQLite, DialectPostgres:
	default:
		return o, fmt.Errorf("unknown dialect %q (want %q or %q)", o.Dialect, DialectSQLite, DialectPostgres)
	}
	if o.Reports < 0 {
		return o, fmt.Errorf("negative report count %d", o.Reports)
	}
	if o.Runs < 0 {
		return o, fmt.Errorf("negative run count %d", o.Runs)
	}
	if o.Runs == 0 {
		o.Runs = 3
	}
	if math.IsNaN(o.Garbage) || o.Garbage < 0 || o.Garbage >= 1 {
		return o, fmt.Errorf("garbage fraction %v is not in [0, 1)", o.Garbage)
	}
	if o.Garbage == 0 {
		o.Garbage = DefaultGarbage
	}
	return o, nil
}

// discardConn makes database/sql close conn's driver connection instead of
// returning it to the pool, for when a setting could not be restored.
func discardConn(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
}

// CopySQLite copies the SQLite database file src to dst (for making N
// products from one generated template fast). dst must not exist.
//
// src must not be in the middle of a write: CopySQLite refuses a source that
// has a hot rollback journal or a non-empty write-ahead log beside it, since
// the file alone would then not be the whole database.
func CopySQLite(src, dst string) (err error) {
	for _, side := range []string{"-journal", "-wal"} {
		if fi, statErr := os.Stat(src + side); statErr == nil && fi.Size() > 0 {
			return fmt.Errorf("fleet: copy %s: %s%s exists; close or checkpoint the database first", src, src, side)
		}
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("fleet: copy sqlite database: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("fleet: copy sqlite database: %w", err)
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("fleet: copy %s to %s: %w", src, dst, cerr)
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("fleet: copy %s to %s: %w", src, dst, err)
	}
	return nil
}
