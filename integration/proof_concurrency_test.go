package integration

// Proof suite, concurrency: 2 to 4 supervisors started at once on one fleet
// (SQLite and PostgreSQL products, some to migrate, some to clean up), a
// random mix of migrate, cleanup and up. Every pending file must be applied
// exactly once (one log line over all runs, one revisions row per version),
// no run may fail but for the documented reason (cleanup of a product that
// another supervisor has not migrated yet: "not attempted"), nothing may be
// corrupted, each cleanup routine all or nothing, and an `up` afterwards
// brings every product to what one clean `up` makes of it.
// TestE2ETwoSupervisors (e2e_concurrency_test.go) checks two migrates once,
// with more detail on who applied what.

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supervisor/integration/fleet"
	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
	"supervisor/internal/testutil"
)

// proofKind is one kind of product in the concurrent fleet: where it is
// copied from, and its snapshots before anything and after a clean `up`.
type proofKind struct {
	name, dialect string
	pending       bool // at 001: a file to apply
	sqliteFrom    string
	pgFrom        string
	before, after map[string]int64
}

func TestProofConcurrentSupervisors(t *testing.T) {
	p := proofScenario(t, "concurrent-supervisors")
	slow := sqliteTemplateWith(t, slowReports)
	ct := proofSQLiteCleanupTemplate(t, "generated")
	c := pgtest.Start(t)
	env := []string{ccPasswordEnv + "=" + c.Password}
	labels := []string{"--checker-labels", testutil.LabelsDir}
	proofPGTemplate(t, c, "mtmpl", "001", fleet.Options{Reports: 5000, Seed: 19})
	proofPGTemplate(t, c, "ctmpl", "latest", fleet.Options{Reports: 5000, Garbage: 0.3, Seed: 23})
	w := newWorkspace(t)

	kinds := []*proofKind{
		{name: "sm1", dialect: "sqlite", pending: true, sqliteFrom: slow.path},
		{name: "sm2", dialect: "sqlite", pending: true, sqliteFrom: slow.path},
		{name: "sc", dialect: "sqlite", sqliteFrom: ct.path},
		{name: "pm", dialect: "postgres", pending: true, pgFrom: "mtmpl"},
		{name: "pc", dialect: "postgres", pgFrom: "ctmpl"},
	}
	// mk copies kind k as product endpoint.
	mk := func(t *testing.T, k *proofKind, endpoint string) dbconn.Target {
		t.Helper()
		if k.dialect == "sqlite" {
			path := filepath.Join(w.Dir, endpoint+".sqlite")
			if err := fleet.CopySQLite(k.sqliteFrom, path); err != nil {
				t.Fatal(err)
			}
			tg := sqliteTarget(path)
			w.add(t, endpoint, tg, "")
			return tg
		}
		return proofPGFromTemplate(t, c, w, endpoint, k.pgFrom)
	}
	snap := func(t *testing.T, tg dbconn.Target) map[string]int64 {
		t.Helper()
		db := openDB(t, tg)
		defer db.Close()
		return proofSnapshot(t, db, tg.Dialect)
	}
	// The reference: one clean `up` of each kind.
	refs := map[*proofKind]dbconn.Target{}
	args := []string{"up", "-y", "-j", "2"}
	for _, k := range kinds {
		refs[k] = mk(t, k, "ref-"+k.name)
		k.before = snap(t, refs[k])
		args = append(args, "--product", "ref-"+k.name)
	}
	if r := supervisor(t, w.Dir, "", env, append(args, labels...)...); r.code != 0 {
		t.Fatalf("a clean up:\n%s", r)
	}
	for _, k := range kinds {
		k.after = snap(t, refs[k])
		proofCheckCleanupTemplate(t, k.name, k.before, k.after)
	}

	rng := seededRand(t)
	for i := range proofTrialsOr(t, 1) {
		n := 2 + rng.IntN(3)
		actions := []string{"migrate", "cleanup"}
		for len(actions) < n {
			actions = append(actions, []string{"migrate", "cleanup", "up"}[rng.IntN(3)])
		}
		rng.Shuffle(len(actions), func(a, b int) { actions[a], actions[b] = actions[b], actions[a] })
		targets := map[string]dbconn.Target{}
		kindOf := map[string]*proofKind{}
		before := map[string][]revisionRow{}
		var sel []string
		for _, k := range kinds {
			e := fmt.Sprintf("t%03d-%s", i, k.name)
			targets[e], kindOf[e] = mk(t, k, e), k
			sel = append(sel, "--product", e)
			db := openDB(t, targets[e])
			before[e] = readRevisions(t, db)
			db.Close()
		}
		p.trial(t, fmt.Sprintf("t%03d-%s", i, strings.Join(actions, "+")), func(pt *proofTrial) {
			runs := make([]*running, len(actions))
			for j, a := range actions {
				args := []string{a, "-j", "2"}
				if a != "cleanup" {
					args = append(args, "-y")
				}
				if a != "migrate" {
					args = append(args, labels...)
				}
				runs[j] = startSupervisor(pt.T, w.Dir, env, append(args, sel...)...)
			}
			var outs []string
			for j, r := range runs {
				res := r.wait(pt.T, 5*time.Minute)
				outs = append(outs, res.stderr)
				proofCheckConcurrentRun(pt, actions[j], res, targets)
			}
			for e, tg := range targets {
				k := kindOf[e]
				if k.pending {
					if n := ccApplied(e, outs...); n != 1 {
						pt.lost("%s: 'applied migration file' logged %d times over all runs, want once", e, n)
					}
				}
				db := openDB(pt.T, tg)
				pt.data(func() {
					if k.pending {
						ccCheckRevisions(pt.T, e, db, before[e])
					} else if v := proofRevisionsVersion(pt, db, e); v != "002" {
						pt.lost("%s at %s", e, v)
					}
					if tg.Dialect == "sqlite" {
						proofSQLiteIntact(pt, db, e)
					} else {
						proofPGIntact(pt, db, e)
					}
					done := proofCheckCleanupState(pt, proofSnapshot(pt.T, db, tg.Dialect), k.before, k.after)
					pt.Logf("%s: %d cleanup routines show as done", e, done)
				})
				db.Close()
			}
			// Then one up completes and leaves each as a clean up would.
			if r := supervisor(pt.T, w.Dir, "", env, append(append([]string{"up", "-y", "-j", "2"}, labels...), sel...)...); r.code != 0 {
				pt.Errorf("up afterwards:\n%s", r)
			}
			for e, tg := range targets {
				pt.data(func() {
					if got := snap(pt.T, tg); !maps.Equal(got, kindOf[e].after) {
						pt.lost("%s after the final up: %v, want %v", e, got, kindOf[e].after)
					}
				})
			}
		})
		for e, tg := range targets {
			if tg.Dialect == "sqlite" {
				os.Remove(tg.Path)
			} else {
				c.Exec(t, "postgres", fmt.Sprintf("DROP DATABASE %q WITH (FORCE)", e))
			}
		}
	}
}

// proofCheckConcurrentRun checks one of the concurrent runs: it exits 0, or,
// for cleanup and up, 1 with every failed product "not attempted" because
// another run had not migrated it yet.
func proofCheckConcurrentRun(pt *proofTrial, action string, res result, targets map[string]dbconn.Target) {
	pt.Helper()
	if strings.Contains(res.stderr, "panic") {
		pt.Errorf("%s: a panic\n%s", action, res)
	}
	switch res.code {
	case 0:
		return
	case 1:
		if action == "migrate" {
			break
		}
		ok := true
		for e := range targets {
			line, _ := lastRowJoined(res.stdout, e)
			if cell, why := outcomeOf(res.stdout, e); cell == "failed" || cell == "not attempted" {
				pt.Logf("%s: %s %s", action, line, why)
				if cell != "not attempted" {
					ok = false
				}
			}
		}
		if ok {
			return
		}
	}
	pt.Errorf("%s: exit %d\n%s", action, res.code, res)
}
