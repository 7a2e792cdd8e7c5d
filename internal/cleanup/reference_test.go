package cleanup

import (
	"database/sql"
	"testing"

	"supervisor/internal/labels"
)

// codeCheckerCleanup does, on a SQLite database, what CodeChecker's
// db_cleanup does, with the SQL SQLAlchemy emits for it (NOT IN, outer
// joins) and CodeChecker's order of severity checks. The tests compare our
// cleanup with it: the results must agree except where we deliberately
// differ.
func codeCheckerCleanup(tb testing.TB, db *sql.DB, lab *labels.Labels) {
	tb.Helper()
	cutoff := fixedNow().Add(-RunLockTimeout).Format(timestampLayout)
	execSQL(tb, db, `DELETE FROM run_locks WHERE locked_at < ?`, cutoff)
	execSQL(tb, db, `DELETE FROM files WHERE files.id NOT IN (SELECT bug_path_events.file_id FROM bug_path_events GROUP BY bug_path_events.file_id)
		AND files.id NOT IN (SELECT bug_report_points.file_id FROM bug_report_points GROUP BY bug_report_points.file_id)`)
	execSQL(tb, db, `DELETE FROM file_contents WHERE file_contents.content_hash NOT IN (SELECT files.content_hash FROM files GROUP BY files.content_hash)`)
	execSQL(tb, db, `DELETE FROM comments WHERE comments.id IN (SELECT comments.id FROM comments
		LEFT OUTER JOIN reports ON comments.bug_hash = reports.bug_id WHERE reports.id IS NULL)`)
	execSQL(tb, db, `DELETE FROM analysis_info WHERE analysis_info.id IN (SELECT analysis_info.id FROM analysis_info
		LEFT OUTER JOIN run_history_analysis_info ON run_history_analysis_info.analysis_info_id = analysis_info.id
		LEFT OUTER JOIN report_analysis_info ON report_analysis_info.analysis_info_id = analysis_info.id
		WHERE run_history_analysis_info.analysis_info_id IS NULL AND report_analysis_info.analysis_info_id IS NULL)`)
	execSQL(tb, db, `DELETE FROM checker_set WHERE checker_set.id NOT IN (SELECT analysis_info.checker_set_id FROM analysis_info
		WHERE analysis_info.checker_set_id IS NOT NULL GROUP BY analysis_info.checker_set_id)`)
	for _, analyzer := range lab.Analyzers() {
		rows, err := db.Query(`SELECT id, checker_name, severity FROM checkers WHERE analyzer_name = ?`, analyzer)
		if err != nil {
			tb.Fatal(err)
		}
		var updates [][2]int64
		for rows.Next() {
			var c checkerRow
			if err := rows.Scan(&c.id, &c.name, &c.severity); err != nil {
				tb.Fatal(err)
			}
			if d := decideSeverity(lab, analyzer, c.name.String, c.severity, true); d.Update {
				updates = append(updates, [2]int64{int64(d.NewValue), c.id})
			}
		}
		rows.Close()
		for _, u := range updates {
			execSQL(tb, db, `UPDATE checkers SET severity = ? WHERE id = ?`, u[0], u[1])
		}
	}
}

// TestReferenceMatchesFixtureREADME checks the reference itself against the
// counts the fixture's README gives for CodeChecker's behaviour.
func TestReferenceMatchesFixtureREADME(t *testing.T) {
	db := openSQLite(t, copySample(t))
	before := takeSnapshot(t, db)
	codeCheckerCleanup(t, db, loadFixtureLabels(t))
	after := takeSnapshot(t, db)
	want := map[string]int{
		"run_locks": 3, "files": 15, "file_contents": 17, "comments": 12,
		"analysis_info": 5, "checker_set": 3, "checker_set_items": 80,
		"extended_report_data": 1, "source_component_files": 2,
		"checkers": 50, // CodeChecker's severity changes
	}
	for table := range before {
		removed, _ := diffRows(before[table], after[table])
		if len(removed) != want[table] {
			t.Errorf("CodeChecker reference changed %d rows of %s, want %d", len(removed), table, want[table])
		}
	}
}
