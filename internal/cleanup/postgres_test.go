package cleanup

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/testutil"

	_ "github.com/jackc/pgx/v5/stdlib"

	"supervisor/internal/pgtest"
)

// pgTableOrder lists the product tables parents first, for copying rows
// into PostgreSQL (which, unlike SQLite, also has foreign keys from
// reports.checker_id and analysis_info.checker_set_id).
var pgTableOrder = []string{
	"alembic_version",
	"checkers", "checker_set", "checker_set_items", "analysis_info",
	"file_contents", "files",
	"runs", "run_histories", "analyzer_statistics", "run_history_analysis_info",
	"reports", "report_analysis_info", "bug_path_events", "bug_report_points",
	"extended_report_data", "report_annotations",
	"comments", "review_statuses",
	"source_components", "source_component_files",
	"cleanup_plans", "cleanup_plan_report_hashes",
	"filter_presets", "run_locks",
}

// pgColumn is a column of a PostgreSQL table.
type pgColumn struct {
	name, dataType, udt string
}

// loadPGSchema loads product-head.postgres.sql through the driver: the
// psql meta-commands (backslash lines) and the COPY data blocks are left
// out, since every row, the seed rows included, comes from the sample.
func loadPGSchema(t *testing.T, c *pgtest.Cluster, db string) { loadPGSchemaTB(t, c, db) }

func loadPGSchemaTB(t testing.TB, c *pgtest.Cluster, db string) {
	t.Helper()
	f, err := os.Open(pgSchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	sc := bufio.NewScanner(f)
	inCopy := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case inCopy:
			inCopy = line != `\.`
		case strings.HasPrefix(line, "COPY "):
			inCopy = true
		case strings.HasPrefix(line, `\`), strings.Contains(line, "pg_catalog.setval("):
		default:
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	c.Exec(t, db, b.String())
}

// pgColumns returns the columns of a public table, in order.
func pgColumns(t *testing.T, pg *sql.DB, table string) []pgColumn {
	t.Helper()
	rows, err := pg.Query(`SELECT column_name, data_type, udt_name FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []pgColumn
	for rows.Next() {
		var c pgColumn
		if err := rows.Scan(&c.name, &c.dataType, &c.udt); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	if len(cols) == 0 {
		t.Fatalf("table %s has no columns on PostgreSQL", table)
	}
	return cols
}

func quoteCols(cols []pgColumn) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.name)
	}
	return strings.Join(names, ", ")
}

// liteCols is quoteCols for a SELECT from SQLite: timestamps are read as
// the text they are stored as (the driver would parse DATETIME columns).
func liteCols(cols []pgColumn) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.name)
		if strings.HasPrefix(c.dataType, "timestamp") {
			names[i] = "CAST(" + names[i] + " AS TEXT)"
		}
	}
	return strings.Join(names, ", ")
}

