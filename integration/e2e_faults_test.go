package integration

// Fault injection against the real binary: workers SIGKILLed at random
// moments of a long migration, the supervisor SIGKILLed under its workers,
// SIGINT/SIGTERM to the supervisor, --timeout, --fail-fast, and a worker run
// by hand. Shared helpers are in harness_test.go, dbcheck_test.go and
// output_test.go.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"supervisor/internal/logging"
	"supervisor/internal/status"
)

// ---------------------------------------------------------------------------
// SQLite journals.

// ftWaitJournal polls until the rollback journal of path holds at least
// size bytes, failing t after timeout.
func ftWaitJournal(t *testing.T, path string, size int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if fi, err := os.Stat(path + "-journal"); err == nil && fi.Size() >= size {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no journal of %d bytes after %v", path, size, timeout)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// ftHotJournal reports whether path has a rollback journal beside it that
// still holds content: a writer died before it was done committing or
// rolling back, which delete it (journal_mode DELETE). Whoever opens the
// database read-write next rolls it back.
func ftHotJournal(path string) bool {
	fi, err := os.Stat(path + "-journal")
	return err == nil && fi.Size() > 0
}

// ---------------------------------------------------------------------------
// Database checks.

// ftFinish runs the next `migrate -y` and checks that it brings every
// product in paths (endpoint -> SQLite file made from tp) to the latest
// version, and that status then says ok.
func ftFinish(t *testing.T, ws string, paths map[string]string, tp *sqliteTemplate) {
	t.Helper()
	r := supervisor(t, ws, "", nil, "migrate", "-y", "-j", "2")
	if r.code != 0 {
		t.Errorf("the next migrate run did not finish the job:\n%s", r)
	}
	for e, p := range paths {
		if line := summaryLine(r.stdout, e); line != "" && !strings.HasSuffix(strings.TrimSpace(line), "ok") {
			t.Errorf("%s: %s", e, line)
		}
		if v := checkWholeSQLite(t, p, tp, false); v != "002" {
			t.Errorf("%s at %s after the next run, want 002", e, v)
		}
	}
	if r := supervisor(t, ws, "", nil, "status"); r.code != 0 {
		t.Errorf("status after the next run:\n%s", r)
	}
}

// ---------------------------------------------------------------------------
// 1. A worker SIGKILLed at a random moment of a long migration.

// TestE2EWorkerKilledDuringMigration kills the worker of a SQLite product
// migrating from 001 to 002 (a rebuild of three tables) at a random moment,
// several times. Each time the supervisor must report the product failed,
// naming the signal, and exit 1 (or exit 0 if the worker was already done);
// the database must be at a whole version, intact, with every row; and one
// next `migrate -y` must bring all of them to 002.
func TestE2EWorkerKilledDuringMigration(t *testing.T) {
	tp := sqliteTemplateWith(t, slowReports)
	// The proof suite's TestProofKillMigrate kills at random too, on both
	// dialects; here a few trials by default, SUPERVISOR_FAULT_TRIALS in
	// make test-faults.
	trials := proofTrialsOr(t, 6)
	if testing.Short() {
		trials = 2
	}
	rng := seededRand(t)

	w := newWorkspace(t)
	paths := map[string]string{}
	for i := range trials {
		e := fmt.Sprintf("k%02d", i)
		paths[e] = w.addSQLite(t, e, tp)
	}
	calib := w.addSQLite(t, "calibrate", tp)

	// One clean run first, to learn how long a worker lives.
	r := startSupervisor(t, w.Dir, nil, "migrate", "-y", "-j", "1", "--product", "calibrate")
	pid := waitForWorkers(t, r, 1, 30*time.Second)[0]
	start := time.Now()
	var txStart time.Duration // when its write transaction starts writing
	for procAlive(pid) {
		if _, err := os.Stat(calib + "-journal"); err == nil && txStart == 0 {
			txStart = time.Since(start)
		}
		time.Sleep(100 * time.Microsecond)
	}
	life := time.Since(start)
	if res := r.wait(t, time.Minute); res.code != 0 {
		t.Fatalf("clean run:\n%s", res)
	}
	if v := checkWholeSQLite(t, calib, tp, false); v != "002" {
		t.Fatalf("clean run left %s", v)
	}
	t.Logf("a worker migrating %d reports lives %v, writing from %v on", slowReports, life.Round(time.Millisecond), txStart.Round(time.Millisecond))
	if txStart == 0 || txStart >= life {
		txStart = 0
	}

	var at001, at002, hot, missed int
	var runTime time.Duration
	for i := range trials {
		e := fmt.Sprintf("k%02d", i)
		path := paths[e]
		// Mostly inside the write transaction; else anywhere in the
		// worker's life, or a little past it.
		delay := time.Duration(rng.Int64N(int64(life) * 11 / 10))
		if rng.IntN(10) < 7 {
			delay = txStart + time.Duration(rng.Int64N(int64(life-txStart)))
		}
		start := time.Now()
		r := startSupervisor(t, w.Dir, nil, "migrate", "-y", "-j", "1", "--product", e)
		pid := waitForWorkers(t, r, 1, 30*time.Second)[0]
		if i == 0 {
			// Once for sure: in the middle of writing, with a hot journal
			// that whoever opens the database next must roll back.
			ftWaitJournal(t, path, 256<<10, 30*time.Second)
			delay = time.Since(start)
		} else {
			time.Sleep(delay)
		}
		syscall.Kill(pid, syscall.SIGKILL)
		// A journal with content at the moment of the kill: it hit the
		// migration's write transaction.
		inTx := ftHotJournal(path)
		res := r.wait(t, time.Minute)
		runTime += time.Since(start)
		// The supervisor's own status check after the run has rolled back
		// the journal (it must be able to read the product). Look at a copy
		// anyway: the original is for the next run.
		v := checkWholeSQLite(t, copySQLiteFiles(t, path), tp, true)
		line := summaryLine(res.stdout, e)
		if strings.Contains(res.stdout, status.FailedToConnect.Message()) {
			t.Errorf("trial %d: after its worker was killed the supervisor cannot read the product:\n%s", i, res)
		}
		switch {
		case res.code == 0:
			// The kill came after the worker had exited.
			missed++
			if v != "002" || !strings.HasSuffix(strings.TrimSpace(line), "ok") {
				t.Errorf("trial %d: exit 0 but %s, %q", i, v, line)
			}
		case res.code == 1:
			if cell, why := outcomeOf(res.stdout, e); cell != "failed" || !strings.Contains(why, "killed by signal: killed") {
				t.Errorf("trial %d: the summary does not name the signal: %q, %q\n%s", i, line, why, res)
			}
		default:
			t.Errorf("trial %d: exit %d, want 0 or 1\n%s", i, res.code, res)
		}
		if inTx {
			hot++
		}
		if v == "001" {
			at001++
		} else {
			at002++
		}
		t.Logf("trial %2d: kill %4dms after the worker started, in its write transaction: %-5v exit %d, left at %s", i, delay.Milliseconds(), inTx, res.code, v)
		if t.Failed() {
			t.Fatalf("output of the failed trial:\n%s", res)
		}
	}
	t.Logf("%d trials, %v per killed run on average: %d kills inside the write transaction; %d left at 001, %d at 002 (%d of them exited before the kill)",
		trials, (runTime / time.Duration(trials)).Round(time.Millisecond), hot, at001, at002, missed)
	start = time.Now()
	delete(paths, "calibrate")
	ftFinish(t, w.Dir, paths, tp)
	t.Logf("the next run finished all %d in %v", trials, time.Since(start).Round(time.Millisecond))
}

// ---------------------------------------------------------------------------
// 2. The supervisor SIGKILLed under its workers.

// TestE2ESupervisorKilled SIGKILLs the supervisor while two workers are in
// the middle of their migrations. Each worker must notice (its stdin, the
// parent-death pipe, reaches end of file), roll back and exit within 2 s,
// leaving its database at 001 with no journal to recover; the next run
// finishes both.
func TestE2ESupervisorKilled(t *testing.T) {
	tp := sqliteTemplateWith(t, slowReports)
	w := newWorkspace(t)
	paths := map[string]string{"a": w.addSQLite(t, "a", tp), "b": w.addSQLite(t, "b", tp)}
	r := startSupervisor(t, w.Dir, nil, "migrate", "-y", "-j", "2")
	pids := waitForWorkers(t, r, 2, 30*time.Second)
	for e, p := range paths {
		if !waitForFile(p+"-journal", 10*time.Second) {
			t.Fatalf("%s: the migration never started writing", e)
		}
	}
	// Somewhere in the rebuild, not always right at its first write.
	time.Sleep(time.Duration(rand.Int64N(int64(150 * time.Millisecond))))
	// A migration whose journal is gone by now has committed already (on a
	// fast run the sleep can outlast it); only one still writing must roll back.
	writing := map[string]bool{}
	for e, p := range paths {
		_, err := os.Stat(p + "-journal")
		writing[e] = err == nil
	}
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	r.wait(t, 10*time.Second)

	var slowest time.Duration
	for _, pid := range pids {
		for procAlive(pid) && time.Since(killed) < 5*time.Second {
			time.Sleep(time.Millisecond)
		}
		d := time.Since(killed)
		if procAlive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("worker %d still running %v after the supervisor died", pid, d.Round(time.Millisecond))
			continue
		}
		slowest = max(slowest, d)
	}
	t.Logf("workers exited %v after the supervisor was killed", slowest.Round(time.Millisecond))
	if slowest > 2500*time.Millisecond {
		t.Errorf("a worker took %v to notice its supervisor died, want < 2s", slowest.Round(time.Millisecond))
	}
	for e, p := range paths {
		if ftHotJournal(p) {
			t.Errorf("%s: the worker left a journal behind: it died instead of rolling back", e)
		}
		v := checkWholeSQLite(t, p, tp, true)
		switch {
		case writing[e] && v != "001":
			// A journal seen before the kill may belong to a COMMIT already
			// under way (its last fsyncs), which no worker can take back.
			// What the worker must not do is go on executing statements:
			// the revision row says when its last one ended.
			if end := lastStatementEnd(t, p); end.After(killed.Add(ftNoticeSlack)) {
				t.Errorf("%s at %s: the worker went on after its supervisor died (its last statement ended %v after the kill)",
					e, v, end.Sub(killed).Round(time.Millisecond))
			} else {
				t.Logf("%s was committing when the supervisor was killed: its last statement ended %v before the kill", e, killed.Sub(end).Round(time.Millisecond))
			}
		case !writing[e]:
			t.Logf("%s had committed version %s before the supervisor was killed", e, v)
		}
	}
	ftFinish(t, w.Dir, paths, tp)
}

// ftNoticeSlack is how long after its supervisor's death a worker may still
// finish a statement: it notices within tens of milliseconds (its stdin
// ends) and cancels, and then no later statement starts and the commit
// fails.
const ftNoticeSlack = 300 * time.Millisecond

// lastStatementEnd is when the newest revision of the SQLite product at
// path finished its statements (executed_at + execution_time, as atlas
// records them before the commit).
func lastStatementEnd(t *testing.T, path string) time.Time {
	t.Helper()
	db := openSQLite(t, path)
	defer db.Close()
	revs := readRevisions(t, db)
	if len(revs) == 0 {
		t.Fatalf("%s: no revisions", path)
	}
	r := revs[len(revs)-1]
	return r.at.Add(time.Duration(r.execTime))
}

// ---------------------------------------------------------------------------
// 3. SIGINT and SIGTERM to the supervisor.

// ftInterrupt starts `migrate -y -j jobs` over products, waits until the
// first jobs of them are writing, sends sigs to the supervisor (and to it
// alone: the workers have process groups of their own) and returns the
// run's result, the worker processes it ever started, and how long it took
// to exit after the first signal. A signal after the first is sent once the
// supervisor says it got the one before (the kernel merges a signal sent
// while the same one is still pending).
func ftInterrupt(t *testing.T, w *testWorkspace, paths []string, jobs int, sigs ...syscall.Signal) (result, []int, time.Duration) {
	t.Helper()
	r := startSupervisor(t, w.Dir, nil, "migrate", "-y", "-j", strconv.Itoa(jobs))
	seen := r.seenWorkers()
	waitForWorkers(t, r, jobs, 30*time.Second)
	for _, p := range paths[:jobs] {
		if !waitForFile(p+"-journal", 10*time.Second) {
			t.Fatalf("%s: the migration never started writing", p)
		}
	}
	sent := time.Now()
	for i, sig := range sigs {
		if i > 0 {
			for !strings.Contains(r.stderr.String(), "interrupted, stopping workers") {
				time.Sleep(100 * time.Microsecond)
			}
		}
		r.signal(t, sig)
	}
	res := r.wait(t, 30*time.Second)
	took := r.exited.Sub(sent)
	pids := seen()
	for _, pid := range pids {
		if procAlive(pid) {
			t.Errorf("worker %d outlived its supervisor", pid)
		}
	}
	return res, pids, took
}

// SIGINT or SIGTERM to the supervisor: the running workers roll back and
// fail naming the signal, the waiting products are not started, the exit
// code is 128+signal; a second SIGINT SIGKILLs the workers at once. Every
// database stays at 001 and the next run finishes them.
func TestE2EInterruptRollsBackAndStartsNoMore(t *testing.T) {
	tp := sqliteTemplateWith(t, slowReports)

	t.Run("SIGINT", func(t *testing.T) {
		// Four slow products, two at a time: a and b run, c and d wait.
		w := newWorkspace(t)
		eps := []string{"a", "b", "c", "d"}
		var paths []string
		all := map[string]string{}
		for _, e := range eps {
			all[e] = w.addSQLite(t, e, tp)
			paths = append(paths, all[e])
		}
		res, pids, took := ftInterrupt(t, w, paths, 2, syscall.SIGINT)
		t.Logf("the supervisor exited %v after SIGINT", took.Round(time.Millisecond))
		if res.code != 130 {
			t.Errorf("exit %d, want 130\n%s", res.code, res)
		}
		if len(pids) != 2 {
			t.Errorf("%d workers ran, want 2: no new product starts after SIGINT", len(pids))
		}
		if !strings.Contains(res.stderr, "interrupted, stopping workers") {
			t.Errorf("the supervisor does not say it was interrupted:\n%s", res.stderr)
		}
		// A worker whose last COMMIT was already running when the signal
		// came cannot stop it: its file is applied, and must be reported so.
		committed := map[string]bool{}
		for _, e := range []string{"a", "b"} {
			line := summaryLine(res.stdout, e)
			if v := checkWholeSQLite(t, all[e], tp, e == "a"); v != "001" && strings.HasSuffix(strings.TrimSpace(line), "| ok") {
				t.Logf("%s: its COMMIT was under way when the signal came: at %s and reported applied: %q", e, v, line)
				committed[e] = true
				continue
			}
			if cell, why := outcomeOf(res.stdout, e); cell != "failed" || !strings.Contains(why, "SIGTERM") {
				t.Errorf("%s: want a failure naming SIGTERM: %q, %q", e, line, why)
			}
			if !strings.Contains(res.stderr, "["+e+"] worker interrupted") {
				t.Errorf("%s: the log does not say it was interrupted:\n%s", e, res.stderr)
			}
			if ftHotJournal(all[e]) {
				t.Errorf("%s: the worker left a journal: it did not roll back", e)
			}
		}
		for _, e := range []string{"c", "d"} {
			if line := summaryLine(res.stdout, e); !strings.HasSuffix(strings.TrimSpace(line), "| skipped (interrupted)") {
				t.Errorf("%s: want 'skipped (interrupted)': %q", e, line)
			}
		}
		for e, p := range all {
			if v := checkWholeSQLite(t, p, tp, e == "a"); v != "001" && !committed[e] {
				t.Errorf("%s at %s after the interrupt, want 001 (rolled back or never started)", e, v)
			}
		}
		t.Logf("summary:\n%s", res.stdout[strings.Index(res.stdout, "Summary:"):])
		ftFinish(t, w.Dir, all, tp)
	})

	t.Run("SIGTERM", func(t *testing.T) {
		w := newWorkspace(t)
		all := map[string]string{"a": w.addSQLite(t, "a", tp), "b": w.addSQLite(t, "b", tp)}
		res, pids, took := ftInterrupt(t, w, []string{all["a"], all["b"]}, 1, syscall.SIGTERM)
		t.Logf("the supervisor exited %v after SIGTERM", took.Round(time.Millisecond))
		if res.code != 143 {
			t.Errorf("exit %d, want 143\n%s", res.code, res)
		}
		if len(pids) != 1 {
			t.Errorf("%d workers ran, want 1", len(pids))
		}
		if cell, why := outcomeOf(res.stdout, "a"); cell != "failed" || !strings.Contains(why, "SIGTERM") {
			t.Errorf("a: want a failure naming SIGTERM: %q, %q", cell, why)
		}
		if line := summaryLine(res.stdout, "b"); !strings.HasSuffix(strings.TrimSpace(line), "| skipped (interrupted)") {
			t.Errorf("b: want 'skipped (interrupted)': %q", line)
		}
		for e, p := range all {
			if ftHotJournal(p) {
				t.Errorf("%s: a journal was left behind", e)
			}
			if v := checkWholeSQLite(t, p, tp, false); v != "001" {
				t.Errorf("%s at %s, want 001", e, v)
			}
		}
		ftFinish(t, w.Dir, all, tp)
	})

	t.Run("SIGINT twice", func(t *testing.T) {
		// The second SIGINT, right behind the first, SIGKILLs the workers'
		// process groups at once. The workers may or may not be done
		// rolling back by then (it takes them a few ms): either way their
		// databases are at 001, a hot journal at worst, which the next
		// opener rolls back.
		w := newWorkspace(t)
		all := map[string]string{"a": w.addSQLite(t, "a", tp), "b": w.addSQLite(t, "b", tp)}
		res, pids, took := ftInterrupt(t, w, []string{all["a"], all["b"]}, 2, syscall.SIGINT, syscall.SIGINT)
		t.Logf("the supervisor exited %v after two SIGINTs", took.Round(time.Millisecond))
		if res.code != 130 {
			t.Errorf("exit %d, want 130\n%s", res.code, res)
		}
		if len(pids) != 2 {
			t.Errorf("%d workers ran, want 2", len(pids))
		}
		if !strings.Contains(res.stderr, "interrupted again, killing workers") {
			t.Errorf("the supervisor does not say it kills the workers:\n%s", res.stderr)
		}
		killed := 0
		for e, p := range all {
			line := summaryLine(res.stdout, e)
			cell, why := outcomeOf(res.stdout, e)
			if cell != "failed" {
				t.Errorf("%s: want a failure: %q", e, line)
			}
			if strings.Contains(why, "killed by signal: killed") {
				killed++
			}
			t.Logf("%s: %s (journal left: %v)", e, strings.Join(strings.Fields(line), " "), ftHotJournal(p))
			if v := checkWholeSQLite(t, copySQLiteFiles(t, p), tp, false); v != "001" {
				t.Errorf("%s at %s, want 001", e, v)
			}
		}
		// The workers take a few ms to roll back after SIGTERM; the SIGKILL
		// follows the second SIGINT within a millisecond or so.
		if killed == 0 {
			t.Errorf("no worker was SIGKILLed after the second SIGINT\n%s", res)
		}
		t.Logf("%d of 2 workers were SIGKILLed before they were done rolling back", killed)
		ftFinish(t, w.Dir, all, tp)
	})
}

// ---------------------------------------------------------------------------
// 5. --timeout and --fail-fast.

// ftHoldRead opens a read transaction on the SQLite file at path and keeps
// it (a SHARED lock) until the test ends or the returned function is called.
// A writer can begin meanwhile but cannot spill its cache or commit: its
// migration stalls, mid-way, with its journal written.
func ftHoldRead(t *testing.T, path string) func() {
	t.Helper()
	db := openSQLite(t, path)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow("SELECT count(*) FROM runs").Scan(&n); err != nil {
		t.Fatal(err)
	}
	release := sync.OnceFunc(func() {
		tx.Rollback()
		db.Close()
	})
	t.Cleanup(release)
	return release
}

// --timeout stops a worker whose migration cannot finish (a reader holds
// its database): it fails saying so and rolls back; the other products of
// the run are migrated.
func TestE2ETimeoutStopsStalledWorkerOthersFinish(t *testing.T) {
	slow, small := sqliteTemplateWith(t, slowReports), sqliteTemplateWith(t, 200)
	w := newWorkspace(t)
	fast := map[string]string{"a": w.addSQLite(t, "a", small), "c": w.addSQLite(t, "c", small)}
	slowPath := w.addSQLite(t, "b-slow", slow)
	// b-slow cannot finish: a reader holds its database, so the rebuild
	// stalls once it has to write the file, and --timeout stops it.
	release := ftHoldRead(t, slowPath)

	start := time.Now()
	res := supervisor(t, w.Dir, "", nil, "migrate", "-y", "-j", "3", "--timeout", "1s")
	t.Logf("run took %v", time.Since(start).Round(time.Millisecond))
	if res.code != 1 {
		t.Errorf("exit %d, want 1\n%s", res.code, res)
	}
	line := summaryLine(res.stdout, "b-slow")
	if cell, why := outcomeOf(res.stdout, "b-slow"); cell != "failed" || !strings.Contains(why, "timed out after 1s") {
		t.Errorf("b-slow: want a timeout: %q, %q\n%s", line, why, res)
	}
	t.Logf("b-slow: %s", strings.Join(strings.Fields(line), " "))
	if !strings.Contains(res.stderr, "worker timed out, sending SIGTERM") {
		t.Errorf("no SIGTERM on timeout in the log:\n%s", res.stderr)
	}
	for e, p := range fast {
		if line := summaryLine(res.stdout, e); !strings.HasSuffix(strings.TrimSpace(line), "ok") {
			t.Errorf("%s: %q", e, line)
		}
		if v := checkWholeSQLite(t, p, small, false); v != "002" {
			t.Errorf("%s at %s, want 002", e, v)
		}
	}
	release()
	if ftHotJournal(slowPath) {
		t.Errorf("b-slow: the worker left a journal: it did not roll back")
	}
	if v := checkWholeSQLite(t, slowPath, slow, true); v != "001" {
		t.Errorf("b-slow at %s, want 001", v)
	}
	ftFinish(t, w.Dir, map[string]string{"b-slow": slowPath}, slow)
}

// --fail-fast: once a product fails, the worker still running finishes and
// no other product is started; the failed migration is rolled back.
func TestE2EFailFastFinishesRunningWorkerStartsNoMore(t *testing.T) {
	slow, small := sqliteTemplateWith(t, slowReports), sqliteTemplateWith(t, 200)
	w := newWorkspace(t)
	// a-bad fails at once: a table in its way makes version 002 fail.
	bad := w.addSQLite(t, "a-bad", small)
	db := openSQLite(t, bad)
	if _, err := db.Exec("CREATE TABLE new_runs (id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	slowPath := w.addSQLite(t, "b-slow", slow)
	rest := map[string]string{"c": w.addSQLite(t, "c", small), "d": w.addSQLite(t, "d", small)}

	res := supervisor(t, w.Dir, "", nil, "--log-format", "json", "--log-level", "debug", "migrate", "-y", "-j", "2", "--fail-fast")
	// The supervisor's own account of the workers it started, one line each.
	if got, want := ftWorkerStarts(t, res.stderr), map[string]int{"a-bad": 1, "b-slow": 1}; !maps.Equal(got, want) {
		t.Errorf("workers started per product: %v, want %v (a-bad and b-slow, nothing after a-bad failed)\n%s", got, want, res)
	}
	if res.code != 1 {
		t.Errorf("exit %d, want 1\n%s", res.code, res)
	}
	if cell, why := outcomeOf(res.stdout, "a-bad"); cell != "failed" || !strings.Contains(why, "new_runs") {
		t.Errorf("a-bad: %q, %q", cell, why)
	}
	// The status table after the run says so in CodeChecker's words.
	if tables := tablesOf(res.stdout); len(tables) < 2 {
		t.Errorf("want the status table before and after the run\n%s", res)
	} else if row := byEndpoint(t, tables[1])["a-bad"]; len(row) < 2 || row[1] != "Schema upgrade failed." {
		t.Errorf("a-bad after the run: %q, want \"Schema upgrade failed.\"", row)
	}
	// b-slow was running when a-bad failed: it finishes.
	if line := summaryLine(res.stdout, "b-slow"); !strings.HasSuffix(strings.TrimSpace(line), "ok") {
		t.Errorf("b-slow: %q\n%s", line, res)
	}
	if v := checkWholeSQLite(t, slowPath, slow, false); v != "002" {
		t.Errorf("b-slow at %s, want 002", v)
	}
	for e, p := range rest {
		if line := summaryLine(res.stdout, e); !strings.HasSuffix(strings.TrimSpace(line), "| skipped (fail-fast)") {
			t.Errorf("%s: %q, want skipped (fail-fast)", e, line)
		}
		if v := checkWholeSQLite(t, p, small, false); v != "001" {
			t.Errorf("%s at %s, want 001 (never started)", e, v)
		}
	}
	db = openSQLite(t, bad)
	defer db.Close()
	if revs := readRevisions(t, db); len(revs) != 1 || revs[0].version != "001" {
		t.Errorf("a-bad: revisions %+v, want 001 alone", revs)
	}
	if hasColumn(t, db, "reports", "checker_cat_UNUSED") == false {
		t.Errorf("a-bad: the failed 002 was not rolled back")
	}
}

// ftWorkerStarts counts, per endpoint, the "worker started" lines the
// supervisor logs (at debug level) as it starts each worker, in the JSON log
// stderr holds (--log-format json). Unlike watching /proc, it misses no
// worker however short-lived.
func ftWorkerStarts(t *testing.T, stderr string) map[string]int {
	t.Helper()
	starts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("stderr line is not JSON (%v): %q", err, line)
		}
		if m["@message"] == "worker started" {
			endpoint, _ := m[logging.EndpointKey].(string)
			starts[endpoint]++
		}
	}
	return starts
}

