package fleet

import (
	"context"
	"fmt"
)

// The tables Fill writes and the columns it names. The leftover SQLite
// columns (reports.checker_name_MOVED_TO_checkers, checker_cat_UNUSED,
// bug_type_UNUSED, severity_MOVED_TO_checkers,
// analyzer_name_MOVED_TO_checkers, runs.command,
// run_histories.check_command) are deliberately absent: they have defaults or
// are nullable, and a later schema drops them.
var (
	tCheckers                = newTable("checkers", "id", "analyzer_name", "checker_name", "severity")
	tCheckerSet              = newTable("checker_set", "id", "hash_digest")
	tCheckerSetItems         = newTable("checker_set_items", "checker_set_id", "checker_id", "enabled")
	tRuns                    = newTable("runs", "id", "date", "duration", "name", "version", "can_delete")
	tRunHistories            = newTable("run_histories", "id", "run_id", "version_tag", "user", "time", "cc_version", "description")
	tAnalyzerStatistics      = newTable("analyzer_statistics", "id", "run_history_id", "analyzer_type", "version", "successful", "failed", "failed_files")
	tAnalysisInfo            = newTable("analysis_info", "id", "analyzer_command", "checker_set_id")
	tRunHistoryAnalysisInfo  = newTable("run_history_analysis_info", "run_history_id", "analysis_info_id")
	tFileContents            = newTable("file_contents", "content_hash", "content", "blame_info")
	tFiles                   = newTable("files", "id", "filepath", "filename", "content_hash")
	tReports                 = newTable("reports", "id", "file_id", "run_id", "bug_id", "line", "column", "checker_message", "detection_status", "detected_at", "fixed_at", "path_length", "review_status", "review_status_author", "review_status_date", "review_status_is_in_source", "review_status_message", "checker_id")
	tBugPathEvents           = newTable("bug_path_events", "line_begin", "col_begin", "line_end", "col_end", "order", "msg", "file_id", "report_id")
	tBugReportPoints         = newTable("bug_report_points", "line_begin", "col_begin", "line_end", "col_end", "order", "file_id", "report_id")
	tExtendedReportData      = newTable("extended_report_data", "id", "report_id", "file_id", "type", "line_begin", "col_begin", "line_end", "col_end", "message")
	tReportAnnotations       = newTable("report_annotations", "report_id", "key", "value")
	tReportAnalysisInfo      = newTable("report_analysis_info", "report_id", "analysis_info_id")
	tComments                = newTable("comments", "id", "bug_hash", "author", "message", "created_at", "kind")
	tReviewStatuses          = newTable("review_statuses", "bug_hash", "status", "author", "message", "date")
	tSourceComponents        = newTable("source_components", "name", "value", "description", "username")
	tSourceComponentFiles    = newTable("source_component_files", "source_component_name", "file_id")
	tCleanupPlans            = newTable("cleanup_plans", "id", "name", "due_date", "description", "closed_at")
	tCleanupPlanReportHashes = newTable("cleanup_plan_report_hashes", "cleanup_plan_id", "bug_hash")
	tFilterPresets           = newTable("filter_presets", "id", "preset_name", "report_filter")
	tRunLocks                = newTable("run_locks", "name", "locked_at", "username")
)

// blobEncoding is how CodeChecker stores the bytes of a BLOB (bytea) column.
type blobEncoding int

const (
	// plainBlob columns hold the text's UTF-8 bytes as they are.
	plainBlob blobEncoding = iota
	// zlibBlob columns hold the bytes zlib-compressed (CodeChecker's
	// zlib.compress; readers only inflate).
	zlibBlob
)

// blobColumns lists every BLOB column Fill writes, with the encoding
// CodeChecker's server uses for it: file contents, blame info, analyzer
// versions, failed-file lists and analyzer commands are compressed; comments,
// review-status messages and source-component values are plain UTF-8, which
// is what CodeChecker's client decodes them as (a compressed review message
// makes `CodeChecker cmd results` fail with "'utf-8' codec can't decode").
// Every payload Fill writes into one of these columns goes through blob, so
// this list is the one place that decides.
var blobColumns = map[string]blobEncoding{
	"file_contents.content":            zlibBlob,
	"file_contents.blame_info":         zlibBlob,
	"analyzer_statistics.version":      zlibBlob,
	"analyzer_statistics.failed_files": zlibBlob,
	"analysis_info.analyzer_command":   zlibBlob,
	"comments.message":                 plainBlob,
	"reports.review_status_message":    plainBlob,
	"review_statuses.message":          plainBlob,
	"source_components.value":          plainBlob,
}

// blob returns text encoded for column ("table.column") as CodeChecker
// stores it. A column missing from blobColumns is a programming error.
func blob(column, text string) []byte {
	enc, ok := blobColumns[column]
	if !ok {
		panic("fleet: BLOB column " + column + " is not in blobColumns")
	}
	if enc == zlibBlob {
		return deflate(text)
	}
	return []byte(text)
}

var tableCount int

func newTable(name string, cols ...string) *table {
	t := &table{name: name, cols: cols, id: tableCount, rowid: cols[0] == "id"}
	tableCount++
	return t
}

// mustBeEmpty are the tables that must hold no rows before Fill.
var mustBeEmpty = []*table{
	tRuns, tRunHistories, tAnalysisInfo, tCheckerSet, tFileContents, tFiles, tReports,
	tComments, tReviewStatuses, tRunLocks, tSourceComponents, tCleanupPlans, tFilterPresets,
}

const checkersQuery = "SELECT id, analyzer_name, checker_name FROM checkers"

type (
	// querier runs the one-off queries Fill makes before it writes.
	querier interface {
		queryInt(ctx context.Context, query string) (int64, error)
		checkers(ctx context.Context) ([]existingChecker, error)
	}

	// existingChecker is a checkers row that was there before Fill.
	existingChecker struct {
		id             int64
		analyzer, name string
	}

	// preState is what Fill learns about the database before writing.
	preState struct {
		checkers []existingChecker
	}
)

// prepare checks that the product is empty and reads the checkers already
// there (the migrations' seed rows).
func prepare(ctx context.Context, q querier) (preState, error) {
	var pre preState
	for _, t := range mustBeEmpty {
		n, err := q.queryInt(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM "+t.name+" LIMIT 1) AS probe")
		if err != nil {
			return pre, fmt.Errorf("look into table %s: %w", t.name, err)
		}
		if n > 0 {
			return pre, fmt.Errorf("%w: table %s has rows", ErrNotEmpty, t.name)
		}
	}
	cs, err := q.checkers(ctx)
	if err != nil {
		return pre, fmt.Errorf("read checkers: %w", err)
	}
	pre.checkers = cs
	return pre, nil
}