// toPG converts a SQLite value for a PostgreSQL column: booleans from 0/1,
// bytea from blobs or text, integers as they are, everything else as text
// (the INSERT casts it).
func toPG(c pgColumn, v any) any {
	if v == nil {
		return nil
	}
	switch c.dataType {
	case "boolean":
		return v.(int64) != 0
	case "bytea":
		if s, ok := v.(string); ok {
			return []byte(s)
		}
		return v
	case "integer", "bigint", "smallint":
		return v
	}
	switch x := v.(type) {
	case []byte:
		return string(x)
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

// copyToPG copies every row of every table of the SQLite database into
// the PostgreSQL one (same column names; SQLite's leftover columns are not
// copied) and moves the id sequences past the copied ids.
func copyToPG(t *testing.T, lite, pg *sql.DB) {
	t.Helper()
	var liteTables []string
	for table := range takeSnapshot(t, lite) {
		liteTables = append(liteTables, table)
	}
	if a, b := slices.Sorted(slices.Values(liteTables)), slices.Sorted(slices.Values(pgTableOrder)); !slices.Equal(a, b) {
		t.Fatalf("pgTableOrder %v does not list the SQLite tables %v", b, a)
	}
	tx, err := pg.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, table := range pgTableOrder {
		cols := pgColumns(t, pg, table)
		rows, err := lite.Query(fmt.Sprintf(`SELECT %s FROM %q`, liteCols(cols), table))
		if err != nil {
			t.Fatal(err)
		}
		var all [][]any
		for rows.Next() {
			vals := testutil.ScanRow(t, rows, len(cols))
			for i, c := range cols {
				vals[i] = toPG(c, vals[i])
			}
			all = append(all, vals)
		}
		rows.Close()
		// Multi-row INSERTs, within PostgreSQL's 65535 parameters.
		per := 60000 / len(cols)
		for start := 0; start < len(all); start += per {
			chunk := all[start:min(start+per, len(all))]
			var b strings.Builder
			fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, quoteCols(cols))
			args := make([]any, 0, len(chunk)*len(cols))
			for r, vals := range chunk {
				if r > 0 {
					b.WriteString(", ")
				}
				b.WriteByte('(')
				for i, c := range cols {
					if i > 0 {
						b.WriteString(", ")
					}
					args = append(args, vals[i])
					n := len(args)
					switch c.dataType {
					case "boolean", "bytea", "integer", "bigint", "smallint":
						fmt.Fprintf(&b, "$%d", n)
					default:
						fmt.Fprintf(&b, "CAST(CAST($%d AS text) AS %s)", n, c.udt)
					}
				}
				b.WriteByte(')')
			}
			if _, err := tx.Exec(b.String(), args...); err != nil {
				t.Fatalf("copy %s: %v", table, err)
			}
		}
		if !slices.ContainsFunc(cols, func(c pgColumn) bool { return c.name == "id" }) {
			continue
		}
		if _, err := tx.Exec(fmt.Sprintf(`SELECT setval(s, (SELECT max(id) FROM %s))
			FROM pg_get_serial_sequence('%s', 'id') AS s
			WHERE s IS NOT NULL AND EXISTS (SELECT 1 FROM %s)`, table, table, table)); err != nil {
			t.Fatalf("reset sequence of %s: %v", table, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// renderValue renders a value read from either database in the same way,
// by the PostgreSQL column type.
func renderValue(c pgColumn, v any) string {
	if v == nil {
		return "NULL"
	}
	switch c.dataType {
	case "boolean":
		switch x := v.(type) {
		case bool:
			if x {
				return "1"
			}
			return "0"
		case int64:
			return strconv.FormatInt(x, 10)
		}
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return hex.EncodeToString(x)
		case string:
			return hex.EncodeToString([]byte(x))
		}
	}
	switch x := v.(type) {
	case time.Time:
		return x.Format(timestampLayout)
	case []byte:
		return string(x)
	default:
		return fmt.Sprint(x)
	}
}

// commonSnapshot renders every table on the PostgreSQL column set, from
// either database (lite says db is the SQLite one), so that the two can be
// compared.
func commonSnapshot(t *testing.T, db, pg *sql.DB, lite bool) snapshot {
	t.Helper()
	s := snapshot{}
	for _, table := range pgTableOrder {
		cols := pgColumns(t, pg, table)
		list := quoteCols(cols)
		if lite {
			list = liteCols(cols)
		}
		q := fmt.Sprintf(`SELECT %s FROM %s`, list, table)
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for rows.Next() {
			vals := testutil.ScanRow(t, rows, len(cols))
			parts := make([]string, len(cols))
			for i, c := range cols {
				parts[i] = c.name + "=" + renderValue(c, vals[i])
			}
			out = append(out, strings.Join(parts, " | "))
		}
		rows.Close()
		slices.Sort(out)
		s[table] = out
	}
	return s
}

// analysisInfoFKs lists the foreign keys from the link tables to
// analysis_info, with their definitions.
func analysisInfoFKs(t *testing.T, pg *sql.DB) []string {
	t.Helper()
	return testutil.QueryStrings(t, pg, `SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
		FROM pg_constraint WHERE contype = 'f' AND confrelid = 'analysis_info'::regclass ORDER BY 1`)
}

// tempIndexes lists the indexes whose names start with tmp_.
func tempIndexes(t *testing.T, pg *sql.DB) []string {
	t.Helper()
	return testutil.QueryStrings(t, pg, `SELECT indexname FROM pg_indexes WHERE indexname LIKE 'tmp%'`)
}

// TestPostgres loads the product schema into a throwaway PostgreSQL
// cluster, copies product-sample.sqlite into it, runs the cleanup there
// and on a SQLite copy, and compares: the same rows must survive.
func TestPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	c := pgtest.Start(t)
	lab := loadFixtureLabels(t)

	// SQLite side.
	lite := openSQLite(t, copySample(t))
	source := openSQLite(t, copySample(t))

	setup := func(t *testing.T, name string) *sql.DB {
		db := c.CreateDatabase(t, name)
		loadPGSchema(t, c, db)
		pg, err := sql.Open("pgx", c.URL(db))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pg.Close() })
		copyToPG(t, source, pg)
		return pg
	}

	pg := setup(t, "product")
	if a, b := commonSnapshot(t, source, pg, true), commonSnapshot(t, pg, pg, false); !reflect.DeepEqual(a, b) {
		for table := range a {
			x, y := diffRows(a[table], b[table])
			if len(x)+len(y) > 0 {
				t.Errorf("copy of %s differs: %d rows only in SQLite (e.g. %q), %d only in PostgreSQL (e.g. %q)",
					table, len(x), first(x), len(y), first(y))
			}
		}
		t.FailNow()
	}
	fksBefore := analysisInfoFKs(t, pg)
	if len(fksBefore) != 2 {
		t.Fatalf("foreign keys to analysis_info: %q, want 2", fksBefore)
	}

	runCleanup(t, lite, lab)
	log, buf := testLogger()
	got, err := Run(context.Background(), pg, Options{
		Dialect: dbconn.Postgres, Labels: lab, Now: fixedNow, BatchSize: 4, Logger: log,
	})
	if err != nil {
		t.Fatalf("Run on PostgreSQL: %v\nlog:\n%s", err, buf)
	}
	if !maps.Equal(got, wantSampleCounts) {
		t.Errorf("Run counts on PostgreSQL = %v, want %v", got, wantSampleCounts)
	}
	compareWithSQLite(t, lite, pg)
	if fksAfter := analysisInfoFKs(t, pg); !slices.Equal(fksAfter, fksBefore) {
		t.Errorf("foreign keys to analysis_info after cleanup: %q, want %q", fksAfter, fksBefore)
	}
	if n := strings.Count(buf.String(), "created a temporary index for the delete"); n != 4 {
		t.Errorf("log mentions %d temporary indexes, want 4; log:\n%s", n, buf)
	}
	if idx := tempIndexes(t, pg); len(idx) != 0 {
		t.Errorf("temporary indexes left behind: %q", idx)
	}

	t.Run("twice", func(t *testing.T) {
		got, err := Run(context.Background(), pg, Options{Dialect: dbconn.Postgres, Labels: lab, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range got {
			if v != 0 {
				t.Errorf("second run: %s = %d, want 0", k, v)
			}
		}
		compareWithSQLite(t, lite, pg)
	})

	// A role that may write the rows but not alter the tables: the
	// foreign keys cannot be dropped, and the delete runs with them.
	t.Run("not owner", func(t *testing.T) {
		pg2 := setup(t, "product_not_owner")
		c.Exec(t, "product_not_owner", `
			CREATE ROLE cleaner LOGIN PASSWORD 'cleaner';
			GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO cleaner;`)
		u := url.URL{
			Scheme: "postgres", User: url.UserPassword("cleaner", "cleaner"),
			Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), Path: "/product_not_owner",
			RawQuery: "sslmode=disable",
		}
		asCleaner, err := sql.Open("pgx", u.String())
		if err != nil {
			t.Fatal(err)
		}
		defer asCleaner.Close()
		log, buf := testLogger()
		got, err := Run(context.Background(), asCleaner, Options{
			Dialect: dbconn.Postgres, Labels: lab, Now: fixedNow, Logger: log,
		})
		if err != nil {
			t.Fatalf("Run as a non-owner: %v\nlog:\n%s", err, buf)
		}
		if !maps.Equal(got, wantSampleCounts) {
			t.Errorf("Run counts = %v, want %v", got, wantSampleCounts)
		}
		if n := strings.Count(buf.String(), "cannot create a temporary index"); n != 4 {
			t.Errorf("log warns about %d temporary indexes, want 4; log:\n%s", n, buf)
		}
		compareWithSQLite(t, lite, pg2)
		if fks := analysisInfoFKs(t, pg2); !slices.Equal(fks, fksBefore) {
			t.Errorf("foreign keys to analysis_info: %q, want %q", fks, fksBefore)
		}
	})
}

// compareWithSQLite fails t unless every table holds the same rows in both
// databases.
func compareWithSQLite(t *testing.T, lite, pg *sql.DB) {
	t.Helper()
	a, b := commonSnapshot(t, lite, pg, true), commonSnapshot(t, pg, pg, false)
	for _, table := range pgTableOrder {
		x, y := diffRows(a[table], b[table])
		if len(x)+len(y) > 0 {
			t.Errorf("%s: %d rows only on SQLite (e.g. %q), %d only on PostgreSQL (e.g. %q)",
				table, len(x), first(x), len(y), first(y))
		}
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// generatePG fills a PostgreSQL product database with g's content, like
// generateProduct does for SQLite.
func generatePG(tb testing.TB, c *pgtest.Cluster, db string, g genConfig) {
	tb.Helper()
	allFiles := g.liveFiles + g.garbageFiles
	c.Exec(tb, db, fmt.Sprintf(`
		INSERT INTO alembic_version VALUES ('b1be74589382');
		INSERT INTO checkers (id, analyzer_name, checker_name, severity) VALUES (1, '__FAKE__', '__FAKE__', 0), (2, 'UNKNOWN', 'NOT FOUND', 0);
		INSERT INTO checkers (id, analyzer_name, checker_name, severity)
			SELECT 2 + x, 'clang-tidy', 'clang-diagnostic-bench-' || x, 0 FROM generate_series(1, %[1]d) AS x;
		INSERT INTO runs (id, date, duration, name, version, can_delete)
			SELECT x, '2026-01-01 00:00:00', 60, 'run-' || x, '6.24', true FROM generate_series(1, 10) AS x;
		INSERT INTO run_histories (id, run_id, version_tag, "user", time, cc_version)
			SELECT x, 1 + x %% 10, 'v' || x, 'bench', '2026-01-01 00:00:00', '6.24' FROM generate_series(1, 100) AS x;
		INSERT INTO checker_set (id, hash_digest) SELECT x, 'set-' || x FROM generate_series(1, 50 + %[2]d) AS x;
		INSERT INTO checker_set_items (checker_set_id, checker_id, enabled)
			SELECT checker_set.id, 2 + x, true FROM checker_set, generate_series(1, 40) AS x;
		INSERT INTO analysis_info (id, analyzer_command, checker_set_id)
			SELECT x, convert_to('clang-tidy --bench ' || x, 'UTF8'), 1 + x %% 50 FROM generate_series(1, %[3]d + %[4]d) AS x;
		INSERT INTO run_history_analysis_info (run_history_id, analysis_info_id)
			SELECT 1 + x %% 100, x FROM generate_series(1, %[3]d) AS x;
		INSERT INTO file_contents (content_hash, content)
			SELECT 'hash' || lpad(x::text, 10, '0'), decode(md5(x::text), 'hex') FROM generate_series(1, %[5]d) AS x;
		INSERT INTO files (id, filepath, filename, content_hash)
			SELECT x, format('/src/dir%%s/file%%s.c', x %% 100, x), format('file%%s.c', x), 'hash' || lpad(x::text, 10, '0')
			FROM generate_series(1, %[5]d) AS x;
		INSERT INTO reports (id, file_id, run_id, bug_id, line, "column", checker_message, detection_status, detected_at, path_length, checker_id)
			SELECT x, 1 + (x::bigint * 7919) %% %[6]d, 1 + x %% 10, 'bug' || lpad(x::text, 10, '0'), x %% 500, 1, 'message',
				'new', '2026-01-01 00:00:00', 3, 3 + x %% %[1]d FROM generate_series(1, %[7]d) AS x;
		INSERT INTO bug_path_events (line_begin, col_begin, line_end, col_end, "order", msg, file_id, report_id)
			SELECT line, 1, line, 5, o.n, 'step', CASE o.n WHEN 1 THEN 1 + (file_id * 31) %% %[6]d ELSE file_id END, id
			FROM reports, generate_series(0, 2) AS o(n);
		INSERT INTO bug_report_points (line_begin, col_begin, line_end, col_end, "order", file_id, report_id)
			SELECT line, 1, line, 5, o.n, file_id, id FROM reports, generate_series(0, 1) AS o(n);
		INSERT INTO report_analysis_info (report_id, analysis_info_id) SELECT id, 1 + id %% %[3]d FROM reports;
		INSERT INTO extended_report_data (report_id, file_id, type, line_begin, col_begin, line_end, col_end, message)
			SELECT id, CASE WHEN id %% 1000 = 0 THEN %[6]d + 1 + (id / 1000) %% %[8]d ELSE file_id END, 'note', 1, 1, 1, 1, 'note'
			FROM reports WHERE id %% 10 = 0;
		INSERT INTO source_components (name, value) VALUES ('bench', convert_to('+/src/*', 'UTF8')), ('all', convert_to('-/nothing/*', 'UTF8'));
		INSERT INTO source_component_files (source_component_name, file_id) SELECT 'all', id FROM files;
		INSERT INTO source_component_files (source_component_name, file_id)
			SELECT 'bench', id FROM files WHERE id <= %[6]d AND id %% 100 = 0 OR id > %[6]d AND id <= %[6]d + 100;
		INSERT INTO comments (bug_hash, author, message, created_at, kind)
			SELECT bug_id, 'bench', convert_to('comment', 'UTF8'), '2026-01-01 00:00:00', 0 FROM reports WHERE id %% 10 = 0;
		INSERT INTO comments (bug_hash, author, message, created_at, kind)
			SELECT 'gone' || lpad(x::text, 10, '0'), 'bench', convert_to('comment', 'UTF8'), '2026-01-01 00:00:00', 0
			FROM generate_series(1, %[7]d / 100) AS x;
		INSERT INTO run_locks (name, locked_at, username) VALUES
			('a', '2026-01-01 00:00:00', 'x'), ('b', '2026-01-02 00:00:00', 'x'), ('c', '2026-01-03 00:00:00', 'x'),
			('d', '2099-12-31 23:00:00', 'x'), ('e', '2099-12-31 23:00:00', 'x');`,
		g.checkers, g.garbageSets, g.liveAI, g.garbageAI, allFiles, g.liveFiles, g.reports, max(g.garbageFiles, 1)))
	// Settle the new tables, so that the timing is not the autovacuum's
	// or a checkpoint's.
	c.Exec(tb, db, "VACUUM ANALYZE")
	c.Exec(tb, db, "CHECKPOINT")
}

// BenchmarkRunPostgres is BenchmarkRun on PostgreSQL (one database per
// iteration, generated outside the timer).
//
//	go test -run '^$' -bench RunPostgres -benchtime 2x ./internal/cleanup/
func BenchmarkRunPostgres(b *testing.B) {
	g := genConfig{
		reports: 200_000, liveFiles: 70_000, garbageFiles: 30_000,
		liveAI: 100, garbageAI: 2_000, garbageSets: 50, checkers: 1000,
	}
	c := pgtest.Start(b)
	lab := loadFixtureLabels(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		name := c.CreateDatabase(b, fmt.Sprintf("bench%d", i))
		loadPGSchemaTB(b, c, name)
		start := time.Now()
		generatePG(b, c, name, g)
		b.Logf("generated %d reports in %v", g.reports, time.Since(start).Round(time.Millisecond))
		pg, err := sql.Open("pgx", c.URL(name))
		if err != nil {
			b.Fatal(err)
		}
		log, buf := testLogger()
		b.StartTimer()

		got, err := Run(context.Background(), pg, Options{Dialect: dbconn.Postgres, Labels: lab, Now: fixedNow, Logger: log})

		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if want := g.want(); !maps.Equal(got, want) {
			b.Fatalf("Run counts = %v, want %v", got, want)
		}
		for _, l := range strings.Split(buf.String(), "\n") {
			if strings.Contains(l, "removed") {
				b.Log(l)
			}
		}
		pg.Close()
		b.StartTimer()
	}
}

// TestPostgresBatchOverSQLiteParameterLimit: PostgreSQL's default batch
// takes more keys in one statement than SQLite's bound-parameter limit
// (32766) allows, and still removes exactly the garbage.
func TestPostgresBatchOverSQLiteParameterLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	if b := sqlOf(dbconn.Postgres).batchSize(0); b <= 32766 {
		t.Fatalf("PostgreSQL default batch %d, want one over SQLite's limit of 32766", b)
	}
	// The generator needs at least 50 live analysis infos (the 50 checker
	// sets in use) and 40 checkers (the items of a set).
	g := genConfig{
		reports: 2_000, liveFiles: 500, garbageFiles: 40_000,
		liveAI: 100, garbageAI: 20, garbageSets: 2, checkers: 100,
	}
	c := pgtest.Start(t)
	name := c.CreateDatabase(t, "bigbatch")
	loadPGSchema(t, c, name)
	generatePG(t, c, name, g)
	pg, err := sql.Open("pgx", c.URL(name))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	got, err := Run(context.Background(), pg, Options{Dialect: dbconn.Postgres, Labels: loadFixtureLabels(t), Now: fixedNow})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if want := g.want(); !maps.Equal(got, want) {
		t.Errorf("Run counts = %v, want %v", got, want)
	}
	if n := queryInt(t, pg, "SELECT count(*) FROM files"); n != int64(g.liveFiles) {
		t.Errorf("files left: %d, want the %d live ones", n, g.liveFiles)
	}
}
