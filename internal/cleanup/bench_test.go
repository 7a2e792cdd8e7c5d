package cleanup

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/testutil"
)

// genConfig sizes a generated product database.
type genConfig struct {
	reports      int // live reports, each with 3 path events and 2 report points
	liveFiles    int
	garbageFiles int // files nothing references (their contents are garbage too)
	liveAI       int // analysis_info rows, each linked to a run history
	garbageAI    int // analysis_info rows nothing links
	garbageSets  int // checker sets nothing uses, 40 items each
	checkers     int // clang-tidy checkers, severity 0
}

// want is what Run must report for a generated database.
func (g genConfig) want() map[string]int64 {
	return map[string]int64{
		KeyRunLocks:             3,
		KeyFiles:                int64(g.garbageFiles),
		KeyFileContents:         int64(g.garbageFiles),
		KeyComments:             int64(g.reports / 100),
		KeyAnalysisInfo:         int64(g.garbageAI),
		KeyCheckerSet:           int64(g.garbageSets),
		KeyCheckerSetItems:      int64(40 * g.garbageSets),
		KeyExtendedReportData:   int64(g.reports / 1000),
		KeySourceComponentFiles: int64(min(g.garbageFiles, 100) + g.garbageFiles),
		KeySeverities:           int64(g.checkers),
	}
}

// generateProduct makes a product database at path from product-head.sqlite
// with g's content, all in SQL (recursive CTEs), so that big databases are
// quick to make.
func generateProduct(tb testing.TB, path string, g genConfig) {
	tb.Helper()
	testutil.CopyFile(tb, fixtures+"/product-head.sqlite", path)
	db := openSQLite(tb, path)
	defer db.Close()
	seq := func(n int) string {
		return fmt.Sprintf("WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < %d) ", n)
	}
	allFiles := g.liveFiles + g.garbageFiles
	stmts := []string{
		`PRAGMA journal_mode = WAL`,
		`BEGIN`,
		// Checkers from id 3 on, stored UNSPECIFIED; every
		// "clang-diagnostic-..." name gets MEDIUM from the
		// "clang-diagnostic" label by the prefix rule.
		seq(g.checkers) + `INSERT INTO checkers (id, analyzer_name, checker_name, severity)
			SELECT 2 + x, 'clang-tidy', 'clang-diagnostic-bench-' || x, 0 FROM seq`,
		seq(10) + `INSERT INTO runs (id, date, duration, name, version, can_delete)
			SELECT x, '2026-01-01 00:00:00.000000', 60, 'run-' || x, '6.24', 1 FROM seq`,
		seq(100) + `INSERT INTO run_histories (id, run_id, version_tag, user, time, cc_version)
			SELECT x, 1 + x % 10, 'v' || x, 'bench', '2026-01-01 00:00:00.000000', '6.24' FROM seq`,
		seq(50+g.garbageSets) + `INSERT INTO checker_set (id, hash_digest) SELECT x, 'set-' || x FROM seq`,
		seq(40) + `INSERT INTO checker_set_items (checker_set_id, checker_id, enabled)
			SELECT checker_set.id, 2 + seq.x, 1 FROM checker_set, seq`,
		seq(g.liveAI+g.garbageAI) + `INSERT INTO analysis_info (id, analyzer_command, checker_set_id)
			SELECT x, CAST('clang-tidy --bench ' || x AS BLOB), 1 + x % 50 FROM seq`,
		seq(g.liveAI) + `INSERT INTO run_history_analysis_info (run_history_id, analysis_info_id)
			SELECT 1 + x % 100, x FROM seq`,
		seq(allFiles) + `INSERT INTO file_contents (content_hash, content)
			SELECT printf('hash%010d', x), randomblob(200) FROM seq`,
		seq(allFiles) + `INSERT INTO files (id, filepath, filename, content_hash)
			SELECT x, printf('/src/dir%03d/file%d.c', x % 100, x), printf('file%d.c', x), printf('hash%010d', x) FROM seq`,
		fmt.Sprintf(seq(g.reports)+`INSERT INTO reports (id, file_id, run_id, bug_id, line, "column", checker_message,
			detection_status, detected_at, path_length, checker_id)
			SELECT x, 1 + (x * 7919) %% %d, 1 + x %% 10, printf('bug%%010d', x), x %% 500, 1, 'message',
			'new', '2026-01-01 00:00:00.000000', 3, 3 + x %% %d FROM seq`, g.liveFiles, g.checkers),
		`INSERT INTO bug_path_events (line_begin, col_begin, line_end, col_end, "order", msg, file_id, report_id)
			SELECT line, 1, line, 5, o.n, 'step', CASE o.n WHEN 1 THEN 1 + (file_id * 31) % ` + strconv.Itoa(g.liveFiles) + ` ELSE file_id END, id
			FROM reports, (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2) AS o`,
		`INSERT INTO bug_report_points (line_begin, col_begin, line_end, col_end, "order", file_id, report_id)
			SELECT line, 1, line, 5, o.n, file_id, id FROM reports, (SELECT 0 AS n UNION ALL SELECT 1) AS o`,
		fmt.Sprintf(`INSERT INTO report_analysis_info (report_id, analysis_info_id) SELECT id, 1 + id %% %d FROM reports`, g.liveAI),
		// Notes on every 10th report; every 1000th one names a garbage file.
		fmt.Sprintf(`INSERT INTO extended_report_data (report_id, file_id, type, line_begin, col_begin, line_end, col_end, message)
			SELECT id, CASE WHEN id %% 1000 = 0 THEN %d + (id / 1000) %% %d ELSE file_id END, 'note', 1, 1, 1, 1, 'note'
			FROM reports WHERE id %% 10 = 0`, g.liveFiles+1, max(g.garbageFiles, 1)),
		`INSERT INTO source_components (name, value) VALUES ('bench', CAST('+/src/*' AS BLOB)), ('all', CAST('-/nothing/*' AS BLOB))`,
		// A skip-only component matches every file.
		`INSERT INTO source_component_files (source_component_name, file_id) SELECT 'all', id FROM files`,
		fmt.Sprintf(`INSERT INTO source_component_files (source_component_name, file_id)
			SELECT 'bench', id FROM files WHERE id <= %d AND id %% 100 = 0 OR id > %d AND id <= %d`,
			g.liveFiles, g.liveFiles, g.liveFiles+100),
		`INSERT INTO comments (bug_hash, author, message, created_at, kind)
			SELECT bug_id, 'bench', CAST('comment' AS BLOB), '2026-01-01 00:00:00.000000', 0 FROM reports WHERE id % 10 = 0`,
		seq(g.reports/100) + `INSERT INTO comments (bug_hash, author, message, created_at, kind)
			SELECT printf('gone%010d', x), 'bench', CAST('comment' AS BLOB), '2026-01-01 00:00:00.000000', 0 FROM seq`,
		`INSERT INTO run_locks (name, locked_at, username) VALUES
			('a', '2026-01-01 00:00:00.000000', 'x'), ('b', '2026-01-02 00:00:00.000000', 'x'),
			('c', '2026-01-03 00:00:00.000000', 'x'), ('d', '2099-12-31 23:00:00.000000', 'x'),
			('e', '2099-12-31 23:00:00.000000', 'x')`,
		`COMMIT`,
		`PRAGMA journal_mode = DELETE`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			tb.Fatalf("generate: %v\n%s", err, s)
		}
	}
}