// ---------------------------------------------------------------------------
// 6. A worker run by hand.

var (
	workerBinOnce sync.Once
	workerBin     string
	workerBinErr  error
)

// ftWorkerBin builds cmd/worker beside the supervisor binary, once.
func ftWorkerBin(t *testing.T) string {
	t.Helper()
	workerBinOnce.Do(func() {
		workerBin = filepath.Join(filepath.Dir(supervisorBin), "worker")
		build := exec.Command("go", "build", "-o", workerBin, "../cmd/worker")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			workerBinErr = fmt.Errorf("build worker: %v\n%s", err, out)
		}
	})
	if workerBinErr != nil {
		t.Fatal(workerBinErr)
	}
	return workerBin
}

// The worker run by hand (the supervisor binary with SUPERVISOR_WORKER=1,
// or cmd/worker): with no spec it says what it is, with a bad one it says
// so, exit 2 both; with a real job spec on stdin it runs it.
func TestE2EWorkerRunByHandExplainsItselfOrRunsTheJob(t *testing.T) {
	run := func(t *testing.T, bin string, env []string, stdin *os.File, input string) result {
		t.Helper()
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), env...)
		if stdin != nil {
			cmd.Stdin = stdin
		} else {
			cmd.Stdin = strings.NewReader(input)
		}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		r := result{stdout: out.String(), stderr: errb.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return r
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	bins := map[string]struct {
		bin string
		env []string
	}{
		"supervisor with SUPERVISOR_WORKER=1": {supervisorBin, []string{"SUPERVISOR_WORKER=1"}},
		"cmd/worker":                          {ftWorkerBin(t), nil},
	}
	for name, b := range bins {
		t.Run(name, func(t *testing.T) {
			for _, in := range []struct {
				name  string
				file  *os.File
				input string
			}{{"/dev/null", devNull, ""}, {"empty pipe", nil, ""}} {
				r := run(t, b.bin, b.env, in.file, in.input)
				if r.code != 2 || !strings.Contains(r.stderr, "This program is a supervisor worker") || r.stdout != "" {
					t.Errorf("stdin %s: want exit 2 and a word on what it is\n%s", in.name, r)
				}
			}
			r := run(t, b.bin, b.env, nil, "{not json")
			if r.code != 2 || !strings.Contains(r.stderr, "bad job spec") {
				t.Errorf("garbage spec: want exit 2 and 'bad job spec'\n%s", r)
			}
			// A real job by hand: the result comes on stdout.
			tp := sqliteTemplateWith(t, 200)
			path := filepath.Join(t.TempDir(), "p.sqlite")
			tp.copyTo(t, path)
			spec := fmt.Sprintf(`{"action":"migrate","endpoint":"p","target":{"dialect":"sqlite","path":%q}}`, path)
			r = run(t, b.bin, b.env, nil, spec)
			if r.code != 0 || !strings.Contains(r.stdout, `"ok":true`) || !strings.Contains(r.stdout, `"to_version":"002"`) {
				t.Errorf("a job by hand:\n%s", r)
			}
			if v := checkWholeSQLite(t, path, tp, false); v != "002" {
				t.Errorf("by hand: at %s, want 002", v)
			}
		})
	}
}
