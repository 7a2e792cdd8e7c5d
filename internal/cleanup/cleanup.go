// Package cleanup garbage-collects a CodeChecker product database (SQLite or
// PostgreSQL) the way CodeChecker's own db_cleanup does at server start:
//
//  1. expired run locks (locked more than 30 minutes ago);
//  2. files no bug path event or bug report point uses, then file contents
//     no file uses;
//  3. comments on bug hashes no report has;
//  4. analysis info neither run_history_analysis_info nor
//     report_analysis_info references;
//  5. checker sets no analysis info references (their checker_set_items
//     follow by ON DELETE CASCADE);
//  6. checker severities brought in line with the checker label files.
//
// Each routine runs in its own transaction and logs what it removed, with
// counts as key/value pairs. Everything matches CodeChecker row for row,
// except three places where CodeChecker's behaviour is a bug:
//
//   - CodeChecker selects with NOT IN, so a single NULL bug_path_events /
//     bug_report_points file_id, or a single NULL files.content_hash, makes
//     its delete remove nothing. We use NOT EXISTS.
//   - CodeChecker removes a file that is still some report's reports.file_id
//     when it is on none of the bug path events and points, and the ON
//     DELETE CASCADE then deletes that live report. We never remove a file a
//     report still names.
//   - CodeChecker compares the stored and the label severity before it tries
//     the similar spellings ("analyzer.checker", "analyzer-checker",
//     "analyzer/checker"), so a checker stored as UNSPECIFIED (or as an
//     invalid value) never gets them. We try them for every checker the
//     labels give no severity.
//
// # Batches and transactions
//
// The big tables are swept in batches of Options.BatchSize keys: each batch
// selects the next keys (keyset pagination, ORDER BY key), counts the rows
// the cascades will take with them, and deletes by that key list while
// re-checking the "unused" condition in the DELETE itself. Memory is bounded
// by one batch and every statement is bounded by it, but all batches of a
// routine share the routine's one transaction, so a routine is atomic: an
// error or a cancelled context rolls back the routine in progress, while the
// routines before it stay committed (each leaves a consistent database).
// On SQLite the transaction is BEGIN IMMEDIATE: it takes the write lock up
// front, so nothing can add a reference between a batch's SELECT and its
// DELETE.
//
// The default batch differs by dialect (measured with bench/cleanupplans.sh
// on 1M reports): 5,000 keys on SQLite, where every probe is indexed and
// the size barely matters, and 60,000 on PostgreSQL, whose planner hashes
// the whole referencing table for a batch expected to find much garbage
// (file_contents against files, comments against reports), so that each
// batch costs a full pass and fewer batches cost fewer.
//
// # Query plans
//
// Every "unused" test is a NOT EXISTS anti-join, never NOT IN, so
// PostgreSQL can plan a hashed or indexed anti-join and NULLs cannot spoil
// the result. The alternatives were measured on 1M reports
// (bench/cleanupplans.sh): a NULL-safe NOT IN is several times slower on
// SQLite (it builds the list anew for every batch's statement) and on
// PostgreSQL does not finish in 15 s (the list does not fit work_mem, so it
// is scanned once per row); LEFT JOIN ... IS NULL plans as the same
// anti-join and is no faster on either. Most referencing columns are indexed in CodeChecker's schema
// (ix_bug_path_events_file_id, ix_bug_report_points_file_id,
// ix_reports_file_id, ix_extended_report_data_file_id,
// ix_files_content_hash, ix_reports_bug_id, and checker_set_items'
// primary key), but four are not:
//
//   - report_analysis_info.analysis_info_id and
//     run_history_analysis_info.analysis_info_id (their primary keys start
//     with the other column);
//   - source_component_files.file_id (same);
//   - analysis_info.checker_set_id.
//
// Without an index, each deleted parent row costs a full scan of the
// referencing table, in the foreign-key action or check (both databases
// run one lookup per deleted row) and, on SQLite, in the correlated NOT
// EXISTS too. That is quadratic: it is why CodeChecker drops the two
// analysis_info foreign keys around its delete on PostgreSQL (and commits
// the drop first, so a crash leaves them dropped). We instead create the
// missing index inside the routine's transaction, before the sweep needs
// it, and drop it again before the commit: one O(n log n) build instead of
// one scan per deleted row, on both dialects. DDL is transactional on both,
// so nothing of it outlives the transaction, even on error or crash, and
// the schema stays exactly CodeChecker's (an index some later schema
// version adds is found and used instead). The source_component_files
// index is only built when there are files to delete. Costs: on PostgreSQL
// CREATE INDEX holds a SHARE lock on the referencing table (writers wait)
// and DROP INDEX an ACCESS EXCLUSIVE one, until the commit; a user who does
// not own the table cannot create the index, and the sweep then goes on
// without it (correct, only slower), with a warning.
//
// # Dry run
//
// Options.DryRun counts what each routine would remove or change, and
// writes nothing: the same batches, selected by the same "unused"
// conditions (with the rows an earlier routine would have removed not
// counted as users, see sweep.unused), the same cascade counts, the same
// severity decisions, but no DELETE, UPDATE or helper index. Every
// routine's transaction is read-only (PostgreSQL: REPEATABLE READ READ
// ONLY, one snapshot for the routine's batches; SQLite: a read
// transaction on a connection with PRAGMA query_only), so a write would be
// an error rather than a change. Without the helper indexes, a dry run
// reads each referencing column that has no index once per statement, not
// once per row: on SQLite as a NOT IN list, on PostgreSQL by a hashed
// anti-join, which it asks for by turning nested loops off for the
// routine's transaction (see tx.dryRunPlan).
package cleanup

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/dbconn"
	"supervisor/internal/event"
	"supervisor/internal/labels"
)

