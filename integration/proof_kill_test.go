package integration

// Proof suite, kills: workers SIGKILLed at random moments of `migrate` and of
// `cleanup` on both dialects, the supervisor SIGKILLed under its workers,
// and SIGINT while a worker is stopped (SIGSTOP). After each kill every
// database must be at a whole version, each cleanup routine all or nothing,
// nothing lost or broken, and the next run must complete.
//
// TestE2EWorkerKilledDuringMigration and TestE2ESupervisorKilled
// (e2e_faults_test.go) check the same on SQLite a fixed number of times,
// with more detail on what the supervisor reports; these run the trial count
// of SUPERVISOR_FAULT_TRIALS on both dialects and add cleanup.

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"supervisor/integration/fleet"
	"supervisor/integration/workspace"
	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
	"supervisor/internal/testutil"
)

// proofKillReports sizes the products of the kill scenarios: big enough that
// a SQLite 001 -> 002 rebuild or a cleanup lasts long enough for a random
// kill to land inside its transactions. The migrate scenario shares the
// SQLite template of dbcheck_test.go (sqliteTemplateWith).
const proofKillReports = slowReports

// proofCalibrate runs args once, cleanly, and returns how long its worker
// lived, so that the kills can be spread over a worker's whole life.
func proofCalibrate(t *testing.T, ws string, env []string, args ...string) time.Duration {
	t.Helper()
	r := startSupervisor(t, ws, env, args...)
	pid := waitForWorkers(t, r, 1, 30*time.Second)[0]
	start := time.Now()
	for procAlive(pid) {
		time.Sleep(200 * time.Microsecond)
	}
	life := time.Since(start)
	if res := r.wait(t, 2*time.Minute); res.code != 0 {
		t.Fatalf("clean calibration run %q:\n%s", args, res)
	}
	t.Logf("a clean worker of %q lives %v", args, life.Round(time.Millisecond))
	return life
}

// proofKillWorker starts args (one product, -j 1), SIGKILLs its worker after
// delay and returns the run's result; it checks what the supervisor said:
// exit 1 naming the signal, or exit 0 if the worker was done before the kill.
func proofKillWorker(pt *proofTrial, ws string, env []string, endpoint string, delay time.Duration, args ...string) result {
	pt.Helper()
	r := startSupervisor(pt.T, ws, env, args...)
	pid := waitForWorkers(pt.T, r, 1, 30*time.Second)[0]
	time.Sleep(delay)
	syscall.Kill(pid, syscall.SIGKILL)
	res := r.wait(pt.T, 2*time.Minute)
	line := lastRow(res.stdout, endpoint)
	switch res.code {
	case 0:
		pt.Logf("kill %v after the worker started: it had finished", delay.Round(time.Millisecond))
	case 1:
		if cell, why := outcomeOf(res.stdout, endpoint); cell != "failed" || !strings.Contains(why, "killed by signal: killed") {
			pt.Errorf("the summary does not name the signal: %q, %q\n%s", line, why, res)
		}
	default:
		pt.Errorf("exit %d, want 0 or 1\n%s", res.code, res)
	}
	return res
}

// data runs checks of the database: a failure inside counts as data lost.
func (pt *proofTrial) data(fn func()) {
	pt.Helper()
	failed := pt.Failed()
	defer func() {
		if !failed && pt.Failed() {
			pt.lostData = true
		}
	}()
	fn()
}

