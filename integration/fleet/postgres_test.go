package fleet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"supervisor/internal/pgtest"
)

// postgresProduct creates database name owned by the role of as (a copy of
// c with another user), loads the empty product schema CodeChecker makes on
// PostgreSQL into it as that role, and opens it as that role.
func postgresProduct(tb testing.TB, c, as *pgtest.Cluster, name string) *sql.DB {
	tb.Helper()
	c.Exec(tb, "postgres", "CREATE DATABASE "+name+" OWNER "+as.User)
	as.LoadDump(tb, name, fixture(tb, "product-head.postgres.sql"))
	db, err := sql.Open("pgx", as.URL(name))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// pgDigest fingerprints a table's rows on PostgreSQL.
func pgDigest(tb testing.TB, db *sql.DB, table string) string {
	tb.Helper()
	var s string
	q := "SELECT md5(COALESCE(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM " + table + " t"
	if err := db.QueryRow(q).Scan(&s); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return s
}

func TestFillPostgres(t *testing.T) {
	c := pgtest.Start(t)
	// As the superuser, Fill skips the foreign key checks; as an ordinary
	// role, PostgreSQL checks every row (most at commit), which proves the
	// content consistent. Both must write the same rows.
	c.Exec(t, "postgres", "CREATE ROLE fleet LOGIN PASSWORD 'fleet-pw'")
	role := *c
	role.User, role.Password = "fleet", "fleet-pw"
	superDB := postgresProduct(t, c, c, "product_super")
	roleDB := postgresProduct(t, c, &role, "product_role")

	o := Options{Dialect: DialectPostgres, Reports: 3000, Seed: 1}
	g := fill(t, superDB, o)
	cutoff := time.Now().UTC().Add(-30 * time.Minute)
	checkContent(t, superDB, o)
	checkGarbage(t, superDB, g, cutoff)
	t.Logf("garbage: %+v", g)

	if rg := fill(t, roleDB, o); rg != g {
		t.Errorf("garbage as an ordinary role %+v, as the superuser %+v", rg, g)
	}
	checkGarbage(t, roleDB, g, cutoff)
	for _, table := range []string{"reports", "bug_path_events", "bug_report_points", "files", "file_contents", "comments", "analysis_info", "checker_set_items", "run_locks"} {
		if a, b := pgDigest(t, superDB, table), pgDigest(t, roleDB, table); a != b {
			t.Errorf("table %s differs between the superuser's and the role's fill", table)
		}
	}

	// The same options plant the same garbage on SQLite.
	sdb, _ := emptyProduct(t)
	so := o
	so.Dialect = DialectSQLite
	if sg := fill(t, sdb, so); sg != g {
		t.Errorf("garbage on SQLite %+v, on PostgreSQL %+v", sg, g)
	}

	// The id sequences moved past what Fill wrote.
	var runID, reportID int64
	if err := roleDB.QueryRow(`INSERT INTO runs (name) VALUES ('after-fill') RETURNING id`).Scan(&runID); err != nil {
		t.Fatal(err)
	}
	if runID != 4 {
		t.Errorf("next run id = %d, want 4", runID)
	}
	err := roleDB.QueryRow(`INSERT INTO reports (file_id, run_id, bug_id, detected_at, checker_id)
		VALUES (1, $1, 'x', now(), 3) RETURNING id`, runID).Scan(&reportID)
	if err != nil {
		t.Fatal(err)
	}
	if reportID != int64(o.Reports)+1 {
		t.Errorf("next report id = %d, want %d", reportID, o.Reports+1)
	}

	if _, err := Fill(context.Background(), superDB, o); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("Fill into a filled product: %v, want ErrNotEmpty", err)
	}
}

// BenchmarkFillPostgres measures Fill of 200k reports on PostgreSQL, as the
// superuser (foreign key checks off):
//
//	go test -run '^$' -bench FillPostgres -benchtime 1x ./integration/fleet/
func BenchmarkFillPostgres(b *testing.B) {
	const reports = 200_000
	c := pgtest.Start(b)
	n := 0
	for b.Loop() {
		b.StopTimer()
		n++
		db := postgresProduct(b, c, c, fmt.Sprintf("bench_%d", n))
		b.StartTimer()
		if _, err := Fill(context.Background(), db, Options{Dialect: DialectPostgres, Reports: reports, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(reports)*float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}
