package cleanup

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
)

// wantSampleCounts is what Run reports for product-sample.sqlite: the
// garbage the fixture README counts, plus 51 severity changes (CodeChecker's
// 50 and cppcheck/memleak by deviation (c)).
var wantSampleCounts = map[string]int64{
	KeyRunLocks:             3,
	KeyFiles:                15,
	KeyFileContents:         17,
	KeyComments:             12,
	KeyAnalysisInfo:         5,
	KeyCheckerSet:           3,
	KeyCheckerSetItems:      80,
	KeyExtendedReportData:   1,
	KeySourceComponentFiles: 2,
	KeySeverities:           51,
}

// wantSampleRemoved is how many rows of each table the cleanup removes from
// product-sample.sqlite; every other row of every table must stay as it
// was (checkers change in place and are checked separately).
var wantSampleRemoved = map[string]int{
	"run_locks":              3,
	"files":                  15,
	"file_contents":          17,
	"comments":               12,
	"analysis_info":          5,
	"checker_set":            3,
	"checker_set_items":      80,
	"extended_report_data":   1,
	"source_component_files": 2,
}

func TestSample(t *testing.T) {
	db := openSQLite(t, copySample(t))
	lab := loadFixtureLabels(t)
	before := takeSnapshot(t, db)
	sevBefore := checkerSeverities(t, db)
	schema := tableRows(t, db, "sqlite_master")

	got, log := runCleanup(t, db, lab)
	if !maps.Equal(got, wantSampleCounts) {
		t.Errorf("Run counts = %v, want %v", got, wantSampleCounts)
	}
	after := takeSnapshot(t, db)
	if len(after) != len(before) {
		t.Fatalf("tables after = %d, before = %d", len(after), len(before))
	}
	for table, rows := range before {
		removed, added := diffRows(rows, after[table])
		if table == "checkers" {
			if len(removed) != 51 || len(added) != 51 {
				t.Errorf("checkers: %d rows changed (%d new versions), want 51", len(removed), len(added))
			}
			continue
		}
		if len(removed) != wantSampleRemoved[table] || len(added) != 0 {
			t.Errorf("%s: %d rows removed, %d rows added or changed; want %d removed, none added",
				table, len(removed), len(added), wantSampleRemoved[table])
			for _, r := range added {
				t.Logf("  added %s: %s", table, r)
			}
		}
	}
	removedLocks, _ := diffRows(before["run_locks"], after["run_locks"])
	for _, r := range removedLocks {
		if !strings.Contains(r, "crashed-store") {
			t.Errorf("removed a live run lock: %s", r)
		}
	}

	// Checkers: only severity changes, on 51 rows, all as the labels say.
	checkCheckerColumns(t, before["checkers"], after["checkers"])
	sevAfter := checkerSeverities(t, db)
	var changed []string
	for name, old := range sevBefore {
		if sevAfter[name] != old {
			changed = append(changed, name)
		}
	}
	if len(changed) != 51 {
		t.Errorf("%d checker severities changed, want 51", len(changed))
	}
	for name, want := range map[string][2]int64{
		"cppcheck/memleak":     {0, 40}, // deviation (c)
		"cppcheck/nullPointer": {20, 40},
		"clang-tidy/clang-diagnostic-future-compat-warning":     {0, 30},
		"clang-tidy/clang-diagnostic-vendor-specific-extension": {10, 30},
		"asan/AddressSanitizer":                                 {0, 40},
		"ubsan/UndefinedBehaviorSanitizer":                      {0, 40},
		"clangsa/optin.acme.LegacyChecker":                      {25, 25},
		"__FAKE__/__FAKE__":                                     {0, 0},
		"UNKNOWN/NOT FOUND":                                     {0, 0},
	} {
		if sevBefore[name] != want[0] || sevAfter[name] != want[1] {
			t.Errorf("%s: severity %d → %d, want %d → %d", name, sevBefore[name], sevAfter[name], want[0], want[1])
		}
	}
	for name, s := range sevBefore {
		if strings.HasPrefix(name, "acme-linter/") && sevAfter[name] != s {
			t.Errorf("%s (analyzer without labels) changed: %d → %d", name, s, sevAfter[name])
		}
	}
	if want := "Upgrading severity level of 'memleak' checker from UNSPECIFIED to HIGH"; !strings.Contains(log, want) {
		t.Errorf("log lacks %q", want)
	}
	if want := "Upgrading severity level of 'nullPointer' checker from LOW to HIGH"; !strings.Contains(log, want) {
		t.Errorf("log lacks %q", want)
	}
	if n := strings.Count(log, "Upgrading severity level of "); n != 51 {
		t.Errorf("log has %d severity upgrade lines, want 51", n)
	}
	// Each routine's routine_done line has its counts in Keys order.
	for _, want := range []struct{ msg, routine, counts string }{
		{"removed expired run locks", "remove expired run locks", "run_locks=3"},
		{"removed unused files", "remove unused files", "files=15 extended_report_data=1 source_component_files=2 file_contents=17"},
		{"removed unused comments", "remove unused comments", "comments=12"},
		{"removed unused analysis info", "remove unused analysis info", "analysis_info=5"},
		{"removed unused checker sets", "remove unused checker sets", "checker_set=3 checker_set_items=80"},
		{"upgraded severity levels", "upgrade severity levels", "severities=51"},
	} {
		line := regexp.MustCompile(`(?m)^.*` + regexp.QuoteMeta(want.msg+":") + `.*$`).FindString(log)
		if !strings.Contains(line, "event=routine_done") || !strings.Contains(line, `routine="`+want.routine+`"`) || !strings.Contains(line, " "+want.counts+" ") {
			t.Errorf("%s line = %q, want event=routine_done, routine=%q and %q; log:\n%s", want.msg, line, want.routine, want.counts, log)
		}
	}
	if !reflect.DeepEqual(schema, tableRows(t, db, "sqlite_master")) {
		t.Error("the schema changed (a temporary index left behind?)")
	}
	foreignKeyCheck(t, db)
}