// Result keys: what each routine removed or changed. The cascaded counts
// (checker_set_items, extended_report_data, source_component_files) are the
// rows the database's ON DELETE CASCADE removed along with their parents,
// counted just before each delete.
const (
	KeyRunLocks             = "run_locks"
	KeyFiles                = "files"
	KeyFileContents         = "file_contents"
	KeyComments             = "comments"
	KeyAnalysisInfo         = "analysis_info"
	KeyCheckerSet           = "checker_set"
	KeySeverities           = "severities"
	KeyCheckerSetItems      = "checker_set_items"
	KeyExtendedReportData   = "extended_report_data"
	KeySourceComponentFiles = "source_component_files"
)

// Keys lists every key of Run's result map, in routine order.
var Keys = []string{
	KeyRunLocks,
	KeyFiles, KeyExtendedReportData, KeySourceComponentFiles, KeyFileContents,
	KeyComments,
	KeyAnalysisInfo,
	KeyCheckerSet, KeyCheckerSetItems,
	KeySeverities,
}

const (
	// RunLockTimeout is how long a run lock lives: CodeChecker's
	// RUN_LOCK_TIMEOUT_IN_DATABASE.
	RunLockTimeout = 30 * time.Minute
	// DefaultBatchSize is the batch size on SQLite when Options.BatchSize
	// is 0; PostgreSQL's is in sql_postgres.go.
	DefaultBatchSize = 5000
	// timestampLayout is how SQLAlchemy writes DATETIME on SQLite, and the
	// text CodeChecker's run-lock expiry compares with.
	timestampLayout = "2006-01-02 15:04:05.000000"
	// rollbackTimeout bounds the ROLLBACK after a failure or cancellation.
	rollbackTimeout = 30 * time.Second
)

// Options configure Run.
type Options struct {
	// Dialect is dbconn.SQLite or dbconn.Postgres.
	Dialect dbconn.Dialect
	// Labels are the checker labels for the severity upgrade; nil skips
	// that routine with one log line.
	Labels *labels.Labels
	// Now is the clock for run-lock expiry; nil means time.Now. Its result
	// is taken in the local time zone, because CodeChecker stores naive
	// local timestamps.
	Now func() time.Time
	// BatchSize is how many rows one statement deletes; 0 means the
	// dialect's default (DefaultBatchSize on SQLite). Values above the
	// dialect's bound-parameter limit (SQLite 30000, PostgreSQL 60000) are
	// capped.
	BatchSize int
	// Logger receives one line per routine (and per changed severity); nil
	// discards.
	Logger hclog.Logger
	// DryRun counts what would be removed or changed, writing nothing (see
	// the package comment); Run's counts are then what a real run on the
	// same data would return.
	DryRun bool
}

