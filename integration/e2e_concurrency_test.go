package integration

// Two supervisors on one fleet at once, and the per-product lock: SQLite's
// own write lock (BEGIN IMMEDIATE, waited for up to --lock-timeout) and a
// PostgreSQL advisory lock.

import (
	"context"
	"database/sql"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
)

// ccPasswordEnv names the variable the PostgreSQL products' password is in.
const ccPasswordEnv = "CC_PGPASSWORD"

// ccApplied counts, over the outputs of several runs, the log lines saying
// that a file was applied to endpoint.
func ccApplied(endpoint string, outs ...string) int {
	re := regexp.MustCompile(`(?m)\[` + regexp.QuoteMeta(endpoint) + `\] applied migration file`)
	n := 0
	for _, o := range outs {
		n += len(re.FindAllString(o, -1))
	}
	return n
}

// ccFilesApplied is the "Files applied" column of endpoint's summary row, 0
// when there is none.
func ccFilesApplied(t *testing.T, stdout, endpoint string) int {
	t.Helper()
	line := summaryLine(stdout, endpoint)
	if line == "" {
		return 0
	}
	f := strings.Split(line, "|")
	if len(f) < 4 {
		t.Fatalf("summary row %q", line)
	}
	n, err := strconv.Atoi(strings.TrimSpace(f[3]))
	if err != nil {
		t.Fatalf("summary row %q: %v", line, err)
	}
	return n
}

// ccCheckRevisions checks that db holds 001 then 002, each once and whole,
// that 001's row is the one it had before (before[0]), and that 002 was
// recorded after it by this supervisor.
func ccCheckRevisions(t *testing.T, name string, db *sql.DB, before []revisionRow) {
	t.Helper()
	revs := readRevisions(t, db)
	if len(revs) != 2 || revs[0].version != "001" || revs[1].version != "002" {
		t.Fatalf("%s: revisions %+v, want 001 and 002 once each", name, revs)
	}
	for _, r := range revs {
		if r.applied != r.total || r.errText != "" {
			t.Errorf("%s: version %s: %d of %d statements, error %q", name, r.version, r.applied, r.total, r.errText)
		}
	}
	if revs[0] != before[0] {
		t.Errorf("%s: the row of 001 changed: %+v, was %+v", name, revs[0], before[0])
	}
	if !revs[1].at.After(revs[0].at) || time.Since(revs[1].at) > 10*time.Minute {
		t.Errorf("%s: 002 executed at %v, 001 at %v", name, revs[1].at, revs[0].at)
	}
	if !strings.HasPrefix(revs[1].operator, "supervisor ") {
		t.Errorf("%s: 002 recorded by operator %q", name, revs[1].operator)
	}
	if revs[1].total == 0 || revs[1].execTime <= 0 {
		t.Errorf("%s: 002: %d statements in %v", name, revs[1].total, time.Duration(revs[1].execTime))
	}
}

// ---------------------------------------------------------------------------
// 4. Two supervisors, one fleet.

// TestE2ETwoSupervisors starts two `migrate -y` on the same fleet (slow
// SQLite products, PostgreSQL products) at the same moment. Each file must
// be applied exactly once, by one of them (the log line, the summary
// column, the revisions table), the other finding it done; both succeed;
// nothing is corrupted or lost.
func TestE2ETwoSupervisors(t *testing.T) {
	slow := sqliteTemplateWith(t, slowReports)
	c := pgtest.Start(t)
	w := newWorkspace(t)
	sqlite := map[string]string{"s1": w.addSQLite(t, "s1", slow), "s2": w.addSQLite(t, "s2", slow)}
	pg := map[string]dbconn.Target{"pg1": w.Postgres(t, c, "pg1", "pg1", "001", 3000, pgRole{}, ccPasswordEnv), "pg2": w.Postgres(t, c, "pg2", "pg2", "001", 3000, pgRole{}, ccPasswordEnv)}

	before := map[string][]revisionRow{}
	pgCounts := map[string]map[string]int64{}
	for e, p := range sqlite {
		db := openSQLite(t, p)
		before[e] = readRevisions(t, db)
		db.Close()
	}
	for e, tg := range pg {
		db := openDB(t, tg)
		before[e] = readRevisions(t, db)
		pgCounts[e] = countRows(t, db, "postgres")
		db.Close()
	}

	env := []string{ccPasswordEnv + "=" + c.Password}
	a := startSupervisor(t, w.Dir, env, "migrate", "-y", "-j", "2")
	b := startSupervisor(t, w.Dir, env, "migrate", "-y", "-j", "2")
	ra, rb := a.wait(t, 2*time.Minute), b.wait(t, 2*time.Minute)
	if ra.code != 0 || rb.code != 0 {
		t.Errorf("want both to succeed\n--- first: %s\n--- second: %s", ra, rb)
	}
	for e := range before {
		if n := ccApplied(e, ra.stderr, rb.stderr); n != 1 {
			t.Errorf("%s: 'applied migration file' logged %d times, want once", e, n)
		}
		fa, fb := ccFilesApplied(t, ra.stdout, e), ccFilesApplied(t, rb.stdout, e)
		if fa+fb != 1 {
			t.Errorf("%s: files applied %d + %d, want 1 in all", e, fa, fb)
		}
		t.Logf("%s: applied by the %s supervisor", e, map[bool]string{true: "first", false: "second"}[fa == 1])
	}
	if n := strings.Count(ra.stderr+rb.stderr, "already applied by another process"); n > 0 {
		t.Logf("%d times a worker found, under the lock, that the other supervisor had applied the file", n)
	}
	for e, p := range sqlite {
		if v := checkWholeSQLite(t, p, slow, true); v != "002" {
			t.Errorf("%s at %s", e, v)
		}
		db := openSQLite(t, p)
		ccCheckRevisions(t, e, db, before[e])
		db.Close()
	}
	for e, tg := range pg {
		db := openDB(t, tg)
		ccCheckRevisions(t, e, db, before[e])
		if got := countRows(t, db, "postgres"); !maps.Equal(got, pgCounts[e]) {
			t.Errorf("%s: row counts changed: %v, want %v", e, got, pgCounts[e])
		}
		for _, ix := range indexesOf002(t) {
			var n int
			if err := db.QueryRow("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND indexname = $1", ix).Scan(&n); err != nil || n != 1 {
				t.Errorf("%s: index %s: %d (%v), want it there once", e, ix, n, err)
			}
		}
		db.Close()
	}
	if r := supervisor(t, w.Dir, "", env, "status"); r.code != 0 {
		t.Errorf("status afterwards:\n%s", r)
	}
}

