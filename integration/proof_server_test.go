package integration

// Proof suite, server faults: the PostgreSQL server of some products is
// stopped (pg_ctl stop -m fast, -m immediate) in the middle of a migration
// run, and started again. Its products must fail with a reason that says
// the connection went away, the SQLite products of the same run must
// finish, no PostgreSQL database may be left between versions, and a run
// after the restart must complete.

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"supervisor/integration/fleet"
	"supervisor/integration/workspace"
	"supervisor/internal/dbconn"
)

// proofServerLost matches what a worker says when its server went away.
var proofServerLost = regexp.MustCompile(`(?i)terminat|shut ?down|connection|closed|EOF|broken pipe|reset|refused`)

// proofPGSessions counts the sessions of the supervisor's workers
// (application_name "supervisor") on database name, the backends in mine
// aside.
func proofPGSessions(t *testing.T, db *sql.DB, name string, mine []int) int {
	t.Helper()
	var n int
	q := "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'supervisor' AND NOT (pid = ANY($2))"
	if err := db.QueryRow(q, name, mine).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestProofServerStopped(t *testing.T) {
	s := proofStartPGServer(t)
	small := sqliteTemplateWith(t, 2000)
	ctx := context.Background()
	admin := s.target("postgres")
	tmpl := s.target("tmpl")
	if err := workspace.CreatePostgresDatabase(ctx, admin, "tmpl", false); err != nil {
		t.Fatal(err)
	}
	if _, err := workspace.MakeProduct(ctx, tmpl, "001", fleet.Options{Reports: 5000, Seed: 17}); err != nil {
		t.Fatal(err)
	}
	counts := rowCounts(t, tmpl)
	env := []string{ccPasswordEnv + "=" + s.password}
	w := newWorkspace(t)
	// newPG copies the template to database name and registers it.
	newPG := func(t *testing.T, name string) dbconn.Target {
		t.Helper()
		db := openDB(t, admin)
		defer db.Close()
		execSQL(t, db, fmt.Sprintf("CREATE DATABASE %q TEMPLATE tmpl", name))
		tg := s.target(name)
		w.add(t, name, tg, ccPasswordEnv)
		return tg
	}
	// check runs the next migrate once the server is back: it completes,
	// and every product is at the latest version, intact, every row kept.
	check := func(pt *proofTrial, sel []string, pgs map[string]dbconn.Target) {
		pt.Helper()
		args := []string{"migrate", "-y", "-j", "4"}
		for _, e := range sel {
			args = append(args, "--product", e)
		}
		if r := supervisor(pt.T, w.Dir, "", env, args...); r.code != 0 {
			pt.Errorf("the run after the restart:\n%s", r)
		}
		for e, tg := range pgs {
			db := openDB(pt.T, tg)
			pt.data(func() {
				if v := proofPGCheckWhole(pt, db, e, counts); v != "002" {
					pt.Errorf("%s at %s after the run after the restart", e, v)
				}
			})
			db.Close()
		}
	}

	for _, mode := range []string{"fast", "immediate"} {
		t.Run("stop -m "+mode+" while workers wait", func(t *testing.T) {
			// The PostgreSQL workers are connected and wait for their
			// products' locks, which the test holds; the SQLite workers run.
			p := proofScenario(t, "server-stop-"+mode)
			pgs := map[string]dbconn.Target{}
			var sel []string
			for _, e := range []string{mode + "-pg1", mode + "-pg2"} {
				pgs[e] = newPG(t, e)
				sel = append(sel, e)
			}
			sqlite := map[string]string{}
			for _, e := range []string{mode + "-s1", mode + "-s2"} {
				sqlite[e] = w.addSQLite(t, e, small)
				sel = append(sel, e)
			}
			p.trial(t, mode, func(pt *proofTrial) {
				var mine []int
				for _, tg := range pgs {
					backend, release := holdProductLock(pt.T, tg)
					defer release()
					mine = append(mine, backend)
				}
				watch := openDB(pt.T, admin)
				args := []string{"migrate", "-y", "-j", "4", "--lock-timeout", "2m"}
				for _, e := range sel {
					args = append(args, "--product", e)
				}
				r := startSupervisor(pt.T, w.Dir, env, args...)
				waiting := func() bool {
					if len(workerPIDs(r.pid())) == 0 {
						return false
					}
					for e := range pgs {
						if proofPGSessions(pt.T, watch, e, mine) == 0 {
							return false
						}
					}
					return true
				}
				for !waiting() {
					select {
					case <-r.done:
						pt.Fatalf("the run ended before its workers waited for the locks\n%s", r.res)
					case <-time.After(5 * time.Millisecond):
					}
				}
				watch.Close()
				// Into their polling for the lock.
				time.Sleep(200 * time.Millisecond)
				s.stop(pt.T, mode)
				res := r.wait(pt.T, 2*time.Minute)
				s.start(pt.T)
				if res.code != 1 {
					pt.Errorf("exit %d, want 1\n%s", res.code, res)
				}
				for e := range pgs {
					reason := proofOneLineReason(pt.T, res, e)
					pt.Logf("%s: %s", e, reason)
					if !proofServerLost.MatchString(reason) {
						pt.Errorf("%s: the reason %q does not say the server went away", e, reason)
					}
				}
				for e, path := range sqlite {
					if line := summaryLine(res.stdout, e); !strings.HasSuffix(strings.TrimSpace(line), "ok") {
						pt.Errorf("%s (SQLite, same run): %q", e, line)
					}
					pt.data(func() {
						if v := checkWholeSQLite(pt.T, path, small, false); v != "002" {
							pt.Errorf("%s at %s", e, v)
						}
					})
				}
				for e, tg := range pgs {
					db := openDB(pt.T, tg)
					pt.data(func() {
						if v := proofPGCheckWhole(pt, db, e, counts); v != "001" {
							pt.Errorf("%s at %s: it never got its lock", e, v)
						}
					})
					db.Close()
				}
				check(pt, sel, pgs)
			})
		})
	}

	t.Run("stop -m immediate and restart at a random moment", func(t *testing.T) {
		// No lock held: the server goes down wherever the workers are
		// (connecting, reading the status, inside CREATE INDEX, committing)
		// and comes back at once.
		p := proofScenario(t, "server-restart-random")
		newPG(t, "calibrate")
		life := proofCalibrate(t, w.Dir, env, "migrate", "-y", "-j", "1", "--product", "calibrate")
		rng := seededRand(t)
		for i := range proofTrialsOr(t, 2) {
			pgs := map[string]dbconn.Target{}
			var sel []string
			for _, e := range []string{fmt.Sprintf("r%03d-pg1", i), fmt.Sprintf("r%03d-pg2", i)} {
				pgs[e] = newPG(t, e)
				sel = append(sel, e)
			}
			delay := time.Duration(rng.Int64N(int64(life)))
			p.trial(t, fmt.Sprintf("r%03d", i), func(pt *proofTrial) {
				args := append([]string{"migrate", "-y", "-j", "2", "--connect-timeout", "5s"}, "--product", sel[0], "--product", sel[1])
				r := startSupervisor(pt.T, w.Dir, env, args...)
				waitForWorkers(pt.T, r, 1, 30*time.Second)
				time.Sleep(delay)
				s.stop(pt.T, "immediate")
				s.start(pt.T)
				res := r.wait(pt.T, 2*time.Minute)
				switch res.code {
				case 0:
					pt.Logf("stopped %v into the run: both were done, or reconnected", delay.Round(time.Millisecond))
				case 1:
					for _, e := range sel {
						line, n := lastRowJoined(res.stdout, e)
						pt.Logf("stopped %v into the run: %s", delay.Round(time.Millisecond), line)
						if n > 1 {
							pt.Errorf("the reason of %s spans %d lines of the summary table, want one", e, n)
						}
						if cell, why := outcomeOf(res.stdout, e); cell == "failed" && !proofServerLost.MatchString(why) {
							pt.Errorf("%s: the reason %q does not say the server went away", e, why)
						}
					}
				default:
					pt.Errorf("exit %d, want 0 or 1\n%s", res.code, res)
				}
				for e, tg := range pgs {
					db := openDB(pt.T, tg)
					pt.data(func() { proofPGCheckWhole(pt, db, e, counts) })
					db.Close()
				}
				check(pt, sel, pgs)
			})
		}
	})
}