// TestGeneratedProduct checks the generator and Run's counts at a small
// size, with several batches per table.
func TestGeneratedProduct(t *testing.T) {
	g := genConfig{reports: 5000, liveFiles: 1400, garbageFiles: 600, liveAI: 100, garbageAI: 250, garbageSets: 20, checkers: 300}
	path := filepath.Join(t.TempDir(), "gen.sqlite")
	generateProduct(t, path, g)
	db := openSQLite(t, path)
	foreignKeyCheck(t, db)
	got, err := Run(context.Background(), db, Options{Dialect: dbconn.SQLite, Labels: loadFixtureLabels(t), Now: fixedNow, BatchSize: 128})
	if err != nil {
		t.Fatal(err)
	}
	if want := g.want(); !maps.Equal(got, want) {
		t.Errorf("Run counts = %v, want %v", got, want)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM reports"); n != int64(g.reports) {
		t.Errorf("reports after cleanup: %d, want %d", n, g.reports)
	}
	foreignKeyCheck(t, db)
}

// BenchmarkRun times Run on a generated product of 200,000 reports (one
// million path rows) with 30% garbage files, at several batch sizes. It
// reports the peak resident set size during Run and the peak Go heap.
//
//	go test -run '^$' -bench Run -benchtime 3x ./internal/cleanup/
func BenchmarkRun(b *testing.B) {
	g := genConfig{
		reports: 200_000, liveFiles: 70_000, garbageFiles: 30_000,
		liveAI: 100, garbageAI: 2_000, garbageSets: 50, checkers: 1000,
	}
	if s := os.Getenv("CLEANUP_BENCH_REPORTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		scale := float64(n) / float64(g.reports)
		g.reports, g.liveFiles, g.garbageFiles = n, int(float64(g.liveFiles)*scale), int(float64(g.garbageFiles)*scale)
	}
	template := filepath.Join(b.TempDir(), "template.sqlite")
	start := time.Now()
	generateProduct(b, template, g)
	st, _ := os.Stat(template)
	b.Logf("generated %d reports, %d files (%d garbage) in %v, %d MB",
		g.reports, g.liveFiles+g.garbageFiles, g.garbageFiles, time.Since(start).Round(time.Millisecond), st.Size()>>20)
	lab := loadFixtureLabels(b)

	for _, batch := range []int{1000, DefaultBatchSize, 20000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			var peakRSS, peakHeap uint64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				path := filepath.Join(b.TempDir(), "product.sqlite")
				testutil.CopyFile(b, template, path)
				db := openSQLite(b, path)
				runtime.GC()
				resetPeakRSS()
				stop := sampleHeap()
				b.StartTimer()

				got, err := Run(context.Background(), db, Options{Dialect: dbconn.SQLite, Labels: lab, Now: fixedNow, BatchSize: batch})

				b.StopTimer()
				peakHeap = max(peakHeap, stop())
				peakRSS = max(peakRSS, readPeakRSS())
				if err != nil {
					b.Fatal(err)
				}
				if want := g.want(); !maps.Equal(got, want) {
					b.Fatalf("Run counts = %v, want %v", got, want)
				}
				db.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(peakRSS)/(1<<20), "peak-RSS-MB")
			b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MB")
		})
	}
}

// sampleHeap samples the Go heap until the returned function is called,
// which returns the largest sample.
func sampleHeap() func() uint64 {
	var (
		mu   sync.Mutex
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			mu.Lock()
			peak = max(peak, m.HeapInuse)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}

// resetPeakRSS resets the kernel's peak RSS (VmHWM) of this process.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// readPeakRSS returns VmHWM in bytes, or 0 when unknown.
func readPeakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