// TestE2ELockTimeout: while another process holds a product's lock, a
// supervisor with --lock-timeout 1s gives up on that product after about a
// second, says it timed out waiting for the lock, and touches nothing.
func TestE2ELockTimeout(t *testing.T) {
	slow := sqliteTemplateWith(t, slowReports)
	const want = "timed out waiting for the database lock (1s)"

	t.Run("sqlite, the write lock held", func(t *testing.T) {
		w := newWorkspace(t)
		path := w.addSQLite(t, "p", slow)
		// Another writer between BEGIN IMMEDIATE and its first write: it
		// holds the lock, readers still read.
		db := openSQLite(t, path)
		conn, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res := supervisor(t, w.Dir, "", nil, "migrate", "-y", "--lock-timeout", "1s")
		took := time.Since(start)
		conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
		db.Close()
		line := summaryLine(res.stdout, "p")
		t.Logf("after %v: %s", took.Round(time.Millisecond), strings.Join(strings.Fields(line), " "))
		if cell, why := outcomeOf(res.stdout, "p"); res.code != 1 || cell != "failed" || !strings.Contains(why, want) {
			t.Errorf("want exit 1 and %q\n%s", want, res)
		}
		if took > 10*time.Second {
			t.Errorf("took %v with --lock-timeout 1s", took)
		}
		if v := checkWholeSQLite(t, path, slow, false); v != "001" {
			t.Errorf("at %s, want 001", v)
		}
	})

	t.Run("sqlite, another supervisor migrating", func(t *testing.T) {
		// The second supervisor either waits in its status check, which
		// reads (a writer spilling its cache holds the file exclusively),
		// and then finds nothing to do, or its worker times out on the lock.
		w := newWorkspace(t)
		path := w.addSQLite(t, "p", slow)
		a := startSupervisor(t, w.Dir, nil, "migrate", "-y")
		waitForWorkers(t, a, 1, 30*time.Second)
		if !waitForFile(path+"-journal", 10*time.Second) {
			t.Fatal("the first supervisor never started writing")
		}
		rb := supervisor(t, w.Dir, "", nil, "migrate", "-y", "--lock-timeout", "1s")
		ra := a.wait(t, time.Minute)
		if ra.code != 0 {
			t.Errorf("the first supervisor:\n%s", ra)
		}
		line := summaryLine(rb.stdout, "p")
		cell, why := outcomeOf(rb.stdout, "p")
		switch {
		case rb.code == 0:
			t.Logf("the second supervisor found nothing to do: %s", strings.Join(strings.Fields(line), " "))
		case rb.code == 1 && cell == "failed" && strings.Contains(why, want):
			t.Logf("the second supervisor timed out on the lock: %s", strings.Join(strings.Fields(line), " "))
		default:
			t.Errorf("the second supervisor: want nothing to do or %q\n%s", want, rb)
		}
		if n := ccApplied("p", ra.stderr, rb.stderr); n != 1 {
			t.Errorf("applied %d times", n)
		}
		if v := checkWholeSQLite(t, path, slow, false); v != "002" {
			t.Errorf("at %s, want 002", v)
		}
	})

	t.Run("postgres, the advisory lock held", func(t *testing.T) {
		c := pgtest.Start(t)
		w := newWorkspace(t)
		tg := w.Postgres(t, c, "pg", "pg", "001", 200, pgRole{}, ccPasswordEnv)
		env := []string{ccPasswordEnv + "=" + c.Password}
		// Another supervisor's worker, as far as the lock goes.
		_, release := holdProductLock(t, tg)
		db := openDB(t, tg)
		start := time.Now()
		res := supervisor(t, w.Dir, "", env, "migrate", "-y", "--lock-timeout", "1s")
		took := time.Since(start)
		line := summaryLine(res.stdout, "pg")
		t.Logf("after %v: %s", took.Round(time.Millisecond), strings.Join(strings.Fields(line), " "))
		if cell, why := outcomeOf(res.stdout, "pg"); res.code != 1 || cell != "failed" || !strings.Contains(why, want) {
			t.Errorf("want exit 1 and %q\n%s", want, res)
		}
		if revs := readRevisions(t, db); len(revs) != 1 {
			t.Errorf("revisions %+v, want 001 alone", revs)
		}
		release()
		if res := supervisor(t, w.Dir, "", env, "migrate", "-y", "--lock-timeout", "1s"); res.code != 0 {
			t.Errorf("once the lock is free:\n%s", res)
		}
	})
}
