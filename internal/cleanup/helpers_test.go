package cleanup

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/testutil"

	"github.com/hashicorp/go-hclog"
	_ "modernc.org/sqlite"

	"supervisor/internal/labels"
)

var (
	fixtures     = testutil.Fixtures
	sampleDB     = testutil.Fixture("product-sample.sqlite")
	labelsDir    = testutil.LabelsDir
	pgSchemaFile = testutil.Fixture("product-head.postgres.sql")
)

// fixedNow is the clock of the tests: after the fixture's crashed-store
// locks (Feb/Mar 2026), before its 2099 locks.
func fixedNow() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.Local) }

// copySample copies product-sample.sqlite into a fresh temporary directory
// and returns the copy's path.
func copySample(tb testing.TB) string {
	tb.Helper()
	dst := filepath.Join(tb.TempDir(), "product.sqlite")
	testutil.CopyFile(tb, sampleDB, dst)
	return dst
}

// openSQLite opens path the way the worker does: foreign keys on, a busy
// timeout, one connection.
func openSQLite(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	tb.Cleanup(func() { db.Close() })
	return db
}

var (
	fixtureLabelsOnce sync.Once
	fixtureLabels     *labels.Labels
	fixtureLabelsErr  error
)

func loadFixtureLabels(tb testing.TB) *labels.Labels {
	tb.Helper()
	fixtureLabelsOnce.Do(func() { fixtureLabels, fixtureLabelsErr = labels.Load(labelsDir) })
	if fixtureLabelsErr != nil {
		tb.Fatal(fixtureLabelsErr)
	}
	return fixtureLabels
}

// testLogger logs to a buffer it returns.
func testLogger() (hclog.Logger, *testutil.SyncBuffer) {
	buf := &testutil.SyncBuffer{}
	return hclog.New(&hclog.LoggerOptions{
		Name:   "cleanup",
		Level:  hclog.Debug,
		Output: buf,
	}), buf
}

// runCleanup runs Run on a SQLite database with the fixture labels and the
// fixed clock, failing tb on error.
func runCleanup(tb testing.TB, db *sql.DB, lab *labels.Labels) (map[string]int64, string) {
	tb.Helper()
	log, buf := testLogger()
	got, err := Run(context.Background(), db, Options{
		Dialect:   dbconn.SQLite,
		Labels:    lab,
		Now:       fixedNow,
		BatchSize: 4, // small, so that the fixture needs several batches
		Logger:    log,
	})
	if err != nil {
		tb.Fatalf("Run: %v\nlog:\n%s", err, buf)
	}
	return got, buf.String()
}

// snapshot holds every row of every table, each row rendered as one
// string (column names, storage classes and values), sorted.
type snapshot map[string][]string

// takeSnapshot reads every table of a SQLite database.
func takeSnapshot(tb testing.TB, db *sql.DB) snapshot {
	tb.Helper()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		tb.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			tb.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	s := snapshot{}
	for _, t := range tables {
		s[t] = tableRows(tb, db, t)
	}
	return s
}

// tableRows renders every row of table.
func tableRows(tb testing.TB, db *sql.DB, table string) []string {
	tb.Helper()
	rows, err := db.Query(fmt.Sprintf(`SELECT * FROM %q`, table))
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := testutil.ScanRow(tb, rows, len(cols))
		var b strings.Builder
		for i, c := range cols {
			if i > 0 {
				b.WriteString(" | ")
			}
			switch v := vals[i].(type) {
			case []byte:
				fmt.Fprintf(&b, "%s=blob:%x", c, v)
			case nil:
				fmt.Fprintf(&b, "%s=NULL", c)
			default:
				fmt.Fprintf(&b, "%s=%T:%v", c, v, v)
			}
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// diffRows returns the rows only in a and the rows only in b (multisets).
func diffRows(a, b []string) (onlyA, onlyB []string) {
	count := map[string]int{}
	for _, r := range a {
		count[r]++
	}
	for _, r := range b {
		count[r]--
	}
	for _, r := range a {
		if count[r] > 0 {
			onlyA = append(onlyA, r)
			count[r]--
		}
	}
	for r, n := range count {
		for ; n < 0; n++ {
			onlyB = append(onlyB, r)
		}
	}
	sort.Strings(onlyB)
	return onlyA, onlyB
}

// foreignKeyCheck fails tb when PRAGMA foreign_key_check reports anything.
func foreignKeyCheck(tb testing.TB, db *sql.DB) {
	tb.Helper()
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			table, parent string
			rowid         sql.NullInt64
			fkid          int
		)
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			tb.Fatal(err)
		}
		if n < 10 {
			tb.Errorf("foreign_key_check: %s rowid %v references missing %s (fk %d)", table, rowid, parent, fkid)
		}
		n++
	}
	if n > 0 {
		tb.Errorf("foreign_key_check: %d violations", n)
	}
}

// checkerSeverities maps "analyzer/checker" to the stored severity
// (NULL as -1).
func checkerSeverities(tb testing.TB, db *sql.DB) map[string]int64 {
	tb.Helper()
	rows, err := db.Query("SELECT analyzer_name, checker_name, severity FROM checkers")
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			a, c string
			s    sql.NullInt64
		)
		if err := rows.Scan(&a, &c, &s); err != nil {
			tb.Fatal(err)
		}
		if !s.Valid {
			s.Int64 = -1
		}
		out[a+"/"+c] = s.Int64
	}
	return out
}

func execSQL(tb testing.TB, db *sql.DB, q string, args ...any) int64 {
	tb.Helper()
	res, err := db.Exec(q, args...)
	if err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	n, _ := res.RowsAffected()
	return n
}

func queryInt(tb testing.TB, db *sql.DB, q string, args ...any) int64 {
	tb.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}