func TestProofKillMigrate(t *testing.T) {
	trials := proofTrials(t)

	t.Run("sqlite", func(t *testing.T) {
		p := proofScenario(t, "kill-worker-migrate-sqlite")
		tp := sqliteTemplateWith(t, proofKillReports)
		w := newWorkspace(t)
		w.addSQLite(t, "calibrate", tp)
		life := proofCalibrate(t, w.Dir, nil, "migrate", "-y", "-j", "1", "--product", "calibrate")
		rng := seededRand(t)
		for i := range trials {
			e := fmt.Sprintf("k%03d", i)
			path := w.addSQLite(t, e, tp)
			delay := time.Duration(rng.Int64N(int64(life) * 11 / 10))
			p.trial(t, e, func(pt *proofTrial) {
				res := proofKillWorker(pt, w.Dir, nil, e, delay, "migrate", "-y", "-j", "1", "--product", e)
				if strings.Contains(res.stdout, "Connection failed to the database server.") {
					pt.Errorf("after its worker was killed the supervisor cannot read the product:\n%s", res)
				}
				var v string
				pt.data(func() { v = checkWholeSQLite(pt.T, copySQLiteFiles(pt.T, path), tp, i%10 == 0) })
				pt.Logf("killed %v into the worker's life: left at %s", delay.Round(time.Millisecond), v)
				// The next run completes.
				if r := supervisor(pt.T, w.Dir, "", nil, "migrate", "-y", "--product", e); r.code != 0 {
					pt.Errorf("the next run:\n%s", r)
				}
				pt.data(func() {
					if v := checkWholeSQLite(pt.T, path, tp, false); v != "002" {
						pt.Errorf("at %s after the next run, want 002", v)
					}
				})
			})
			os.Remove(path)
		}
	})

	t.Run("postgres", func(t *testing.T) {
		p := proofScenario(t, "kill-worker-migrate-postgres")
		c := pgtest.Start(t)
		w := newWorkspace(t)
		env := []string{ccPasswordEnv + "=" + c.Password}
		tmpl := proofPGTemplate(t, c, "tmpl", "001", fleet.Options{Reports: proofKillReports, Seed: 5})
		counts := rowCounts(t, tmpl)
		proofPGFromTemplate(t, c, w, "calibrate", "tmpl")
		life := proofCalibrate(t, w.Dir, env, "migrate", "-y", "-j", "1", "--product", "calibrate")
		rng := seededRand(t)
		for i := range trials {
			e := fmt.Sprintf("k%03d", i)
			tg := proofPGFromTemplate(t, c, w, e, "tmpl")
			delay := time.Duration(rng.Int64N(int64(life) * 11 / 10))
			p.trial(t, e, func(pt *proofTrial) {
				proofKillWorker(pt, w.Dir, env, e, delay, "migrate", "-y", "-j", "1", "--product", e)
				db := openDB(pt.T, tg)
				defer db.Close()
				var v string
				pt.data(func() { v = proofPGCheckWhole(pt, db, e, counts) })
				pt.Logf("killed %v into the worker's life: left at %s", delay.Round(time.Millisecond), v)
				if r := supervisor(pt.T, w.Dir, "", env, "migrate", "-y", "--product", e); r.code != 0 {
					pt.Errorf("the next run:\n%s", r)
				}
				pt.data(func() {
					if v := proofPGCheckWhole(pt, db, e, counts); v != "002" {
						pt.Errorf("at %s after the next run, want 002", v)
					}
				})
			})
			c.Exec(t, "postgres", fmt.Sprintf("DROP DATABASE %q WITH (FORCE)", e))
		}
	})
}

// proofPGTemplate makes database name on c at version with generated
// content, to copy products from (CREATE DATABASE ... TEMPLATE).
func proofPGTemplate(t *testing.T, c *pgtest.Cluster, name, version string, opts fleet.Options) dbconn.Target {
	t.Helper()
	c.CreateDatabase(t, name)
	tg := dbconn.Target{Dialect: "postgres", Host: c.Host, Port: c.Port, User: c.User, Database: name, Password: c.Password}
	if _, err := workspace.MakeProduct(context.Background(), tg, version, opts); err != nil {
		t.Fatalf("make %s: %v", name, err)
	}
	return tg
}

// proofPGFromTemplate creates database name as a copy of template and
// registers it as product name.
func proofPGFromTemplate(t *testing.T, c *pgtest.Cluster, w *testWorkspace, name, template string) dbconn.Target {
	t.Helper()
	c.Exec(t, "postgres", fmt.Sprintf("CREATE DATABASE %q TEMPLATE %q", name, template))
	tg := dbconn.Target{Dialect: "postgres", Host: c.Host, Port: c.Port, User: c.User, Database: name, Password: c.Password}
	w.add(t, name, tg, ccPasswordEnv)
	return tg
}

// ---------------------------------------------------------------------------
// Cleanup.

// proofCleanupTemplate is a SQLite product at the latest version with
// garbage, and what a clean `cleanup` leaves of it.
type proofCleanupTemplate struct {
	path          string
	before, after map[string]int64
}

var (
	proofCleanupMu        sync.Mutex
	proofCleanupTemplates = map[string]*proofCleanupTemplate{}
)

