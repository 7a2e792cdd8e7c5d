package integration

// PostgreSQL faults under a worker's statement: a table lock another
// session holds (a leftover backend of a killed worker, a long
// transaction), a worker killed in CREATE INDEX, the server stopped with
// pg_ctl stop -m immediate. A worker's session has lock_timeout (from
// --lock-timeout) and client_connection_check_interval set, and logs a lock
// wait when it starts; a lost session is told as such.

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"supervisor/integration/fleet"
	"supervisor/integration/workspace"
	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
)

// pgfLockWaitLog is the worker's log line when a statement starts waiting.
const pgfLockWaitLog = "waiting for a lock held by another session"

// pgfLockReason is the reason a statement gave up waiting with.
const pgfLockReason = "timed out waiting for a lock held by another session (lock timeout 1s)"

// pgfBulkLinks adds n rows to report_analysis_info of tg, the table
// version 002's first CREATE INDEX is on, so that building that index
// takes a few seconds. The rows point nowhere (the foreign key triggers are
// off for the load): only the index build is of interest here.
func pgfBulkLinks(t *testing.T, tg dbconn.Target, n int) {
	t.Helper()
	db := openDB(t, tg)
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	for _, q := range []string{
		"SET session_replication_role = replica",
		fmt.Sprintf("INSERT INTO report_analysis_info (report_id, analysis_info_id) SELECT g + 1000000000, (g %% 50000)::int FROM generate_series(1, %d) g", n),
		"ANALYZE report_analysis_info",
	} {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Logf("loaded %d rows into report_analysis_info in %v", n, time.Since(start).Round(time.Millisecond))
}

// pgfIndexBuilder returns the pid of a supervisor worker's backend on
// database name running CREATE INDEX, 0 if there is none.
func pgfIndexBuilder(t *testing.T, db *sql.DB, name string) int {
	t.Helper()
	var pid int
	err := db.QueryRow(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'supervisor'
		AND state = 'active' AND query LIKE 'CREATE INDEX%' LIMIT 1`, name).Scan(&pid)
	if err == sql.ErrNoRows {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// pgfWaitIndexBuilder waits until a worker of r builds an index on
// database name and returns its backend pid.
func pgfWaitIndexBuilder(t *testing.T, r *running, db *sql.DB, name string) int {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if pid := pgfIndexBuilder(t, db, name); pid != 0 {
			return pid
		}
		select {
		case <-r.done:
			t.Fatalf("the run ended before a worker built an index\n%s", r.res)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no worker built an index on %s within 2m", name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pgfObserveLockWaits polls, from a session of its own, for the backends of
// supervisor workers on database name that wait for a lock, until stop is
// called; stop returns the longest wait it saw one backend in, without a
// break (as far as polls every 50ms tell).
func pgfObserveLockWaits(t *testing.T, tg dbconn.Target) (stop func() time.Duration) {
	t.Helper()
	db := openDB(t, tg)
	done := make(chan struct{})
	out := make(chan time.Duration, 1)
	go func() {
		defer db.Close()
		since := map[int]time.Time{}
		var longest time.Duration
		for {
			select {
			case <-done:
				out <- longest
				return
			case <-time.After(50 * time.Millisecond):
			}
			rows, err := db.Query("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'supervisor' AND wait_event_type = 'Lock'", tg.Database)
			if err != nil {
				continue
			}
			now := time.Now()
			seen := map[int]bool{}
			for rows.Next() {
				var pid int
				if rows.Scan(&pid) == nil {
					seen[pid] = true
					if _, ok := since[pid]; !ok {
						since[pid] = now
					}
					longest = max(longest, now.Sub(since[pid]))
				}
			}
			rows.Close()
			for pid := range since {
				if !seen[pid] {
					delete(since, pid)
				}
			}
		}
	}()
	return func() time.Duration {
		close(done)
		return <-out
	}
}

// pgfBackendGone waits, up to timeout, for backend pid to end.
func pgfBackendGone(t *testing.T, db *sql.DB, pid int, timeout time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// pgfVersion is the product's latest recorded version and its invalid
// indexes (a CREATE INDEX cut short must leave none).
func pgfVersion(t *testing.T, db *sql.DB) (version string, invalid []string) {
	t.Helper()
	if err := db.QueryRow("SELECT coalesce(max(version), '') FROM atlas_schema_revisions WHERE applied = total AND coalesce(error, '') = ''").Scan(&version); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		invalid = append(invalid, n)
	}
	return version, invalid
}

// pgfSummaryCells is endpoint's summary row, cell by cell.
func pgfSummaryCells(t *testing.T, stdout, endpoint string) []string {
	t.Helper()
	line := summaryLine(stdout, endpoint)
	var cells []string
	for _, c := range strings.Split(line, "|") {
		cells = append(cells, strings.TrimSpace(c))
	}
	if len(cells) < 6 {
		t.Fatalf("summary row of %s = %q\n%s", endpoint, line, stdout)
	}
	return cells
}

// A migration statement behind a table lock another session holds (here a
// test session in a transaction, as a leftover backend of a killed worker
// would) is logged when its wait starts, with the holder, and fails when
// --lock-timeout passes, with the lock reason; the database stays at 001.
// Before, only the advisory lock was bounded: the worker waited, silently,
// as long as the other session kept the lock.
func TestE2ETableLockOfAnotherSessionFailsAtLockTimeout(t *testing.T) {
	c := pgtest.Start(t)
	w := newWorkspace(t)
	tg := w.Postgres(t, c, "pg", "pg", "001", 200, pgRole{}, ccPasswordEnv)
	env := []string{ccPasswordEnv + "=" + c.Password}
	db := openDB(t, tg)
	defer db.Close()
	holder, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	var holderPID int
	if err := holder.QueryRowContext(context.Background(), "SELECT pg_backend_pid()").Scan(&holderPID); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.ExecContext(context.Background(), "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.ExecContext(context.Background(), "LOCK TABLE report_analysis_info IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := startSupervisor(t, w.Dir, env, "migrate", "-y", "--lock-timeout", "1s")
	res := r.wait(t, 2*time.Minute)
	took := time.Since(start)
	cells := pgfSummaryCells(t, res.stdout, "pg")
	t.Logf("after %v: %s", took.Round(time.Millisecond), strings.Join(cells, " | "))
	_, why := outcomeOf(res.stdout, "pg")
	if res.code != 1 || cells[5] != "failed" || !strings.Contains(why, pgfLockReason) || !strings.Contains(why, "version 002") {
		t.Errorf("want exit 1 and a reason with version 002 and %q\n%s", pgfLockReason, res)
	}
	if took > 40*time.Second {
		t.Errorf("the run took %v with --lock-timeout 1s, want it well before 40s", took)
	}
	waitLine := regexp.MustCompile(`(?m)^.*` + pgfLockWaitLog + `.*$`).FindString(res.stderr)
	t.Logf("log: %s", waitLine)
	if waitLine == "" || !strings.Contains(waitLine, fmt.Sprintf("pid %d", holderPID)) {
		t.Errorf("want a log line %q naming the holder, pid %d; got %q\n%s", pgfLockWaitLog, holderPID, waitLine, res)
	}
	if cells[1] != "001" || cells[2] != "001" {
		t.Errorf("summary From/To = %s/%s, want 001/001", cells[1], cells[2])
	}
	holder.ExecContext(context.Background(), "ROLLBACK")
	if v, invalid := pgfVersion(t, db); v != "001" || len(invalid) > 0 {
		t.Errorf("after the failed run: at %q, invalid indexes %q; want 001 and none", v, invalid)
	}
	if res := supervisor(t, w.Dir, "", env, "migrate", "-y", "--lock-timeout", "1s"); res.code != 0 {
		t.Errorf("once the lock is free:\n%s", res)
	}
}

// A worker SIGKILLed in CREATE INDEX: its backend stops building the index
// soon after (client_connection_check_interval), instead of holding its
// locks until the build ends, and a re-run started at once with
// --lock-timeout 1s either completes or fails with the lock reason, having
// said it waits, well within the limit plus a margin; never waits silently.
// The killed run's summary shows the versions the status table shows
// (001 to 001), not "-".
func TestE2EWorkerKilledInCreateIndexRerunHonoursLockTimeout(t *testing.T) {
	c := pgtest.Start(t)
	w := newWorkspace(t)
	tg := w.Postgres(t, c, "big", "big", "001", 200, pgRole{}, ccPasswordEnv)
	pgfBulkLinks(t, tg, 3_000_000)
	env := []string{ccPasswordEnv + "=" + c.Password}
	db := openDB(t, tg)
	defer db.Close()

	first := startSupervisor(t, w.Dir, env, "migrate", "-y")
	workers := waitForWorkers(t, first, 1, time.Minute)
	backend := pgfWaitIndexBuilder(t, first, db, "big")
	// Into the build.
	time.Sleep(200 * time.Millisecond)
	for _, pid := range workers {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	killed := time.Now()
	start := time.Now()
	observe := pgfObserveLockWaits(t, tg)
	rerun := startSupervisor(t, w.Dir, env, "migrate", "-y", "--lock-timeout", "1s")
	res := rerun.wait(t, 2*time.Minute)
	took := time.Since(start)
	longestWait := observe()
	firstRes := first.wait(t, 2*time.Minute)

	if !pgfBackendGone(t, db, backend, time.Minute) {
		t.Errorf("the killed worker's backend %d still runs a minute after the kill", backend)
	}
	t.Logf("the killed worker's backend is gone %v after the kill", time.Since(killed).Round(time.Millisecond))
	if firstRes.code != 1 {
		t.Errorf("the killed run: exit %d, want 1\n%s", firstRes.code, firstRes)
	}
	if cells := pgfSummaryCells(t, firstRes.stdout, "big"); cells[1] != "001" || cells[2] != "001" {
		t.Errorf("the killed run's summary From/To = %s/%s, want 001/001 (as its status table)\n%s", cells[1], cells[2], firstRes.stdout)
	}

	cells := pgfSummaryCells(t, res.stdout, "big")
	t.Logf("the re-run, after %v: exit %d, %s", took.Round(time.Millisecond), res.code, strings.Join(cells, " | "))
	waited := strings.Contains(res.stderr, pgfLockWaitLog)
	t.Logf("the re-run's longest lock wait seen from the outside: %v; logged a wait: %v", longestWait.Round(time.Millisecond), waited)
	// A wait this long spans several polls of the worker's lock watch
	// (dbconn.LockWatchInterval): it must have been told.
	if longestWait >= 800*time.Millisecond && !waited {
		t.Errorf("the re-run waited %v for a lock without a log line %q\n%s", longestWait.Round(time.Millisecond), pgfLockWaitLog, res)
	}
	switch res.code {
	case 0:
		t.Log("the re-run completed")
	case 1:
		if _, why := outcomeOf(res.stdout, "pg"); cells[5] != "failed" || !strings.Contains(why, pgfLockReason) || !waited {
			t.Errorf("the re-run failed: want the reason %q and the log line %q\n%s", pgfLockReason, pgfLockWaitLog, res)
		}
	default:
		t.Errorf("the re-run: exit %d, want 0 or 1\n%s", res.code, res)
	}
	if took > 40*time.Second {
		t.Errorf("the re-run took %v with --lock-timeout 1s, want it well before 40s", took)
	}
	want := "001"
	if res.code == 0 {
		want = "002"
	}
	if v, invalid := pgfVersion(t, db); v != want || len(invalid) > 0 {
		t.Errorf("after the re-run: at %q, invalid indexes %q; want %s and none", v, invalid, want)
	}
	if res := supervisor(t, w.Dir, "", env, "migrate", "-y"); res.code != 0 {
		t.Errorf("the next run:\n%s", res)
	}
	if v, invalid := pgfVersion(t, db); v != "002" || len(invalid) > 0 {
		t.Errorf("after the next run: at %q, invalid indexes %q; want 002 and none", v, invalid)
	}
}

// pg_ctl stop -m immediate while a worker builds an index: the reason says
// the server shut down (or closed the connection) during version 002, with
// the statement that ran, not database/sql's "driver: bad connection"; the
// database stays at 001 and the run after the restart completes.
func TestE2EServerStopImmediateInCreateIndexSaysShutDown(t *testing.T) {
	s := proofStartPGServer(t)
	ctx := context.Background()
	if err := workspace.CreatePostgresDatabase(ctx, s.target("postgres"), "big", false); err != nil {
		t.Fatal(err)
	}
	tg := s.target("big")
	if _, err := workspace.MakeProduct(ctx, tg, "001", fleet.Options{Reports: 200, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	pgfBulkLinks(t, tg, 3_000_000)
	w := newWorkspace(t)
	w.add(t, "big", tg, ccPasswordEnv)
	env := []string{ccPasswordEnv + "=" + s.password}

	watch := openDB(t, tg)
	r := startSupervisor(t, w.Dir, env, "migrate", "-y")
	pgfWaitIndexBuilder(t, r, watch, "big")
	watch.Close()
	time.Sleep(200 * time.Millisecond)
	s.stop(t, "immediate")
	res := r.wait(t, 2*time.Minute)
	s.start(t)
	reason := proofOneLineReason(t, res, "big")
	t.Logf("reason: %s", reason)
	lost := regexp.MustCompile(`the PostgreSQL server (shut down|closed the connection) during version 002 \([^)]*\): statement CREATE INDEX`)
	if !lost.MatchString(reason) || strings.Contains(reason, "bad connection") {
		t.Errorf("reason %q: want it to match %q, without \"bad connection\"\n%s", reason, lost, res)
	}
	db := openDB(t, tg)
	defer db.Close()
	if v, invalid := pgfVersion(t, db); v != "001" || len(invalid) > 0 {
		t.Errorf("after the stop: at %q, invalid indexes %q; want 001 and none", v, invalid)
	}
	if res := supervisor(t, w.Dir, "", env, "migrate", "-y"); res.code != 0 {
		t.Errorf("the run after the restart:\n%s", res)
	}
}
