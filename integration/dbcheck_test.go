package integration

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"supervisor/integration/fleet"
	"supervisor/integration/workspace"
	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/internal/testutil"
	"supervisor/schema"
)

// Database helpers of the end-to-end and proof suites: SQLite product
// templates, and what a test reads back from a product database to judge a
// run (revisions, schema, row counts, integrity).

// slowReports sizes the "slow" SQLite product: its migration from 001 to
// 002 (a rebuild of reports, runs and run_histories) takes about 0.5-1 s on
// a small machine.
const slowReports = 25000

// sqliteTemplate is a SQLite product database at version 001 with generated
// content, plus what a whole database must look like at 001 and at 002.
type sqliteTemplate struct {
	path   string
	counts map[string]int64  // rows per table (atlas_schema_revisions aside)
	schema map[string]string // version -> dump of sqlite_master
}

var (
	sqliteTemplatesMu sync.Mutex
	sqliteTemplates   = map[int]*sqliteTemplate{}
)

// ftSQLiteTemplate returns the template with n reports, making it on first
// use. It lives beside the binary under test, which TestMain removes.
func sqliteTemplateWith(t *testing.T, n int) *sqliteTemplate {
	t.Helper()
	sqliteTemplatesMu.Lock()
	defer sqliteTemplatesMu.Unlock()
	if tp := sqliteTemplates[n]; tp != nil {
		return tp
	}
	ctx := context.Background()
	dir := filepath.Dir(supervisorBin)
	tp := &sqliteTemplate{path: filepath.Join(dir, fmt.Sprintf("ft-template-%d.sqlite", n)), schema: map[string]string{}}
	os.Remove(tp.path)
	start := time.Now()
	if _, err := workspace.MakeProduct(ctx, sqliteTarget(tp.path), "001", fleet.Options{Reports: n, Seed: 7}); err != nil {
		t.Fatalf("make template: %v", err)
	}
	db := openSQLite(t, tp.path)
	tp.counts = countRows(t, db, "sqlite")
	tp.schema["001"] = sqliteSchemaDump(t, db)
	db.Close()

	// What 002 looks like: a copy migrated in-process, the way a clean run does.
	up := filepath.Join(dir, fmt.Sprintf("ft-template-%d-002.sqlite", n))
	os.Remove(up)
	if err := fleet.CopySQLite(tp.path, up); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(up)
	udb := openDBWith(t, sqliteTarget(up), dbconn.Options{ImmediateTx: true})
	if _, err := migrate.Upgrade(ctx, udb, "sqlite", schema.Product, migrate.Options{}); err != nil {
		t.Fatalf("migrate template copy: %v", err)
	}
	tp.schema["002"] = sqliteSchemaDump(t, udb)
	if got := countRows(t, udb, "sqlite"); !maps.Equal(got, tp.counts) {
		t.Fatalf("a clean migration changed row counts: %v, want %v", got, tp.counts)
	}
	udb.Close()
	t.Logf("template with %d reports made in %v", n, time.Since(start).Round(time.Millisecond))
	sqliteTemplates[n] = tp
	return tp
}

// copyTo copies the template to path.
func (tp *sqliteTemplate) copyTo(t *testing.T, path string) {
	t.Helper()
	if err := fleet.CopySQLite(tp.path, path); err != nil {
		t.Fatal(err)
	}
}

// sqliteSchemaDump is the database's schema (revisions table aside), one line per object.
func sqliteSchemaDump(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name <> 'atlas_schema_revisions' ORDER BY type, name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var sb strings.Builder
	for rows.Next() {
		var typ, name, tbl, q string
		if err := rows.Scan(&typ, &name, &tbl, &q); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "%s %s on %s: %s\n", typ, name, tbl, strings.Join(strings.Fields(q), " "))
	}
	return sb.String()
}

