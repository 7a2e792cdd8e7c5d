package cleanup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
	"supervisor/internal/testutil"
)

// fileSum is the SHA-256 of the file at path, in hex.
func fileSum(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// noSidecars fails tb when a journal, WAL or shared-memory file is left
// beside the SQLite database at path.
func noSidecars(tb testing.TB, path string) {
	tb.Helper()
	for _, ext := range []string{"-journal", "-wal", "-shm"} {
		if _, err := os.Stat(path + ext); err == nil {
			tb.Errorf("%s%s exists after the dry run", path, ext)
		}
	}
}

// dryRun runs Run with DryRun on db with the fixture labels and the fixed
// clock, failing tb on error.
func dryRun(tb testing.TB, db *sql.DB, d dbconn.Dialect) (map[string]int64, string) {
	tb.Helper()
	log, buf := testLogger()
	got, err := Run(context.Background(), db, Options{
		Dialect: d, Labels: loadFixtureLabels(tb), Now: fixedNow, BatchSize: 4, Logger: log, DryRun: true,
	})
	if err != nil {
		tb.Fatalf("Run (dry run): %v\nlog:\n%s", err, buf)
	}
	return got, buf.String()
}

// TestDryRunCountsWhatTheRunRemoves runs a dry run on a copy of the sample
// opened read-only, the way the worker opens it for --dry-run, then a real
// run: the dry run's counts are the real run's (file contents and checker
// sets that only the rows of an earlier routine use included), and the
// file is byte for byte what it was.
func TestDryRunCountsWhatTheRunRemoves(t *testing.T) {
	path := copySample(t)
	before := fileSum(t, path)
	ro, err := dbconn.Open(context.Background(), dbconn.Target{Dialect: dbconn.SQLite, Path: path}, dbconn.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	dry, log := dryRun(t, ro, dbconn.SQLite)
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fileSum(t, path); got != before {
		t.Errorf("sha256 after the dry run = %s, want %s (unchanged)", got, before)
	}
	noSidecars(t, path)
	for _, word := range []string{"would remove unused files", "would upgrade severity levels", "Would upgrade severity level of"} {
		if !strings.Contains(log, word) {
			t.Errorf("dry run log lacks %q; log:\n%s", word, log)
		}
	}
	if strings.Contains(log, "temporary index") {
		t.Errorf("dry run log mentions a temporary index (a write); log:\n%s", log)
	}

	real, _ := runCleanup(t, openSQLite(t, path), loadFixtureLabels(t))
	if !maps.Equal(dry, real) {
		t.Errorf("dry run counts = %v, real run counts = %v", dry, real)
	}
	if !maps.Equal(dry, wantSampleCounts) {
		t.Errorf("dry run counts = %v, want %v", dry, wantSampleCounts)
	}
}

// TestDryRunLeavesTheConnectionWritable: the dry run's PRAGMA query_only is
// its own; the pooled connection it used writes again afterwards.
func TestDryRunLeavesTheConnectionWritable(t *testing.T) {
	db := openSQLite(t, copySample(t))
	snap := takeSnapshot(t, db)
	dryRun(t, db, dbconn.SQLite)
	if got := takeSnapshot(t, db); !reflect.DeepEqual(got, snap) {
		t.Errorf("the dry run changed the database")
	}
	if n := queryInt(t, db, "PRAGMA query_only"); n != 0 {
		t.Errorf("PRAGMA query_only after the dry run = %d, want 0", n)
	}
	if n := execSQL(t, db, "DELETE FROM run_locks"); n != 5 {
		t.Errorf("DELETE FROM run_locks after the dry run removed %d rows, want 5", n)
	}
}

// TestDryRunAfterTheRunCountsNothing: a dry run after the real
// run finds nothing, like a second real run.
func TestDryRunAfterTheRunCountsNothing(t *testing.T) {
	db := openSQLite(t, copySample(t))
	runCleanup(t, db, loadFixtureLabels(t))
	got, _ := dryRun(t, db, dbconn.SQLite)
	for _, k := range Keys {
		if got[k] != 0 {
			t.Errorf("dry run after the run: %s = %d, want 0", k, got[k])
		}
	}
}

// pgRowCounts counts the rows of every table of the public schema.
func pgRowCounts(t *testing.T, pg *sql.DB) map[string]int64 {
	t.Helper()
	tables := testutil.QueryStrings(t, pg, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	out := map[string]int64{}
	for _, table := range tables {
		out[table] = queryInt(t, pg, fmt.Sprintf("SELECT count(*) FROM %s", quoteIdent(table)))
	}
	return out
}

// TestPostgresDryRun copies the sample into PostgreSQL and runs a dry run
// as a role that may only read (any write would fail), then the real run:
// the counts agree, and the dry run left every table as it was.
func TestPostgresDryRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	pg, asReader := pgSampleWithReader(t)

	counts, snap := pgRowCounts(t, pg), commonSnapshot(t, pg, pg, false)
	dry, _ := dryRun(t, asReader, dbconn.Postgres)
	if got := pgRowCounts(t, pg); !maps.Equal(got, counts) {
		t.Errorf("row counts after the dry run = %v, want %v", got, counts)
	}
	if got := commonSnapshot(t, pg, pg, false); !reflect.DeepEqual(got, snap) {
		t.Errorf("the dry run changed some table's rows")
	}

	log, buf := testLogger()
	real, err := Run(context.Background(), pg, Options{
		Dialect: dbconn.Postgres, Labels: loadFixtureLabels(t), Now: fixedNow, BatchSize: 4, Logger: log,
	})
	if err != nil {
		t.Fatalf("Run on PostgreSQL: %v\nlog:\n%s", err, buf)
	}
	if !maps.Equal(dry, real) {
		t.Errorf("dry run counts = %v, real run counts = %v", dry, real)
	}
	if !maps.Equal(dry, wantSampleCounts) {
		t.Errorf("dry run counts = %v, want %v", dry, wantSampleCounts)
	}
}

// queryPlan is SQLite's EXPLAIN QUERY PLAN of q, one detail a line.
func queryPlan(t *testing.T, conn *sql.Conn, q string) string {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}

// TestDryRunReadsUnindexedColumnsOnce: without the real run's helper
// indexes (writes), a correlated NOT EXISTS on report_analysis_info or
// analysis_info.checker_set_id scans that table once per row (11 s instead
// of 13 ms on 100,000 reports). On SQLite the dry run's conditions for those
// columns are lists SQLite reads once per statement: no correlated
// subquery in their plans, where the real run's condition has one.
func TestDryRunReadsUnindexedColumnsOnce(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, copySample(t))
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := &runner{conn: conn, dialect: dbconn.SQLite, sql: sqlOf(dbconn.SQLite), dry: true}
	for _, s := range []*sweep{&analysisInfoSweep, &checkerSetSweep} {
		listed, err := (&tx{r: r, ctx: ctx}).dryRunPlan(s)
		if err != nil {
			t.Fatal(err)
		}
		q := fmt.Sprintf("SELECT %s FROM %s WHERE %s", s.column, s.table, s.unused(true, listed))
		if plan := queryPlan(t, conn, q); strings.Contains(plan, "CORRELATED") {
			t.Errorf("%s: the dry run's plan has a correlated subquery:\n%s", s.table, plan)
		}
		real := fmt.Sprintf("SELECT %s FROM %s WHERE %s", s.column, s.table, s.unused(false, nil))
		if plan := queryPlan(t, conn, real); !strings.Contains(plan, "CORRELATED") {
			t.Errorf("%s: the real run's plan has no correlated subquery, so this test proves nothing:\n%s", s.table, plan)
		}
	}
}

// pgSampleWithReader copies the sample into a new PostgreSQL database and
// returns it open as its owner and as a role that may only read (any
// write through asReader fails). Both are closed when the test ends.
func pgSampleWithReader(t *testing.T) (pg, asReader *sql.DB) {
	t.Helper()
	c := pgtest.Start(t)
	db := c.CreateDatabase(t, "product")
	loadPGSchema(t, c, db)
	pg, err := sql.Open("pgx", c.URL(db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	copyToPG(t, openSQLite(t, copySample(t)), pg)
	c.Exec(t, db, `
		CREATE ROLE reader LOGIN PASSWORD 'reader';
		GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;`)
	u := url.URL{
		Scheme: "postgres", User: url.UserPassword("reader", "reader"),
		Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), Path: "/" + db,
		RawQuery: "sslmode=disable",
	}
	asReader, err = sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { asReader.Close() })
	return pg, asReader
}
