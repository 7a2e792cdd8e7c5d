package fleet

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"supervisor/internal/testutil"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"
)

var fixtureDir = testutil.Fixtures

// fixture returns the path of a CodeChecker-made fixture file in the
// checkout's testdata/codechecker.
func fixture(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join(fixtureDir, name)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("fixture %s: %v", name, err)
	}
	return p
}

// emptyProduct copies the empty product fixture into a temporary directory
// and opens it the way the supervisor does.
func emptyProduct(tb testing.TB) (*sql.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "product.sqlite")
	if err := CopySQLite(fixture(tb, "product-head.sqlite"), path); err != nil {
		tb.Fatal(err)
	}
	return openSQLite(tb, path), path
}

func openSQLite(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func fill(tb testing.TB, db *sql.DB, o Options) Garbage {
	tb.Helper()
	g, err := Fill(context.Background(), db, o)
	if err != nil {
		tb.Fatalf("Fill(%+v): %v", o, err)
	}
	return g
}

func queryInt(tb testing.TB, db *sql.DB, q string, args ...any) int64 {
	tb.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}

// The garbage queries: what CodeChecker's cleanup would remove, written
// independently of the generator.
const (
	liveFile = `(EXISTS (SELECT 1 FROM bug_path_events e WHERE e.file_id = f.id)
		OR EXISTS (SELECT 1 FROM bug_report_points p WHERE p.file_id = f.id)
		OR EXISTS (SELECT 1 FROM reports r WHERE r.file_id = f.id))`
	liveAI = `(EXISTS (SELECT 1 FROM run_history_analysis_info h WHERE h.analysis_info_id = a.id)
		OR EXISTS (SELECT 1 FROM report_analysis_info l WHERE l.analysis_info_id = a.id))`

	garbageFilesQ        = `SELECT COUNT(*) FROM files f WHERE NOT ` + liveFile
	garbageContentsQ     = `SELECT COUNT(*) FROM file_contents c WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.content_hash = c.content_hash AND ` + liveFile + `)`
	garbageCommentsQ     = `SELECT COUNT(*) FROM comments c WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.bug_id = c.bug_hash)`
	garbageAnalysisQ     = `SELECT COUNT(*) FROM analysis_info a WHERE NOT ` + liveAI
	garbageSetsQ         = `SELECT COUNT(*) FROM checker_set s WHERE NOT EXISTS (SELECT 1 FROM analysis_info a WHERE a.checker_set_id = s.id AND ` + liveAI + `)`
	garbageSetItemsQ     = `SELECT COUNT(*) FROM checker_set_items WHERE checker_set_id IN (SELECT s.id FROM checker_set s WHERE NOT EXISTS (SELECT 1 FROM analysis_info a WHERE a.checker_set_id = s.id AND ` + liveAI + `))`
	expiredRunLocksQuery = `SELECT COUNT(*) FROM run_locks WHERE locked_at < $1`
)

// countGarbage counts the garbage in db with SQL. cutoff is the run lock
// expiry cutoff as the dialect compares it.
func countGarbage(tb testing.TB, db *sql.DB, cutoff any) Garbage {
	tb.Helper()
	return Garbage{
		ExpiredRunLocks: queryInt(tb, db, expiredRunLocksQuery, cutoff),
		Files:           queryInt(tb, db, garbageFilesQ),
		FileContents:    queryInt(tb, db, garbageContentsQ),
		Comments:        queryInt(tb, db, garbageCommentsQ),
		AnalysisInfo:    queryInt(tb, db, garbageAnalysisQ),
		CheckerSets:     queryInt(tb, db, garbageSetsQ),
		CheckerSetItems: queryInt(tb, db, garbageSetItemsQ),
	}
}

// sqliteCutoff is CodeChecker's run lock expiry (30 minutes ago) as SQLite
// compares it: text.
func sqliteCutoff() string {
	return time.Now().UTC().Add(-30 * time.Minute).Format("2006-01-02 15:04:05.000000")
}

func checkGarbage(tb testing.TB, db *sql.DB, got Garbage, cutoff any) {
	tb.Helper()
	want := countGarbage(tb, db, cutoff)
	if got != want {
		tb.Errorf("Fill returned garbage %+v, SQL counts %+v", got, want)
	}
	for name, n := range map[string]int64{
		"ExpiredRunLocks": got.ExpiredRunLocks, "Files": got.Files, "FileContents": got.FileContents,
		"Comments": got.Comments, "AnalysisInfo": got.AnalysisInfo, "CheckerSets": got.CheckerSets,
		"CheckerSetItems": got.CheckerSetItems,
	} {
		if n < 1 {
			tb.Errorf("garbage %s = %d, want at least 1", name, n)
		}
	}
}

// checkSQLiteClean runs SQLite's own consistency checks.
func checkSQLiteClean(tb testing.TB, db *sql.DB) {
	tb.Helper()
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			tb.Fatal(err)
		}
		if len(bad) < 10 {
			bad = append(bad, fmt.Sprintf("%s rowid %v -> %s", table, rowid.Int64, parent))
		}
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(bad) > 0 {
		tb.Errorf("foreign_key_check: %s", strings.Join(bad, "; "))
	}
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil {
		tb.Fatal(err)
	}
	if ok != "ok" {
		tb.Errorf("integrity_check = %q, want ok", ok)
	}
}