// proofSQLiteCleanupTemplate makes (once per test binary) the cleanup
// template called name: "generated" (fleet content, 30% garbage) or
// "sample" (CodeChecker's product-sample.sqlite, migrated).
func proofSQLiteCleanupTemplate(t *testing.T, name string) *proofCleanupTemplate {
	t.Helper()
	proofCleanupMu.Lock()
	defer proofCleanupMu.Unlock()
	if ct := proofCleanupTemplates[name]; ct != nil {
		return ct
	}
	w := newWorkspace(t)
	ct := &proofCleanupTemplate{path: filepath.Join(filepath.Dir(supervisorBin), "proof-cleanup-"+name+".sqlite")}
	os.Remove(ct.path)
	switch name {
	case "generated":
		if _, err := workspace.MakeProduct(context.Background(), sqliteTarget(ct.path), "latest",
			fleet.Options{Reports: proofKillReports, Garbage: 0.3, Seed: 11}); err != nil {
			t.Fatal(err)
		}
	case "sample":
		copyFixture(t, "product-sample.sqlite", ct.path)
		w.add(t, "tmpl", sqliteTarget(ct.path), "")
		if r := supervisor(t, w.Dir, "", nil, "migrate", "-y", "--product", "tmpl"); r.code != 0 {
			t.Fatalf("migrate the sample:\n%s", r)
		}
	default:
		t.Fatalf("no cleanup template %q", name)
	}
	db := openSQLite(t, ct.path)
	ct.before = proofSnapshot(t, db, "sqlite")
	db.Close()
	ref := filepath.Join(w.Dir, "ref.sqlite")
	if err := fleet.CopySQLite(ct.path, ref); err != nil {
		t.Fatal(err)
	}
	w.add(t, "ref", sqliteTarget(ref), "")
	if r := supervisor(t, w.Dir, "", nil, "cleanup", "--product", "ref", "--checker-labels", testutil.LabelsDir); r.code != 0 {
		t.Fatalf("clean cleanup run:\n%s", r)
	}
	db = openSQLite(t, ref)
	ct.after = proofSnapshot(t, db, "sqlite")
	db.Close()
	proofCheckCleanupTemplate(t, name, ct.before, ct.after)
	proofCleanupTemplates[name] = ct
	return ct
}

// proofCheckCleanupTemplate makes sure a clean cleanup changed only the
// tables of its routines (else the all-or-nothing check would be wrong),
// and, for generated content, that it had garbage to remove in every
// deleting routine (else the kills would test nothing).
func proofCheckCleanupTemplate(t *testing.T, name string, before, after map[string]int64) {
	t.Helper()
	grouped := map[string]bool{}
	for _, g := range proofCleanupGroups {
		changed := false
		for _, tb := range g.tables {
			grouped[tb] = true
			changed = changed || before[tb] != after[tb]
		}
		if !changed && name == "generated" && g.routine != "severities" {
			t.Fatalf("%s: a clean cleanup leaves %v as they were: no garbage for routine %s", name, g.tables, g.routine)
		}
	}
	for tb, n := range before {
		if !grouped[tb] && after[tb] != n {
			t.Fatalf("%s: a clean cleanup changes table %s (%d -> %d), which proofCleanupGroups does not list", name, tb, n, after[tb])
		}
	}
	t.Logf("%s: cleanup before %v, after %v", name, before, after)
}

