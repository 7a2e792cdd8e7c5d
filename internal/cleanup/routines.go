package cleanup

import (
	"context"
	"strings"
	"time"
)

// The "unused" conditions. Each one is a NOT EXISTS anti-join on an
// indexed referencing column where the schema has one (see the package
// comment), written on the table's own name so that it also works inside
// DELETE.
const (
	// unusedFile: on no bug path event or point (CodeChecker's rule) and,
	// unlike CodeChecker, named by no report (deviation (b)).
	unusedFile = `NOT EXISTS (SELECT 1 FROM bug_path_events WHERE bug_path_events.file_id = files.id)` +
		` AND NOT EXISTS (SELECT 1 FROM bug_report_points WHERE bug_report_points.file_id = files.id)` +
		` AND NOT EXISTS (SELECT 1 FROM reports WHERE reports.file_id = files.id)`
	unusedFileContent = `NOT EXISTS (SELECT 1 FROM files WHERE files.content_hash = file_contents.content_hash)`
	unusedComment     = `NOT EXISTS (SELECT 1 FROM reports WHERE reports.bug_id = comments.bug_hash)`
	unusedAnalysis    = `NOT EXISTS (SELECT 1 FROM run_history_analysis_info WHERE run_history_analysis_info.analysis_info_id = analysis_info.id)` +
		` AND NOT EXISTS (SELECT 1 FROM report_analysis_info WHERE report_analysis_info.analysis_info_id = analysis_info.id)`
	unusedCheckerSet = `NOT EXISTS (SELECT 1 FROM analysis_info WHERE analysis_info.checker_set_id = checker_set.id)`
)

var (
	filesSweep = sweep{
		key: KeyFiles, table: "files", column: "id", unused: unusedFile,
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
		unused: unusedFileContent,
	}
	commentsSweep = sweep{
		key: KeyComments, table: "comments", column: "id", unused: unusedComment,
	}
	analysisInfoSweep = sweep{
		key: KeyAnalysisInfo, table: "analysis_info", column: "id", unused: unusedAnalysis,
		// The unused condition and the foreign-key checks of the delete
		// both look these up.
		helpers: []column{
			{"run_history_analysis_info", "analysis_info_id"},
			{"report_analysis_info", "analysis_info_id"},
		},
	}
	checkerSetSweep = sweep{
		key: KeyCheckerSet, table: "checker_set", column: "id", unused: unusedCheckerSet,
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
		n, err = t.exec(r.sql.expiredRunLocks, cutoff)
		return err
	})
	if err != nil {
		return err
	}
	r.done("removed expired run locks", map[string]int64{KeyRunLocks: n}, start, "locked_before", cutoff)
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
	r.done("removed unused files", got, start)
	return nil
}

// removeUnusedComments deletes the comments whose bug hash no report has.
func (r *runner) removeUnusedComments(ctx context.Context) error {
	return r.simpleSweep(ctx, commentsSweep, "removed unused comments")
}

// removeUnusedCheckerSets deletes the checker sets no analysis info uses;
// their checker_set_items go with them by ON DELETE CASCADE.
func (r *runner) removeUnusedCheckerSets(ctx context.Context) error {
	return r.simpleSweep(ctx, checkerSetSweep, "removed unused checker sets")
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
	return r.simpleSweep(ctx, analysisInfoSweep, "removed unused analysis info")
}

// quoteIdent quotes an SQL identifier (the same way for both dialects).
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