// Run runs every cleanup routine on db, in CodeChecker's order, each in its
// own transaction. It returns the counts by Keys (every key present, zero
// when nothing was removed). On error it stops, returns the counts of the
// routines that committed, and an error naming the failed routine.
//
// On SQLite, db must be a database/sql handle of the "sqlite" driver. Run
// uses one connection for everything and makes sure PRAGMA foreign_keys is
// on for it, since the cascades are part of the cleanup.
func Run(ctx context.Context, db *sql.DB, opts Options) (map[string]int64, error) {
	if db == nil {
		return nil, errors.New("cleanup: nil database")
	}
	if !opts.Dialect.Valid() {
		return nil, fmt.Errorf("cleanup: unknown dialect %q", opts.Dialect)
	}
	r := &runner{
		dialect: opts.Dialect,
		sql:     sqlOf(opts.Dialect),
		labels:  opts.Labels,
		now:     opts.Now,
		batch:   opts.BatchSize,
		log:     opts.Logger,
		dry:     opts.DryRun,
		counts:  make(map[string]int64, len(Keys)),
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.batch = r.sql.batchSize(opts.BatchSize)
	if r.log == nil {
		r.log = hclog.NewNullLogger()
	}
	for _, k := range Keys {
		r.counts[k] = 0
	}

	conn, err := db.Conn(ctx)
	if err != nil {
		return r.counts, fmt.Errorf("cleanup: get connection: %w", err)
	}
	r.conn = conn
	defer r.release()

	if r.sql.foreignKeysPragma {
		if err := r.enableForeignKeys(ctx); err != nil {
			return r.counts, fmt.Errorf("cleanup: %w", err)
		}
	}
	if r.dry && r.sql.queryOnlyPragma {
		if err := r.queryOnly(ctx); err != nil {
			return r.counts, fmt.Errorf("cleanup: %w", err)
		}
	}

	steps := []struct {
		what string
		fn   func(context.Context) error
		// extra are more words for the routine_started line.
		extra []any
	}{
		{"remove expired run locks", r.removeExpiredRunLocks, nil},
		{"remove unused files", r.removeUnusedFiles, nil},
		{"remove unused comments", r.removeUnusedComments, nil},
		{"remove unused analysis info", r.removeUnusedAnalysisInfo, nil},
		{"remove unused checker sets", r.removeUnusedCheckerSets, nil},
		{"upgrade severity levels", r.upgradeSeverityLevels, r.severityExtra()},
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return r.counts, fmt.Errorf("cleanup: %s: %w", s.what, err)
		}
		r.routine = s.what
		event.Emit(r.log, hclog.Debug, "cleanup routine started", event.Event{Kind: event.RoutineStarted, Routine: s.what}, s.extra...)
		if err := s.fn(ctx); err != nil {
			r.log.Error("cleanup routine failed", "routine", s.what, "error", err)
			return r.counts, fmt.Errorf("cleanup: %s: %w", s.what, err)
		}
	}
	return r.counts, nil
}

// runner holds one Run's state. It is used by one goroutine.
type runner struct {
	conn    *sql.Conn
	dialect dbconn.Dialect
	sql     *dialectSQL
	labels  *labels.Labels
	now     func() time.Time
	batch   int
	log     hclog.Logger
	// dry: count, write nothing (Options.DryRun).
	dry    bool
	counts map[string]int64
	// routine is the routine in progress, for its routine_done line.
	routine string
	// broken is set when the connection may be left inside a transaction
	// (a failed ROLLBACK); release then discards it.
	broken bool
}

