package cleanup

import (
	"context"
	"strings"
	"time"
)

// The "unused" conditions, one per table a routine sweeps: no row of any
// referencing table points at the row. Each is rendered as a NOT EXISTS
// anti-join on the referencing column, indexed in the schema where it has
// an index (see the package comment and sweep.unused), written on the
// table's own name so that it also works inside DELETE.
var (
	// unusedFile: on no bug path event or point (CodeChecker's rule) and,
	// unlike CodeChecker, named by no report (deviation (b)).
	unusedFile = []ref{
		{table: "bug_path_events", column: "file_id", key: "id"},
		{table: "bug_report_points", column: "file_id", key: "id"},
		{table: "reports", column: "file_id", key: "id"},
	}
	unusedFileContent = []ref{{table: "files", column: "content_hash", key: "content_hash", removedBy: &filesSweep}}
	unusedComment     = []ref{{table: "reports", column: "bug_id", key: "bug_hash"}}
	unusedAnalysis    = []ref{
		{table: "run_history_analysis_info", column: "analysis_info_id", key: "id"},
		{table: "report_analysis_info", column: "analysis_info_id", key: "id"},
	}
	unusedCheckerSet = []ref{{table: "analysis_info", column: "checker_set_id", key: "id", removedBy: &analysisInfoSweep}}
)

var (
	filesSweep = sweep{
		key: KeyFiles, table: "files", column: "id", refs: unusedFile,
		cascades: []cascade{
			{KeyExtendedReportData, "extended_report_data", "file_id"},
			{KeySourceComponentFiles, "source_component_files", "file_id"},
		},
		// Only the ON DELETE CASCADE to source_component_files needs it.
		helpers:     []column{{"source_component_files", "file_id"}},
		lazyHelpers: true,
	}
	fileContentsSweep = sweep{
		key: KeyFileContents, table: "file_contents", column: "content_hash", text: true,
		refs: unusedFileContent,
	}
	commentsSweep = sweep{
		key: KeyComments, table: "comments", column: "id", refs: unusedComment,
	}
	analysisInfoSweep = sweep{
		key: KeyAnalysisInfo, table: "analysis_info", column: "id", refs: unusedAnalysis,
		// The unused condition and the foreign-key checks of the delete
		// both look these up.
		helpers: []column{
			{"run_history_analysis_info", "analysis_info_id"},
			{"report_analysis_info", "analysis_info_id"},
		},
	}
	checkerSetSweep = sweep{
		key: KeyCheckerSet, table: "checker_set", column: "id", refs: unusedCheckerSet,
		cascades: []cascade{
			{KeyCheckerSetItems, "checker_set_items", "checker_set_id"},
		},
		// The unused condition looks it up, and so does the PostgreSQL-only
		// foreign key from analysis_info.
		helpers: []column{{"analysis_info", "checker_set_id"}},
	}
)

// removeExpiredRunLocks deletes the run locks taken more than
// RunLockTimeout ago. CodeChecker stores locked_at as a naive local time
// (text on SQLite, timestamp without time zone on PostgreSQL) and compares
// it with a naive local cut-off; so do we, as text on SQLite.
func (r *runner) removeExpiredRunLocks(ctx context.Context) error {
	start := time.Now()
	cutoff := r.now().Local().Add(-RunLockTimeout).Format(timestampLayout)
	var n int64
	err := r.inTx(ctx, func(t *tx) (err error) {
		if r.dry {
			return t.queryRow("SELECT count(*) FROM run_locks WHERE "+r.sql.expiredRunLocks, cutoff).Scan(&n)
		}
		n, err = t.exec("DELETE FROM run_locks WHERE "+r.sql.expiredRunLocks, cutoff)
		return err
	})
	if err != nil {
		return err
	}
	r.done(r.say("removed expired run locks", "would remove expired run locks"), map[string]int64{KeyRunLocks: n}, start, "locked_before", cutoff)
	return nil
}

// removeUnusedFiles deletes the files no bug path event, bug report point
// or report uses, then the file contents no file uses, in one transaction.
// extended_report_data and source_component_files rows of those files go
// with them by ON DELETE CASCADE.
func (r *runner) removeUnusedFiles(ctx context.Context) error {
	start := time.Now()
	got := map[string]int64{}
	err := r.inTx(ctx, func(t *tx) error {
		files, err := filesSweep.run(t)
		if err != nil {
			return err
		}
		contents, err := fileContentsSweep.run(t)
		if err != nil {
			return err
		}
		for k, v := range files {
			got[k] = v
		}
		for k, v := range contents {
			got[k] = v
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.done(r.say("removed unused files", "would remove unused files"), got, start)
	return nil
}

// removeUnusedComments deletes the comments whose bug hash no report has.
func (r *runner) removeUnusedComments(ctx context.Context) error {
	return r.simpleSweep(ctx, commentsSweep, r.say("removed unused comments", "would remove unused comments"))
}

// removeUnusedCheckerSets deletes the checker sets no analysis info uses;
// their checker_set_items go with them by ON DELETE CASCADE.
func (r *runner) removeUnusedCheckerSets(ctx context.Context) error {
	return r.simpleSweep(ctx, checkerSetSweep, r.say("removed unused checker sets", "would remove unused checker sets"))
}

// simpleSweep runs one sweep in its own transaction and logs msg.
func (r *runner) simpleSweep(ctx context.Context, s sweep, msg string) error {
	start := time.Now()
	var got map[string]int64
	err := r.inTx(ctx, func(t *tx) (err error) {
		got, err = s.run(t)
		return err
	})
	if err != nil {
		return err
	}
	r.done(msg, got, start)
	return nil
}

// removeUnusedAnalysisInfo deletes the analysis info neither link table
// references.
func (r *runner) removeUnusedAnalysisInfo(ctx context.Context) error {
	return r.simpleSweep(ctx, analysisInfoSweep, r.say("removed unused analysis info", "would remove unused analysis info"))
}

// quoteIdent quotes an SQL identifier (the same way for both dialects).
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