// checkCheckerColumns checks that two renderings of the checkers table
// differ in the severity column only.
func checkCheckerColumns(t *testing.T, before, after []string) {
	t.Helper()
	strip := func(rows []string) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			cols := strings.Split(r, " | ")
			var keep []string
			for _, c := range cols {
				if !strings.HasPrefix(c, "severity=") {
					keep = append(keep, c)
				}
			}
			out[i] = strings.Join(keep, " | ")
		}
		sort.Strings(out)
		return out
	}
	if !reflect.DeepEqual(strip(before), strip(after)) {
		t.Error("checkers: columns other than severity changed")
	}
}

// TestSampleMatchesCodeChecker compares our cleanup with the CodeChecker
// reference on the sample: every table identical except the one checker
// deviation (c) changes.
func TestSampleMatchesCodeChecker(t *testing.T) {
	lab := loadFixtureLabels(t)
	ours := openSQLite(t, copySample(t))
	runCleanup(t, ours, lab)
	ref := openSQLite(t, copySample(t))
	codeCheckerCleanup(t, ref, lab)

	a, b := takeSnapshot(t, ours), takeSnapshot(t, ref)
	for table := range b {
		onlyOurs, onlyRef := diffRows(a[table], b[table])
		if table == "checkers" {
			if len(onlyOurs) != 1 || !strings.Contains(onlyOurs[0], "checker_name=string:memleak") ||
				len(onlyRef) != 1 || !strings.Contains(onlyRef[0], "checker_name=string:memleak") {
				t.Errorf("checkers: ours differs from CodeChecker in %q / %q, want cppcheck/memleak only", onlyOurs, onlyRef)
			}
			continue
		}
		if len(onlyOurs)+len(onlyRef) != 0 {
			t.Errorf("%s: %d rows only after our cleanup, %d only after CodeChecker's", table, len(onlyOurs), len(onlyRef))
		}
	}
}