// release returns the connection to the pool, or discards it when broken
// or left query-only by a dry run that could not turn it back.
func (r *runner) release() {
	if r.dry && r.sql.queryOnlyPragma && !r.broken {
		rctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
		_, err := r.conn.ExecContext(rctx, "PRAGMA query_only = OFF")
		cancel()
		r.broken = err != nil
	}
	if r.broken {
		// Returning driver.ErrBadConn from Raw makes database/sql close the
		// connection instead of reusing it.
		_ = r.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = r.conn.Close()
}

// enableForeignKeys turns SQLite foreign-key enforcement on for the
// connection (the cascades are part of the cleanup) and checks that it took.
func (r *runner) enableForeignKeys(ctx context.Context) error {
	if _, err := r.conn.ExecContext(ctx, "PRAGMA foreign_keys = ON"); err != nil {
		return fmt.Errorf("set PRAGMA foreign_keys=ON: %w", err)
	}
	var on int
	if err := r.conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil {
		return fmt.Errorf("read PRAGMA foreign_keys: %w", err)
	}
	if on != 1 {
		return errors.New("PRAGMA foreign_keys stays off")
	}
	return nil
}

// queryOnly makes the connection refuse every write to the database file
// (SQLite's PRAGMA query_only) for a dry run, and checks that it took;
// release turns it off again.
func (r *runner) queryOnly(ctx context.Context) error {
	if _, err := r.conn.ExecContext(ctx, "PRAGMA query_only = ON"); err != nil {
		return fmt.Errorf("set PRAGMA query_only=ON: %w", err)
	}
	var on int
	if err := r.conn.QueryRowContext(ctx, "PRAGMA query_only").Scan(&on); err != nil {
		return fmt.Errorf("read PRAGMA query_only: %w", err)
	}
	if on != 1 {
		return errors.New("PRAGMA query_only stays off")
	}
	return nil
}

// say is the message of a routine's line: done in a real run, would in a
// dry run.
func (r *runner) say(done, would string) string {
	if r.dry {
		return would
	}
	return done
}

// done records a committed routine's counts got and logs them as its
// event.RoutineDone line with the message msg, Rows in Keys order, and
// extra (never integers: in a routine_done line every integer is a count).
func (r *runner) done(msg string, got map[string]int64, start time.Time, extra ...any) {
	for k, v := range got {
		r.counts[k] += v
	}
	event.Emit(r.log, hclog.Info, msg, event.Event{
		Kind: event.RoutineDone, Routine: r.routine, Rows: got, RowKeys: Keys, Duration: time.Since(start),
	}, extra...)
}

// tx is one routine's open transaction on the runner's connection.
type tx struct {
	r   *runner
	ctx context.Context
}

// inTx runs fn in a transaction: BEGIN IMMEDIATE on SQLite, BEGIN on
// PostgreSQL, a read-only one in a dry run. It commits when fn returns nil
// and rolls back otherwise.
func (r *runner) inTx(ctx context.Context, fn func(*tx) error) error {
	begin := r.sql.begin
	if r.dry {
		begin = r.sql.beginReadOnly
	}
	if _, err := r.conn.ExecContext(ctx, begin); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(&tx{r: r, ctx: ctx}); err != nil {
		r.rollback(ctx)
		return err
	}
	if _, err := r.conn.ExecContext(ctx, "COMMIT"); err != nil {
		r.rollback(ctx)
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// rollback ends a failed transaction. It runs even when ctx is cancelled
// (a cancelled run must still release its locks); if it fails, the
// connection is not reused.
func (r *runner) rollback(ctx context.Context) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	if _, err := r.conn.ExecContext(rctx, "ROLLBACK"); err != nil {
		r.broken = true
	}
}

func (t *tx) exec(q string, args ...any) (int64, error) {
	res, err := t.r.conn.ExecContext(t.ctx, dbconn.Rebind(t.r.dialect, q), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *tx) query(q string, args ...any) (*sql.Rows, error) {
	return t.r.conn.QueryContext(t.ctx, dbconn.Rebind(t.r.dialect, q), args...)
}

func (t *tx) queryRow(q string, args ...any) *sql.Row {
	return t.r.conn.QueryRowContext(t.ctx, dbconn.Rebind(t.r.dialect, q), args...)
}

// placeholders returns "?, ?, ?" with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