func TestProofKillCleanup(t *testing.T) {
	trials := proofTrials(t)
	labelsArg := []string{"--checker-labels", testutil.LabelsDir}

	for _, name := range []string{"generated", "sample"} {
		t.Run("sqlite "+name, func(t *testing.T) {
			p := proofScenario(t, "kill-worker-cleanup-sqlite-"+name)
			ct := proofSQLiteCleanupTemplate(t, name)
			w := newWorkspace(t)
			add := func(e string) string {
				path := filepath.Join(w.Dir, e+".sqlite")
				if err := fleet.CopySQLite(ct.path, path); err != nil {
					t.Fatal(err)
				}
				w.add(t, e, sqliteTarget(path), "")
				return path
			}
			add("calibrate")
			life := proofCalibrate(t, w.Dir, nil, append([]string{"cleanup", "-j", "1", "--product", "calibrate"}, labelsArg...)...)
			rng := seededRand(t)
			done := map[int]int{}
			for i := range trials {
				e := fmt.Sprintf("c%03d", i)
				path := add(e)
				delay := time.Duration(rng.Int64N(int64(life) * 11 / 10))
				p.trial(t, e, func(pt *proofTrial) {
					proofKillWorker(pt, w.Dir, nil, e, delay, append([]string{"cleanup", "-j", "1", "--product", e}, labelsArg...)...)
					pt.data(func() {
						db := openSQLite(pt.T, copySQLiteFiles(pt.T, path))
						defer db.Close()
						proofSQLiteIntact(pt, db, e)
						if v := proofRevisionsVersion(pt, db, e); v != "002" {
							pt.lost("at %s after a killed cleanup, want 002", v)
						}
						n := proofCheckCleanupState(pt, proofSnapshot(pt.T, db, "sqlite"), ct.before, ct.after)
						done[n]++
						pt.Logf("killed %v into the worker's life: %d routines had committed", delay.Round(time.Millisecond), n)
					})
					if r := supervisor(pt.T, w.Dir, "", nil, append([]string{"cleanup", "--product", e}, labelsArg...)...); r.code != 0 {
						pt.Errorf("the next run:\n%s", r)
					}
					pt.data(func() {
						db := openSQLite(pt.T, path)
						defer db.Close()
						proofSQLiteIntact(pt, db, e)
						if got := proofSnapshot(pt.T, db, "sqlite"); !maps.Equal(got, ct.after) {
							pt.lost("after the next run: %v, want %v", got, ct.after)
						}
					})
				})
				os.Remove(path)
			}
			t.Logf("routines committed at the kill -> trials: %v", done)
		})
	}

	t.Run("postgres", func(t *testing.T) {
		p := proofScenario(t, "kill-worker-cleanup-postgres")
		c := pgtest.Start(t)
		w := newWorkspace(t)
		env := []string{ccPasswordEnv + "=" + c.Password}
		proofPGTemplate(t, c, "ctmpl", "latest", fleet.Options{Reports: proofKillReports, Garbage: 0.3, Seed: 13})
		snap := func(t *testing.T, tg dbconn.Target) map[string]int64 {
			db := openDB(t, tg)
			defer db.Close()
			return proofSnapshot(t, db, "postgres")
		}
		ref := proofPGFromTemplate(t, c, w, "ref", "ctmpl")
		before := snap(t, ref)
		if r := supervisor(t, w.Dir, "", env, append([]string{"cleanup", "--product", "ref"}, labelsArg...)...); r.code != 0 {
			t.Fatalf("clean cleanup run:\n%s", r)
		}
		after := snap(t, ref)
		proofCheckCleanupTemplate(t, "generated", before, after)
		life := proofCalibrate(t, w.Dir, env, append([]string{"cleanup", "-j", "1", "--product", "ref"}, labelsArg...)...)
		// That was a run with nothing to remove: a real one lasts longer.
		proofPGFromTemplate(t, c, w, "calibrate", "ctmpl")
		life = max(life, proofCalibrate(t, w.Dir, env, append([]string{"cleanup", "-j", "1", "--product", "calibrate"}, labelsArg...)...))
		rng := seededRand(t)
		done := map[int]int{}
		for i := range trials {
			e := fmt.Sprintf("c%03d", i)
			tg := proofPGFromTemplate(t, c, w, e, "ctmpl")
			delay := time.Duration(rng.Int64N(int64(life) * 11 / 10))
			p.trial(t, e, func(pt *proofTrial) {
				proofKillWorker(pt, w.Dir, env, e, delay, append([]string{"cleanup", "-j", "1", "--product", e}, labelsArg...)...)
				db := openDB(pt.T, tg)
				defer db.Close()
				pt.data(func() {
					if v := proofRevisionsVersion(pt, db, e); v != "002" {
						pt.lost("at %s after a killed cleanup, want 002", v)
					}
					// The killed worker's session may still be rolling back:
					// its locks go with it; the check reads committed data only.
					proofPGIntact(pt, db, e)
					n := proofCheckCleanupState(pt, proofSnapshot(pt.T, db, "postgres"), before, after)
					done[n]++
					pt.Logf("killed %v into the worker's life: %d routines had committed", delay.Round(time.Millisecond), n)
					// No index a routine builds for itself outlives it.
					if got, want := pgIndexes(pt.T, db), pgIndexes(pt.T, openDB(pt.T, ref)); strings.Join(got, ",") != strings.Join(want, ",") {
						pt.lost("indexes %v, want %v", got, want)
					}
				})
				if r := supervisor(pt.T, w.Dir, "", env, append([]string{"cleanup", "--product", e}, labelsArg...)...); r.code != 0 {
					pt.Errorf("the next run:\n%s", r)
				}
				pt.data(func() {
					proofPGIntact(pt, db, e)
					if got := proofSnapshot(pt.T, db, "postgres"); !maps.Equal(got, after) {
						pt.lost("after the next run: %v, want %v", got, after)
					}
				})
			})
			c.Exec(t, "postgres", fmt.Sprintf("DROP DATABASE %q WITH (FORCE)", e))
		}
		t.Logf("routines committed at the kill -> trials: %v", done)
	})
}

// ---------------------------------------------------------------------------
// The supervisor killed, and SIGINT with a stopped worker.