// TestNullReferences is deviation (a): a NULL bug_path_events.file_id and a
// NULL files.content_hash make CodeChecker's NOT IN deletes remove nothing;
// ours still removes what is unused.
func TestNullReferences(t *testing.T) {
	lab := loadFixtureLabels(t)
	prepare := func(t *testing.T) *sql.DB {
		db := openSQLite(t, copySample(t))
		// A file nobody uses, with no content hash.
		execSQL(t, db, `INSERT INTO files (id, filepath, filename, content_hash) VALUES (100001, '/tmp/null-hash.c', 'null-hash.c', NULL)`)
		// A path event of a live report that names no file.
		execSQL(t, db, `INSERT INTO bug_path_events (line_begin, col_begin, line_end, col_end, "order", msg, file_id, report_id)
			SELECT 1, 1, 1, 1, max("order") + 1, 'no file', NULL, report_id FROM bug_path_events
			WHERE report_id = (SELECT min(report_id) FROM bug_path_events)`)
		return db
	}

	t.Run("ours", func(t *testing.T) {
		db := prepare(t)
		before := takeSnapshot(t, db)
		got, _ := runCleanup(t, db, lab)
		want := maps.Clone(wantSampleCounts)
		want[KeyFiles] = 16 // the 15 of the sample and the NULL-hash file
		if !maps.Equal(got, want) {
			t.Errorf("Run counts = %v, want %v", got, want)
		}
		after := takeSnapshot(t, db)
		removed, _ := diffRows(before["files"], after["files"])
		if !strings.Contains(strings.Join(removed, "\n"), "null-hash.c") {
			t.Error("the unused file with a NULL content hash survived")
		}
		if n := queryInt(t, db, `SELECT count(*) FROM bug_path_events WHERE file_id IS NULL`); n != 1 {
			t.Errorf("path events with a NULL file: %d, want 1", n)
		}
		foreignKeyCheck(t, db)
	})
	t.Run("CodeChecker", func(t *testing.T) {
		db := prepare(t)
		before := takeSnapshot(t, db)
		codeCheckerCleanup(t, db, lab)
		after := takeSnapshot(t, db)
		for _, table := range []string{"files", "file_contents"} {
			if removed, _ := diffRows(before[table], after[table]); len(removed) != 0 {
				t.Errorf("CodeChecker removed %d %s; its NOT IN should remove none", len(removed), table)
			}
		}
	})
}

// TestReportFileOffPath is deviation (b): a report whose own file is on
// none of the bug path events and points keeps its file (CodeChecker
// deletes the file, and the cascade deletes the live report).
func TestReportFileOffPath(t *testing.T) {
	lab := loadFixtureLabels(t)
	prepare := func(t *testing.T) (*sql.DB, int64) {
		db := openSQLite(t, copySample(t))
		report := queryInt(t, db, `SELECT min(id) FROM reports`)
		execSQL(t, db, `INSERT INTO files (id, filepath, filename, content_hash)
			SELECT 100002, '/tmp/off-path.c', 'off-path.c', content_hash FROM files
			WHERE id = (SELECT file_id FROM reports WHERE id = ?)`, report)
		execSQL(t, db, `UPDATE reports SET file_id = 100002 WHERE id = ?`, report)
		return db, report
	}

	t.Run("ours", func(t *testing.T) {
		db, report := prepare(t)
		reports := queryInt(t, db, `SELECT count(*) FROM reports`)
		got, _ := runCleanup(t, db, lab)
		if !maps.Equal(got, wantSampleCounts) {
			t.Errorf("Run counts = %v, want %v", got, wantSampleCounts)
		}
		if n := queryInt(t, db, `SELECT count(*) FROM files WHERE id = 100002`); n != 1 {
			t.Error("the report's own file was removed")
		}
		if n := queryInt(t, db, `SELECT count(*) FROM reports WHERE id = ? AND file_id = 100002`, report); n != 1 {
			t.Error("the report whose file is off its path was removed")
		}
		if n := queryInt(t, db, `SELECT count(*) FROM reports`); n != reports {
			t.Errorf("reports: %d after, %d before", n, reports)
		}
		foreignKeyCheck(t, db)
	})
	t.Run("CodeChecker", func(t *testing.T) {
		db, report := prepare(t)
		codeCheckerCleanup(t, db, lab)
		if n := queryInt(t, db, `SELECT count(*) FROM reports WHERE id = ?`, report); n != 0 {
			t.Error("CodeChecker's cleanup kept the report; the reference should lose it")
		}
	})
}

// TestRunTwice: a second run finds nothing.
func TestRunTwice(t *testing.T) {
	db := openSQLite(t, copySample(t))
	lab := loadFixtureLabels(t)
	runCleanup(t, db, lab)
	first := takeSnapshot(t, db)
	got, _ := runCleanup(t, db, lab)
	for k, v := range got {
		if v != 0 {
			t.Errorf("second run: %s = %d, want 0", k, v)
		}
	}
	if len(got) != len(Keys) {
		t.Errorf("second run returned %d keys, want %d", len(got), len(Keys))
	}
	if !reflect.DeepEqual(first, takeSnapshot(t, db)) {
		t.Error("second run changed the database")
	}
}