// hasColumn reports whether table has column.
func hasColumn(t *testing.T, db *sql.DB, table, column string) bool {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM pragma_table_info(?) WHERE name = ?", table, column).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// checkWholeSQLite checks that the SQLite product at path (made from tp) is at a
// whole version and intact, and returns that version: the revisions are a
// prefix of the packaged files, each fully applied, the schema is exactly
// the one of that version, integrity_check (quick_check unless full: it
// skips the index cross-checks, a second of CPU here) says ok,
// foreign_key_check finds nothing, and every table holds as many rows as
// the template.
func checkWholeSQLite(t *testing.T, path string, tp *sqliteTemplate, full bool) string {
	t.Helper()
	db := openSQLite(t, path)
	defer db.Close()
	v, versions, half := wholeVersion(readRevisions(t, db))
	for _, h := range half {
		t.Errorf("%s: %s", path, h)
	}
	if v == "" {
		t.Fatalf("%s: revisions %v, want 001 or 001,002", path, versions)
	}
	if got := sqliteSchemaDump(t, db); got != tp.schema[v] {
		t.Errorf("%s: schema is not the one of version %s:\n%s\nwant\n%s", path, v, got, tp.schema[v])
	}
	// The leftover columns 002 drops, spelled out.
	if got, want := hasColumn(t, db, "reports", "checker_cat_UNUSED"), v == "001"; got != want {
		t.Errorf("%s at %s: reports.checker_cat_UNUSED present = %v", path, v, got)
	}
	if got, want := hasColumn(t, db, "runs", "command"), v == "001"; got != want {
		t.Errorf("%s at %s: runs.command present = %v", path, v, got)
	}
	check := "quick_check"
	if full {
		check = "integrity_check"
	}
	for _, p := range sqliteIntegrityProblems(t, db, check) {
		t.Errorf("%s: %s", path, p)
	}
	if got := countRows(t, db, "sqlite"); !maps.Equal(got, tp.counts) {
		t.Errorf("%s: row counts changed: %v, want %v", path, got, tp.counts)
	}
	return v
}

// checkSQLiteIntact fails t unless the SQLite file tg passes
// integrity_check and foreign_key_check.
func checkSQLiteIntact(t *testing.T, tg dbconn.Target) {
	t.Helper()
	db := openReadOnly(t, tg)
	defer db.Close()
	for _, p := range sqliteIntegrityProblems(t, db, "integrity_check") {
		t.Errorf("%s: %s", tg.Path, p)
	}
}

// wholeVersion reads a product's revisions (either dialect): the whole
// version they record ("001" or "002"; "" when they are not a prefix of the
// packaged files, each once), the versions listed, and the files recorded
// half applied.
func wholeVersion(revs []revisionRow) (version string, versions, halfApplied []string) {
	for _, r := range revs {
		versions = append(versions, r.version)
		if r.applied != r.total || r.errText != "" {
			halfApplied = append(halfApplied, fmt.Sprintf("version %s half applied: %d of %d statements, error %q", r.version, r.applied, r.total, r.errText))
		}
	}
	switch strings.Join(versions, ",") {
	case "001":
		version = "001"
	case "001,002":
		version = "002"
	}
	return version, versions, halfApplied
}

// sqliteIntegrityProblems runs PRAGMA check (integrity_check or quick_check)
// and PRAGMA foreign_key_check on db and says what each found wrong; none
// means the file is intact.
func sqliteIntegrityProblems(tb testing.TB, db *sql.DB, check string) []string {
	tb.Helper()
	var problems []string
	var ic string
	if err := db.QueryRow("PRAGMA " + check).Scan(&ic); err != nil || ic != "ok" {
		problems = append(problems, fmt.Sprintf("%s: %q %v", check, ic, err))
	}
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	if n != 0 {
		problems = append(problems, fmt.Sprintf("foreign_key_check reports %d violations", n))
	}
	return problems
}

// revisionRow is one row of atlas_schema_revisions, on either dialect (shared by
// the end-to-end tests that check what was recorded).
type revisionRow struct {
	version, errText, operator string
	applied, total, execTime   int64
	at                         time.Time
}

func readRevisions(t *testing.T, db *sql.DB) []revisionRow {
	t.Helper()
	rows, err := db.Query("SELECT version, applied, total, executed_at, execution_time, coalesce(error, ''), operator_version FROM atlas_schema_revisions ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []revisionRow
	for rows.Next() {
		var r revisionRow
		var at any
		if err := rows.Scan(&r.version, &r.applied, &r.total, &at, &r.execTime, &r.errText, &r.operator); err != nil {
			t.Fatal(err)
		}
		switch v := at.(type) {
		case time.Time:
			r.at = v
		case string:
			r.at, err = time.Parse(time.RFC3339Nano, v)
		case []byte:
			r.at, err = time.Parse(time.RFC3339Nano, string(v))
		default:
			err = fmt.Errorf("executed_at is a %T", at)
		}
		if err != nil {
			t.Fatalf("executed_at of %s: %v", r.version, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// indexesOf002 lists the indexes the packaged PostgreSQL version 002 creates.
func indexesOf002(t *testing.T) []string {
	t.Helper()
	dir, err := migrate.Dir(schema.Product, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?i)^\s*CREATE\s+INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?"?(\w+)"?`)
	var out []string
	for _, f := range files {
		if f.Version() != "002" {
			continue
		}
		stmts, err := f.Stmts()
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range stmts {
			if m := re.FindStringSubmatch(st); m != nil {
				out = append(out, m[1])
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("the packaged version 002 creates no index")
	}
	return out
}

// lastRevision is the last version in atlas_schema_revisions ("" if the table is
// missing or empty).
func lastRevision(t *testing.T, tg dbconn.Target) string {
	t.Helper()
	db := openReadOnly(t, tg)
	defer db.Close()
	tables := tableNames(t, db, tg.Dialect)
	if !slices.Contains(tables, migrate.RevisionsTable) {
		return ""
	}
	var v sql.NullString
	if err := db.QueryRow("SELECT max(version) FROM " + migrate.RevisionsTable).Scan(&v); err != nil {
		t.Fatalf("read revisions of %s: %v", tg.Path+tg.Database, err)
	}
	return v.String
}

func tableNames(t *testing.T, db *sql.DB, dialect dbconn.Dialect) []string {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
	if dialect == dbconn.Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
	}
	return testutil.QueryStrings(t, db, q)
}

// rowCounts counts the rows of every table of the database, revision tables
// excluded.
func rowCounts(t *testing.T, tg dbconn.Target) map[string]int64 {
	t.Helper()
	db := openReadOnly(t, tg)
	defer db.Close()
	return countRows(t, db, tg.Dialect)
}

// countRows counts the rows of every table of an open database, revision
// tables excluded.
func countRows(t *testing.T, db *sql.DB, dialect dbconn.Dialect) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, name := range tableNames(t, db, dialect) {
		if name == migrate.RevisionsTable {
			continue
		}
		var n int64
		if err := db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM %q`, name)).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", name, err)
		}
		out[name] = n
	}
	return out
}

// latestVersion is the newest packaged product schema version.
func latestVersion(t *testing.T, dialect dbconn.Dialect) string {
	t.Helper()
	v, err := migrate.LatestVersion(schema.Product, dialect)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fileState is a file's content hash and modification time ("" if absent).
type fileState struct {
	sum   string
	mtime time.Time
}

func fileStateOf(t *testing.T, path string) fileState {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return fileState{}
	}
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileState{sum: fmt.Sprintf("%x", sha256.Sum256(b)), mtime: fi.ModTime()}
}

// pgIndexes lists the public indexes of db.
func pgIndexes(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

// execSQL runs statements on db, failing t.
func execSQL(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// ---------------------------------------------------------------------------
// SQLite files.

// waitForFile polls until path exists (a rollback journal: a write transaction
// has started writing) and reports whether it did within timeout.
func waitForFile(path string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

// copySQLiteFiles copies a SQLite database and its rollback journal, if any, to a
// new directory and returns the copy's path.
func copySQLiteFiles(t *testing.T, path string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(path))
	for _, side := range []string{"", "-journal"} {
		b, err := os.ReadFile(path + side)
		if os.IsNotExist(err) && side != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+side, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