// TestProofKillSupervisor SIGKILLs the supervisor at a random moment while
// two workers migrate: 2 s later no worker may be alive, both databases are
// at a whole version, and the next run completes.
func TestProofKillSupervisor(t *testing.T) {
	p := proofScenario(t, "kill-supervisor")
	tp := sqliteTemplateWith(t, proofKillReports)
	w := newWorkspace(t)
	w.addSQLite(t, "calibrate", tp)
	life := proofCalibrate(t, w.Dir, nil, "migrate", "-y", "-j", "1", "--product", "calibrate")
	rng := seededRand(t)
	for i := range proofTrials(t) {
		a, b := fmt.Sprintf("a%03d", i), fmt.Sprintf("b%03d", i)
		paths := map[string]string{a: w.addSQLite(t, a, tp), b: w.addSQLite(t, b, tp)}
		delay := time.Duration(rng.Int64N(int64(life)))
		p.trial(t, fmt.Sprintf("t%03d", i), func(pt *proofTrial) {
			r := startSupervisor(pt.T, w.Dir, nil, "migrate", "-y", "-j", "2", "--product", a, "--product", b)
			pids := waitForWorkers(pt.T, r, 2, 30*time.Second)
			time.Sleep(delay)
			r.cmd.Process.Kill()
			killed := time.Now()
			r.wait(pt.T, 10*time.Second)
			for _, pid := range pids {
				for procAlive(pid) && time.Since(killed) < 2*time.Second {
					time.Sleep(time.Millisecond)
				}
				if procAlive(pid) {
					syscall.Kill(pid, syscall.SIGKILL)
					pt.Errorf("worker %d still alive 2s after the supervisor was SIGKILLed", pid)
				}
			}
			vs := map[string]string{}
			pt.data(func() {
				for e, path := range paths {
					vs[e] = checkWholeSQLite(pt.T, copySQLiteFiles(pt.T, path), tp, false)
				}
			})
			pt.Logf("supervisor killed %v after its workers started: left at %v", delay.Round(time.Millisecond), vs)
			if r := supervisor(pt.T, w.Dir, "", nil, "migrate", "-y", "--product", a, "--product", b); r.code != 0 {
				pt.Errorf("the next run:\n%s", r)
			}
			pt.data(func() {
				for e, path := range paths {
					if v := checkWholeSQLite(pt.T, path, tp, false); v != "002" {
						pt.Errorf("%s at %s after the next run, want 002", e, v)
					}
				}
			})
		})
		for _, path := range paths {
			os.Remove(path)
		}
	}
}

// TestProofInterruptStoppedWorker: one SIGINT while the worker is stopped
// (SIGSTOP: it cannot act on the SIGTERM the supervisor sends) ends the run
// within the grace period (supervise.DefaultGrace, 5 s; then SIGKILL) with
// exit 130, the database at 001, and the next run completes.
func TestProofInterruptStoppedWorker(t *testing.T) {
	p := proofScenario(t, "sigint-stopped-worker")
	tp := sqliteTemplateWith(t, proofKillReports)
	w := newWorkspace(t)
	const grace = 5 * time.Second
	for i := range proofSlowTrials(t) {
		e := fmt.Sprintf("s%03d", i)
		path := w.addSQLite(t, e, tp)
		p.trial(t, e, func(pt *proofTrial) {
			r := startSupervisor(pt.T, w.Dir, nil, "migrate", "-y", "-j", "1", "--product", e)
			pid := waitForWorkers(pt.T, r, 1, 30*time.Second)[0]
			if !waitForFile(path+"-journal", 30*time.Second) {
				pt.Fatal("the migration never started writing")
			}
			if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
				pt.Fatal(err)
			}
			sent := time.Now()
			r.signal(pt.T, syscall.SIGINT)
			res := r.wait(pt.T, time.Minute)
			took := r.exited.Sub(sent)
			pt.Logf("exited %v after SIGINT", took.Round(time.Millisecond))
			if res.code != 130 {
				pt.Errorf("exit %d, want 130\n%s", res.code, res)
			}
			// The grace period, and the time to read the status afterwards.
			if took > grace+10*time.Second {
				pt.Errorf("took %v to exit, the grace period is %v", took, grace)
			}
			if procAlive(pid) {
				syscall.Kill(pid, syscall.SIGKILL)
				pt.Errorf("the stopped worker outlived its supervisor")
			}
			pt.data(func() {
				if v := checkWholeSQLite(pt.T, copySQLiteFiles(pt.T, path), tp, false); v != "001" {
					pt.Errorf("at %s, want 001: the worker was stopped mid-transaction", v)
				}
			})
			if r := supervisor(pt.T, w.Dir, "", nil, "migrate", "-y", "--product", e); r.code != 0 {
				pt.Errorf("the next run:\n%s", r)
			}
		})
		os.Remove(path)
	}
}