// TestBatchSizes: the batch size changes nothing in the outcome.
func TestBatchSizes(t *testing.T) {
	lab := loadFixtureLabels(t)
	var want snapshot
	for _, size := range []int{1, 3, 0, 100000} {
		db := openSQLite(t, copySample(t))
		got, err := Run(context.Background(), db, Options{Dialect: dbconn.SQLite, Labels: lab, Now: fixedNow, BatchSize: size})
		if err != nil {
			t.Fatalf("batch %d: %v", size, err)
		}
		if !maps.Equal(got, wantSampleCounts) {
			t.Errorf("batch %d: counts %v, want %v", size, got, wantSampleCounts)
		}
		s := takeSnapshot(t, db)
		if want == nil {
			want = s
		} else if !reflect.DeepEqual(s, want) {
			t.Errorf("batch %d: result differs from batch 1", size)
		}
	}
}

// TestNoLabels: without labels the severity upgrade is skipped, saying so.
func TestNoLabels(t *testing.T) {
	db := openSQLite(t, copySample(t))
	before := tableRows(t, db, "checkers")
	got, log := runCleanup(t, db, nil)
	want := maps.Clone(wantSampleCounts)
	want[KeySeverities] = 0
	if !maps.Equal(got, want) {
		t.Errorf("Run counts = %v, want %v", got, want)
	}
	if !reflect.DeepEqual(before, tableRows(t, db, "checkers")) {
		t.Error("checkers changed without labels")
	}
	if n := strings.Count(log, "severity upgrade skipped"); n != 1 {
		t.Errorf("log has %d skip notices, want 1; log:\n%s", n, log)
	}
}

// TestForeignKeysOffInDSN: Run turns foreign keys on itself, so the
// cascades still happen.
func TestForeignKeysOffInDSN(t *testing.T) {
	path := copySample(t)
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	got, _ := runCleanup(t, db, loadFixtureLabels(t))
	if !maps.Equal(got, wantSampleCounts) {
		t.Errorf("Run counts = %v, want %v", got, wantSampleCounts)
	}
	foreignKeyCheck(t, db)
}

// TestCancelled: a cancelled context stops Run with the context's error,
// and the connection stays usable with foreign keys on.
func TestCancelled(t *testing.T) {
	db := openSQLite(t, copySample(t))
	before := takeSnapshot(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, db, Options{Dialect: dbconn.SQLite, Now: fixedNow})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v, want context.Canceled", err)
	}
	if !reflect.DeepEqual(before, takeSnapshot(t, db)) {
		t.Error("a cancelled run changed the database")
	}
	if n := queryInt(t, db, "PRAGMA foreign_keys"); n != 1 {
		t.Errorf("PRAGMA foreign_keys = %d after a cancelled run, want 1", n)
	}
}

func TestBadOptions(t *testing.T) {
	db := openSQLite(t, copySample(t))
	if _, err := Run(context.Background(), db, Options{Dialect: "mysql"}); err == nil {
		t.Error("Run with dialect mysql succeeded")
	}
	if _, err := Run(context.Background(), nil, Options{Dialect: dbconn.SQLite}); err == nil {
		t.Error("Run with a nil db succeeded")
	}
}

// TestBatchSizeByDialect: Options.BatchSize 0 takes the dialect's default,
// and a size over the dialect's bound-parameter limit is capped to it
// (PostgreSQL's batches may be bigger than SQLite's).
func TestBatchSizeByDialect(t *testing.T) {
	for _, tc := range []struct {
		dialect dbconn.Dialect
		asked   int
		want    int
	}{
		{dbconn.SQLite, 0, DefaultBatchSize},
		{dbconn.SQLite, -1, DefaultBatchSize},
		{dbconn.SQLite, 7, 7},
		{dbconn.SQLite, 30000, 30000},
		{dbconn.SQLite, 50000, 30000},
		{dbconn.Postgres, 0, 60000},
		{dbconn.Postgres, 7, 7},
		{dbconn.Postgres, 50000, 50000},
		{dbconn.Postgres, 100000, 60000},
	} {
		if got := sqlOf(tc.dialect).batchSize(tc.asked); got != tc.want {
			t.Errorf("%s, BatchSize %d: got batch %d, want %d", tc.dialect, tc.asked, got, tc.want)
		}
	}
}