// checkContent checks that the content is shaped like a real product.
func checkContent(t *testing.T, db *sql.DB, o Options) {
	t.Helper()
	if n := queryInt(t, db, "SELECT COUNT(*) FROM reports"); n != int64(o.Reports) {
		t.Errorf("reports = %d, want %d", n, o.Reports)
	}
	runs := o.Runs
	if runs == 0 {
		runs = 3
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM runs"); n != int64(runs) {
		t.Errorf("runs = %d, want %d", n, runs)
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM runs WHERE NOT can_delete"); n != 1 {
		t.Errorf("runs with can_delete off = %d, want 1", n)
	}
	for _, q := range []string{
		// The report's own file is always on its path.
		"SELECT COUNT(*) FROM reports r WHERE NOT EXISTS (SELECT 1 FROM bug_path_events e WHERE e.report_id = r.id AND e.file_id = r.file_id)",
		"SELECT COUNT(*) FROM reports r WHERE NOT EXISTS (SELECT 1 FROM bug_report_points p WHERE p.report_id = r.id AND p.file_id = r.file_id)",
		"SELECT COUNT(*) FROM reports r WHERE r.path_length <> (SELECT COUNT(*) FROM bug_path_events e WHERE e.report_id = r.id)",
		"SELECT COUNT(*) FROM reports r WHERE NOT EXISTS (SELECT 1 FROM checkers c WHERE c.id = r.checker_id)",
		"SELECT COUNT(*) FROM reports r WHERE r.checker_id IN (1, 2)",
		"SELECT COUNT(*) FROM reports r WHERE NOT EXISTS (SELECT 1 FROM report_analysis_info l WHERE l.report_id = r.id)",
		"SELECT COUNT(*) FROM reports WHERE length(bug_id) <> 32",
		"SELECT COUNT(*) FROM reports WHERE (detection_status IN ('resolved', 'off', 'unavailable')) <> (fixed_at IS NOT NULL)",
		"SELECT COUNT(*) FROM reports WHERE (review_status = 'unreviewed') <> (review_status_author IS NULL)",
		"SELECT COUNT(*) FROM checkers WHERE severity NOT IN (0, 10, 20, 30, 40, 50)",
		"SELECT COUNT(*) FROM files WHERE content_hash IS NULL OR NOT EXISTS (SELECT 1 FROM file_contents c WHERE c.content_hash = files.content_hash)",
		"SELECT COUNT(*) FROM bug_path_events WHERE file_id IS NULL",
		"SELECT COUNT(*) FROM bug_report_points WHERE file_id IS NULL",
		// A bug hash is one finding: one checker, one file, once per run.
		"SELECT COUNT(*) FROM (SELECT bug_id FROM reports GROUP BY bug_id HAVING COUNT(DISTINCT checker_id) > 1 OR COUNT(DISTINCT file_id) > 1) AS x",
		"SELECT COUNT(*) FROM (SELECT run_id, bug_id FROM reports GROUP BY run_id, bug_id HAVING COUNT(*) > 1) AS x",
		"SELECT COUNT(*) FROM review_statuses s WHERE EXISTS (SELECT 1 FROM reports r WHERE r.bug_id = s.bug_hash AND (r.review_status <> s.status OR r.review_status_is_in_source))",
	} {
		if n := queryInt(t, db, q); n != 0 {
			t.Errorf("%s = %d, want 0", q, n)
		}
	}
	reports := float64(o.Reports)
	for table, want := range map[string][2]float64{
		"bug_path_events":      {1.9, 2.4},
		"bug_report_points":    {1.8, 2.2},
		"report_analysis_info": {1.0, 1.2},
	} {
		per := float64(queryInt(t, db, "SELECT COUNT(*) FROM "+table)) / reports
		if per < want[0] || per > want[1] {
			t.Errorf("%s per report = %.2f, want %.1f to %.1f", table, per, want[0], want[1])
		}
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM checkers"); n < 300 {
		t.Errorf("checkers = %d, want a few hundred", n)
	}
	if n := queryInt(t, db, "SELECT COUNT(DISTINCT analyzer_name) FROM checkers WHERE id > 2"); n != 3 {
		t.Errorf("analyzers = %d, want 3", n)
	}
	if n := queryInt(t, db, "SELECT COUNT(DISTINCT severity) FROM checkers"); n < 5 {
		t.Errorf("distinct severities = %d, want at least 5", n)
	}
	if n := queryInt(t, db, "SELECT COUNT(DISTINCT detection_status) FROM reports"); n != 6 {
		t.Errorf("detection statuses = %d, want all 6", n)
	}
	if n := queryInt(t, db, "SELECT COUNT(DISTINCT review_status) FROM reports"); n != 4 {
		t.Errorf("review statuses = %d, want all 4", n)
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM (SELECT bug_id FROM reports GROUP BY bug_id HAVING COUNT(DISTINCT run_id) > 1) AS shared"); n == 0 {
		t.Error("no bug hash is shared between runs")
	}
	for _, table := range []string{
		"run_histories", "analyzer_statistics", "checker_set_items", "extended_report_data", "report_annotations",
		"comments", "review_statuses", "run_locks", "source_component_files", "cleanup_plan_report_hashes",
		"filter_presets",
	} {
		if n := queryInt(t, db, "SELECT COUNT(*) FROM "+table); n == 0 {
			t.Errorf("table %s is empty", table)
		}
	}
}

func TestFillSQLite(t *testing.T) {
	t.Parallel()
	db, _ := emptyProduct(t)
	db.SetMaxOpenConns(1) // so the pragmas read the connection Fill used
	cache := queryInt(t, db, "PRAGMA cache_size")
	o := Options{Dialect: DialectSQLite, Reports: 3000, Seed: 1}
	g := fill(t, db, o)
	checkSQLiteClean(t, db)
	checkContent(t, db, o)
	checkGarbage(t, db, g, sqliteCutoff())
	t.Logf("garbage: %+v", g)

	files := queryInt(t, db, "SELECT COUNT(*) FROM files")
	if frac := float64(g.Files) / float64(files); frac < 0.04 || frac > 0.06 {
		t.Errorf("garbage files = %d of %d (%.3f), want about %.2f", g.Files, files, frac, DefaultGarbage)
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM reports WHERE typeof(detected_at) <> 'text' OR detected_at NOT GLOB
		'[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]'`); n != 0 {
		t.Errorf("%d detected_at values are not SQLAlchemy DATETIME text", n)
	}
	// The leftover columns keep their defaults.
	if n := queryInt(t, db, `SELECT COUNT(*) FROM reports WHERE "analyzer_name_MOVED_TO_checkers" <> 'unknown' OR "checker_name_MOVED_TO_checkers" IS NOT NULL`); n != 0 {
		t.Errorf("%d reports have leftover columns set", n)
	}
	// The connection's settings are back.
	if n := queryInt(t, db, "PRAGMA foreign_keys"); n != 1 {
		t.Errorf("PRAGMA foreign_keys = %d after Fill, want 1", n)
	}
	if n := queryInt(t, db, "PRAGMA cache_size"); n != cache {
		t.Errorf("PRAGMA cache_size = %d after Fill, want %d", n, cache)
	}
}

// TestFillSQLiteCleanup deletes the garbage the way CodeChecker's cleanup
// does, with cascades on, and checks that it took nothing live with it.
func TestFillSQLiteCleanup(t *testing.T) {
	t.Parallel()
	db, _ := emptyProduct(t)
	db.SetMaxOpenConns(1)
	o := Options{Dialect: DialectSQLite, Reports: 1000, Runs: 4, Seed: 7, Garbage: 0.3}
	fill(t, db, o)
	before := map[string]int64{}
	live := []string{"reports", "bug_path_events", "bug_report_points", "report_analysis_info", "run_history_analysis_info", "comments", "report_annotations"}
	for _, table := range live {
		before[table] = queryInt(t, db, "SELECT COUNT(*) FROM "+table)
	}
	cutoff := sqliteCutoff()
	for _, q := range []string{
		`DELETE FROM run_locks WHERE locked_at < '` + cutoff + `'`,
		`DELETE FROM files WHERE id IN (SELECT f.id FROM files f WHERE NOT ` + liveFile + `)`,
		`DELETE FROM file_contents WHERE content_hash NOT IN (SELECT content_hash FROM files)`,
		`DELETE FROM comments WHERE bug_hash NOT IN (SELECT bug_id FROM reports)`,
		`DELETE FROM analysis_info WHERE id IN (SELECT a.id FROM analysis_info a WHERE NOT ` + liveAI + `)`,
		`DELETE FROM checker_set WHERE id NOT IN (SELECT checker_set_id FROM analysis_info WHERE checker_set_id IS NOT NULL)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	checkSQLiteClean(t, db)
	if g := countGarbage(t, db, cutoff); g != (Garbage{}) {
		t.Errorf("garbage after cleanup = %+v, want none", g)
	}
	for _, table := range live {
		after := queryInt(t, db, "SELECT COUNT(*) FROM "+table)
		if table == "comments" {
			if after >= before[table] {
				t.Errorf("comments: %d before cleanup, %d after; want fewer", before[table], after)
			}
			continue
		}
		if after != before[table] {
			t.Errorf("%s: %d rows before cleanup, %d after", table, before[table], after)
		}
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM run_locks"); n != 2 {
		t.Errorf("run locks after cleanup = %d, want the 2 live ones", n)
	}
}

// TestFillSQLiteDroppedLeftovers fills a schema whose leftover columns were
// dropped, as our later migration does: Fill must never name them.
func TestFillSQLiteDroppedLeftovers(t *testing.T) {
	t.Parallel()
	db, _ := emptyProduct(t)
	for _, col := range []struct{ table, column string }{
		{"reports", "checker_name_MOVED_TO_checkers"},
		{"reports", "checker_cat_UNUSED"},
		{"reports", "bug_type_UNUSED"},
		{"reports", "severity_MOVED_TO_checkers"},
		{"reports", "analyzer_name_MOVED_TO_checkers"},
		{"runs", "command"},
		{"run_histories", "check_command"},
	} {
		if _, err := db.Exec(fmt.Sprintf(`ALTER TABLE %s DROP COLUMN "%s"`, col.table, col.column)); err != nil {
			t.Fatalf("drop %s.%s: %v", col.table, col.column, err)
		}
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM pragma_table_info('reports') WHERE name LIKE '%MOVED%' OR name LIKE '%UNUSED%'`); n != 0 {
		t.Fatalf("%d leftover columns still in reports", n)
	}
	o := Options{Dialect: DialectSQLite, Reports: 1000, Runs: 2, Seed: 3}
	g := fill(t, db, o)
	checkSQLiteClean(t, db)
	checkContent(t, db, o)
	checkGarbage(t, db, g, sqliteCutoff())
}

// TestFillSQLiteShapes covers small and odd option combinations.
func TestFillSQLiteShapes(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{
		{Reports: 1, Runs: 1},
		{Reports: 2, Runs: 7, Seed: 5},
		{Reports: 40, Runs: 1, Garbage: 0.9},
		{Reports: 500, Runs: 12, Seed: -1, Garbage: 0.5},
		{Reports: 1000, Runs: 5, Seed: 11, Garbage: 0.02},
	} {
		t.Run(fmt.Sprintf("reports=%d,runs=%d,garbage=%v", o.Reports, o.Runs, o.Garbage), func(t *testing.T) {
			o.Dialect = DialectSQLite
			t.Parallel()
			db, _ := emptyProduct(t)
			g := fill(t, db, o)
			checkSQLiteClean(t, db)
			checkGarbage(t, db, g, sqliteCutoff())
			if n := queryInt(t, db, "SELECT COUNT(*) FROM reports"); n != int64(o.Reports) {
				t.Errorf("reports = %d, want %d", n, o.Reports)
			}
			files := queryInt(t, db, "SELECT COUNT(*) FROM files")
			want := o.Garbage
			if want == 0 {
				want = DefaultGarbage
			}
			if files >= 100 {
				if frac := float64(g.Files) / float64(files); frac < want-0.01 || frac > want+0.01 {
					t.Errorf("garbage files = %d of %d (%.3f), want about %.2f", g.Files, files, frac, want)
				}
			}
		})
	}
}

func TestFillSQLiteNoReports(t *testing.T) {
	t.Parallel()
	db, _ := emptyProduct(t)
	g := fill(t, db, Options{Dialect: DialectSQLite})
	if g != (Garbage{}) {
		t.Errorf("garbage = %+v, want none without reports", g)
	}
	checkSQLiteClean(t, db)
	if got := countGarbage(t, db, sqliteCutoff()); got != (Garbage{}) {
		t.Errorf("SQL counts garbage %+v, want none", got)
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM runs"); n != 3 {
		t.Errorf("runs = %d, want 3", n)
	}
}

// tableDigest hashes every row of every product table, in a fixed order.
func tableDigest(tb testing.TB, db *sql.DB) map[string]string {
	tb.Helper()
	out := map[string]string{}
	tables := []string{}
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	if err != nil {
		tb.Fatal(err)
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	for _, table := range tables {
		n := queryInt(tb, db, `SELECT COUNT(*) FROM pragma_table_info('`+table+`')`)
		order := make([]string, n)
		for i := range order {
			order[i] = fmt.Sprint(i + 1)
		}
		rows, err := db.Query(`SELECT * FROM "` + table + `" ORDER BY ` + strings.Join(order, ", "))
		if err != nil {
			tb.Fatal(err)
		}
		cols, _ := rows.Columns()
		h := sha256.New()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatal(err)
			}
			fmt.Fprintf(h, "%v\n", vals)
		}
		rows.Close()
		out[table] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

func TestFillDeterministic(t *testing.T) {
	t.Parallel()
	o := Options{Dialect: DialectSQLite, Reports: 600, Runs: 4, Seed: 42, Garbage: 0.2}
	db1, _ := emptyProduct(t)
	db2, _ := emptyProduct(t)
	db3, _ := emptyProduct(t)
	g1, g2 := fill(t, db1, o), fill(t, db2, o)
	o3 := o
	o3.Seed = 43
	fill(t, db3, o3)
	if g1 != g2 {
		t.Errorf("same options, garbage %+v and %+v", g1, g2)
	}
	d1, d2, d3 := tableDigest(t, db1), tableDigest(t, db2), tableDigest(t, db3)
	for table, h := range d1 {
		if d2[table] != h {
			t.Errorf("table %s differs between two fills with the same options", table)
		}
	}
	if d1["reports"] == d3["reports"] {
		t.Error("reports are the same for seeds 42 and 43")
	}
}

func TestFillRefusesNonEmpty(t *testing.T) {
	t.Parallel()
	db, _ := emptyProduct(t)
	o := Options{Dialect: DialectSQLite, Reports: 10}
	fill(t, db, o)
	before := queryInt(t, db, "SELECT COUNT(*) FROM reports")
	_, err := Fill(context.Background(), db, o)
	if !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("second Fill: %v, want ErrNotEmpty", err)
	}
	if after := queryInt(t, db, "SELECT COUNT(*) FROM reports"); after != before {
		t.Errorf("reports = %d after the refused Fill, want %d", after, before)
	}
	if n := queryInt(t, db, "PRAGMA foreign_keys"); n != 1 {
		t.Errorf("PRAGMA foreign_keys = %d after a failed Fill, want 1", n)
	}
}

// TestFillSQLiteConstraintFailure makes a batch fail halfway through the
// fill: the whole transaction must go, and the connection settings come back.
func TestFillSQLiteConstraintFailure(t *testing.T) {
	t.Parallel()
	db, _ := emptyProduct(t)
	db.SetMaxOpenConns(1) // so the pragmas below read the connection Fill used
	if _, err := db.Exec("PRAGMA foreign_keys = OFF"); err != nil {
		t.Fatal(err)
	}
	// The first report's first path event, already there.
	if _, err := db.Exec(`INSERT INTO bug_path_events ("order", report_id, file_id) VALUES (0, 1, 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA foreign_keys = ON"); err != nil {
		t.Fatal(err)
	}
	cache := queryInt(t, db, "PRAGMA cache_size")
	_, err := Fill(context.Background(), db, Options{Dialect: DialectSQLite, Reports: 3000})
	if err == nil || !strings.Contains(err.Error(), "bug_path_events") {
		t.Fatalf("Fill over a conflicting path event: %v, want a bug_path_events constraint error", err)
	}
	for _, table := range []string{"runs", "checker_set", "files", "reports"} {
		if n := queryInt(t, db, "SELECT COUNT(*) FROM "+table); n != 0 {
			t.Errorf("%s = %d after a failed Fill, want 0", table, n)
		}
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM checkers"); n != 2 {
		t.Errorf("checkers = %d after a failed Fill, want the 2 seed rows", n)
	}
	if n := queryInt(t, db, "PRAGMA foreign_keys"); n != 1 {
		t.Errorf("PRAGMA foreign_keys = %d after a failed Fill, want 1", n)
	}
	if n := queryInt(t, db, "PRAGMA cache_size"); n != cache {
		t.Errorf("PRAGMA cache_size = %d after a failed Fill, want %d", n, cache)
	}
}

// midwayCancels maps the key a test's trigger passes to fleet_test_cancel
// to the function that function calls: a test's hook into the middle of a
// fill.
var midwayCancels sync.Map // string -> func()

// registerCancelFunc makes the SQL function fleet_test_cancel(key) known to
// every SQLite connection opened after it: it calls the function
// midwayCancels holds for key.
var registerCancelFunc = sync.OnceValue(func() error {
	return sqlite.RegisterScalarFunction("fleet_test_cancel", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		if f, ok := midwayCancels.Load(args[0]); ok {
			f.(func())()
		}
		return nil, nil
	})
})

// TestFillCancelledMidway cancels a fill while it writes: a trigger calls
// back into the test as every report row goes in, and the callback cancels
// the fill's context at the cancelAt-th, from inside the fill, however fast
// the machine is. Fill must stop with context.Canceled and leave nothing.
func TestFillCancelledMidway(t *testing.T) {
	t.Parallel()
	if err := registerCancelFunc(); err != nil {
		t.Fatal(err)
	}
	const reports, cancelAt = 5000, 1000
	db, _ := emptyProduct(t)
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen atomic.Int64
	midwayCancels.Store(t.Name(), func() {
		if seen.Add(1) == cancelAt {
			cancel()
		}
	})
	defer midwayCancels.Delete(t.Name())
	trigger := fmt.Sprintf("CREATE TRIGGER cancel_midway AFTER INSERT ON reports BEGIN SELECT fleet_test_cancel('%s'); END",
		strings.ReplaceAll(t.Name(), "'", "''"))
	if _, err := db.Exec(trigger); err != nil {
		t.Fatal(err)
	}

	_, err := Fill(ctx, db, Options{Dialect: DialectSQLite, Reports: reports})
	if n := seen.Load(); n < cancelAt {
		t.Fatalf("the trigger saw %d report rows, want at least %d: the fill never reached the cancellation (Fill: %v)", n, cancelAt, err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fill cancelled at report row %d of %d: %v, want context.Canceled", cancelAt, reports, err)
	}
	for _, table := range []string{"runs", "reports"} {
		if n := queryInt(t, db, "SELECT COUNT(*) FROM "+table); n != 0 {
			t.Errorf("%s = %d after a cancelled Fill, want 0", table, n)
		}
	}
	if n := queryInt(t, db, "PRAGMA foreign_keys"); n != 1 {
		t.Errorf("PRAGMA foreign_keys = %d after a cancelled Fill, want 1", n)
	}
}

func TestFillCancelled(t *testing.T) {
	t.Parallel()
	db, _ := emptyProduct(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Fill(ctx, db, Options{Dialect: DialectSQLite, Reports: 5000}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fill with a cancelled context: %v, want context.Canceled", err)
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM runs"); n != 0 {
		t.Errorf("runs = %d after a cancelled Fill, want 0", n)
	}
}

func TestOptionsRejected(t *testing.T) {
	t.Parallel()
	db, _ := emptyProduct(t)
	for _, o := range []Options{
		{Dialect: "mysql", Reports: 1},
		{Dialect: "", Reports: 1},
		{Dialect: DialectSQLite, Reports: -1},
		{Dialect: DialectSQLite, Runs: -2},
		{Dialect: DialectSQLite, Garbage: 1},
		{Dialect: DialectSQLite, Garbage: -0.1},
	} {
		if _, err := Fill(context.Background(), db, o); err == nil {
			t.Errorf("Fill(%+v) succeeded, want an error", o)
		}
	}
	if n := queryInt(t, db, "SELECT COUNT(*) FROM runs"); n != 0 {
		t.Errorf("runs = %d after rejected options, want 0", n)
	}
}

func TestCopySQLite(t *testing.T) {
	t.Parallel()
	db, src := emptyProduct(t)
	g := fill(t, db, Options{Dialect: DialectSQLite, Reports: 300, Seed: 9})
	db.Close()
	dir := t.TempDir()
	for i := range 3 {
		dst := filepath.Join(dir, fmt.Sprintf("product-%d.sqlite", i))
		if err := CopySQLite(src, dst); err != nil {
			t.Fatal(err)
		}
		cp := openSQLite(t, dst)
		if n := queryInt(t, cp, "SELECT COUNT(*) FROM reports"); n != 300 {
			t.Errorf("copy %d has %d reports, want 300", i, n)
		}
		checkGarbage(t, cp, g, sqliteCutoff())
	}
	dst := filepath.Join(dir, "product-0.sqlite")
	if err := CopySQLite(src, dst); err == nil || !errors.Is(err, os.ErrExist) {
		t.Errorf("copy onto an existing file: %v, want an error wrapping os.ErrExist", err)
	}
	if err := CopySQLite(filepath.Join(dir, "missing.sqlite"), filepath.Join(dir, "new.sqlite")); err == nil {
		t.Error("copy of a missing file succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "new.sqlite")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed copy left its destination behind: %v", err)
	}
	if err := os.WriteFile(src+"-wal", []byte("not empty"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CopySQLite(src, filepath.Join(dir, "wal.sqlite")); err == nil {
		t.Error("copy of a database with a write-ahead log succeeded")
	}
}

// BenchmarkFillSQLite measures Fill of 200k reports on SQLite:
//
//	go test -run '^$' -bench FillSQLite -benchtime 1x ./integration/fleet/
func BenchmarkFillSQLite(b *testing.B) {
	const reports = 200_000
	for b.Loop() {
		b.StopTimer()
		db, _ := emptyProduct(b)
		b.StartTimer()
		if _, err := Fill(context.Background(), db, Options{Dialect: DialectSQLite, Reports: reports, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(reports)*float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}
