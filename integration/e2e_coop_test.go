package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"supervisor/integration/fleet"
	"supervisor/integration/workspace"
	"supervisor/internal/pgtest"
)

// coopReports sizes the PostgreSQL products of the cooperative runs: their
// migration 001 -> 002 takes a good part of a second, so that three hosts
// share a fleet of coopProducts and a host is killed while it works.
const (
	coopReports  = 500
	coopProducts = 12
)

// coopFleet is a PostgreSQL config database on one throwaway server, with
// products on that server at 001 (copies of one generated database).
type coopFleet struct {
	c      *pgtest.Cluster
	w      *testWorkspace
	config string   // --config-db URL (no password)
	env    []string // PGPASSWORD for the config database, the products' variable
}

// newCoopFleet starts the server, makes the config database (supervisor
// init) and the template product.
func newCoopFleet(t *testing.T) *coopFleet {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("setup took %v", time.Since(start).Round(time.Millisecond)) }()
	c := pgtest.Start(t)
	f := &coopFleet{c: c, w: newWorkspace(t), env: []string{"PGPASSWORD=" + c.Password, ccPasswordEnv + "=" + c.Password}}
	c.CreateDatabase(t, "config")
	f.config = fmt.Sprintf("postgres://%s@%s:%d/config", c.User, c.Host, c.Port)
	c.CreateDatabase(t, "template_product")
	tg := clusterTarget(c, "template_product")
	if _, err := workspace.MakeProduct(context.Background(), tg, "001", fleet.Options{Reports: coopReports, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if r := f.run(t, "init", "--no-default"); r.code != 0 {
		t.Fatalf("init:\n%s", r)
	}
	// init installed River's tables, in their own schema.
	db := openDB(t, clusterTarget(c, "config"))
	defer db.Close()
	var jobs, public sql.NullString
	if err := db.QueryRow("SELECT to_regclass('supervisor_river.river_job')::text, to_regclass('public.river_job')::text").Scan(&jobs, &public); err != nil || !jobs.Valid || public.Valid {
		t.Fatalf("after init: supervisor_river.river_job %v, public.river_job %v (%v); want the first only", jobs, public, err)
	}
	return f
}

// addProducts makes n products named prefix01... from the template and
// registers them in the PostgreSQL config database.
func (f *coopFleet) addProducts(t *testing.T, prefix string, n int) []string {
	t.Helper()
	var names []string
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("%s%02d", prefix, i)
		f.c.Exec(t, "postgres", fmt.Sprintf(`CREATE DATABASE %q TEMPLATE template_product STRATEGY FILE_COPY`, name))
		tg := clusterTarget(f.c, name)
		f.w.add(t, name, tg, ccPasswordEnv)
		names = append(names, name)
	}
	if r := f.run(t, "products", "import", "--from", "sqlite:"+filepath.Join(f.w.Dir, "config.sqlite")); r.code != 0 {
		t.Fatalf("import:\n%s", r)
	}
	return names
}

func (f *coopFleet) run(t *testing.T, args ...string) result {
	t.Helper()
	return supervisor(t, f.w.Dir, "", f.env, append([]string{"--config-db", f.config}, args...)...)
}

func (f *coopFleet) start(t *testing.T, args ...string) *running {
	t.Helper()
	return startSupervisor(t, f.w.Dir, f.env, append([]string{"--config-db", f.config}, args...)...)
}

// coopDoc is the part of status --run-id --json the tests read.
type coopDoc struct {
	Products []struct {
		Endpoint, Outcome, Reason, Host string
		RunState                        string `json:"run_state"`
		VersionAfter                    string `json:"version_after"`
	}
	Run struct {
		Pending, Running, Done, Failed int
		DoneByHost                     map[string]int `json:"done_by_host"`
	}
}

// runStatus reads the run from the config database with status --run-id --json.
func (f *coopFleet) runStatus(t *testing.T, runID string) coopDoc {
	t.Helper()
	r := f.run(t, "status", "--run-id", runID, "--json")
	var doc coopDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("status --run-id --json: %v\n%s", err, r)
	}
	return doc
}

// checkMigratedOnce checks that every product is at 002 with 001 and 002
// recorded once each and whole, and that over every host's log its file was
// applied at most once (a killed host may have applied it before it could
// log it, never a second time).
func (f *coopFleet) checkMigratedOnce(t *testing.T, names []string, stderrs ...string) {
	t.Helper()
	for _, e := range names {
		db := openDB(t, clusterTarget(f.c, e))
		revs := readRevisions(t, db)
		db.Close()
		if len(revs) != 2 || revs[0].version != "001" || revs[1].version != "002" {
			t.Errorf("%s: revisions %+v, want 001 and 002 once each", e, revs)
			continue
		}
		for _, r := range revs {
			if r.applied != r.total || r.errText != "" {
				t.Errorf("%s: version %s: %d of %d statements, error %q", e, r.version, r.applied, r.total, r.errText)
			}
		}
		if n := ccApplied(e, stderrs...); n > 1 {
			t.Errorf("%s: 'applied migration file' logged %d times over the hosts, want at most once", e, n)
		}
	}
}

// summaryHosts reads a host's run summary: endpoint -> "host|result", and
// the host it marked as itself.
func summaryHosts(t *testing.T, stdout string) (rows map[string]string, self string) {
	t.Helper()
	_, table, ok := strings.Cut(stdout, "* marks this host's products:")
	if !ok {
		t.Fatalf("no run summary in\n%s", stdout)
	}
	rows = map[string]string{}
	for _, l := range strings.Split(table, "\n") {
		c := strings.Split(l, "|")
		if len(c) != 7 || strings.TrimSpace(c[0]) == "Product endpoint" {
			continue
		}
		host := strings.TrimSpace(c[2])
		if h, ok := strings.CutSuffix(host, " *"); ok {
			host, self = h, h
		}
		rows[strings.TrimSpace(c[0])] = host + "|" + strings.TrimSpace(c[6])
	}
	return rows, self
}

// checkSummariesAgree checks that each host's printed summary names, for
// every product, the host and result the config database has.
func checkSummariesAgree(t *testing.T, doc coopDoc, outs ...result) {
	t.Helper()
	for i, r := range outs {
		rows, _ := summaryHosts(t, r.stdout)
		if len(rows) != len(doc.Products) {
			t.Errorf("host %d: summary has %d products, the database %d", i, len(rows), len(doc.Products))
		}
		for _, p := range doc.Products {
			if got, want := rows[p.Endpoint], p.Host+"|"+p.Outcome; got != want {
				t.Errorf("host %d: %s: summary says %q, the database %q", i, p.Endpoint, got, want)
			}
		}
	}
}

// TestE2ECoopRuns: cooperative runs (--run-id) of three supervisors on one
// PostgreSQL config database and server, one fleet of products for each
// subtest.
func TestE2ECoopRuns(t *testing.T) {
	f := newCoopFleet(t)
	t.Run("three hosts share a run", func(t *testing.T) { coopThreeHostsShareARun(t, f) })
	t.Run("a killed host's products are finished", func(t *testing.T) { coopKilledHostsProductsAreFinished(t, f) })
	t.Run("an interrupted host gives its product back", func(t *testing.T) { coopInterruptedHostGivesItsProductBack(t, f) })
	t.Run("up and cleanup runs", func(t *testing.T) { coopUpAndCleanupRuns(t, f) })
}

// coopUpAndCleanupRuns: up and cleanup take --run-id too, over the products
// the first subtest migrated (up: each product's migration, nothing to do,
// then its cleanup), the checker labels said once for the host; a run id is one command's, and a finished run joined
// again does nothing and says where it stands.
func coopUpAndCleanupRuns(t *testing.T, f *coopFleet) {
	for _, args := range [][]string{{"up", "-y", "--run-id", "u1"}, {"cleanup", "--run-id", "c1"}, {"cleanup", "--run-id", "c1"}} {
		r := f.run(t, append(args, "-j", "2", "--product", "p*")...)
		if r.code != 0 || !strings.Contains(r.stdout, "Run "+args[len(args)-1]+": 12 products: 12 done, 0 failed") {
			t.Errorf("%v: exit %d, want 0 and 12 products done\n%s", args, r.code, r)
		}
		// Said once for the host, not once per product.
		if n := strings.Count(r.stderr, "no checker labels given (--checker-labels"); n != 1 {
			t.Errorf("%v: 'no checker labels given' logged %d times, want once", args, n)
		}
	}
	if r := f.run(t, "migrate", "-y", "--run-id", "c1", "--product", "p*"); r.code != 2 || !strings.Contains(r.stderr, "run c1 is a cleanup run, not migrate") {
		t.Errorf("migrate joining a cleanup run: exit %d, want 2 naming the run's command\n%s", r.code, r)
	}
}

// coopThreeHostsShareARun: three supervisors join one run id. Every product
// is migrated exactly once, every host migrated some, all three end 0, and
// each host's summary agrees with the run in the config database (status
// --run-id).
func coopThreeHostsShareARun(t *testing.T, f *coopFleet) {
	names := f.addProducts(t, "p", coopProducts)
	var hosts []*running
	start := time.Now()
	for range 3 {
		hosts = append(hosts, f.start(t, "migrate", "-y", "-j", "1", "--run-id", "r1", "--no-progress", "--product", "p*"))
	}
	var outs []result
	var stderrs []string
	for _, h := range hosts {
		r := h.wait(t, 2*time.Minute)
		if r.code != 0 {
			t.Errorf("host exit %d, want 0\n%s", r.code, r)
		}
		outs, stderrs = append(outs, r), append(stderrs, r.stderr)
	}
	t.Logf("the run took %v", time.Since(start).Round(time.Millisecond))
	f.checkMigratedOnce(t, names, stderrs...)
	doc := f.runStatus(t, "r1")
	if doc.Run.Done != coopProducts || doc.Run.Failed+doc.Run.Pending+doc.Run.Running != 0 {
		t.Errorf("run: %+v, want %d done", doc.Run, coopProducts)
	}
	if len(doc.Run.DoneByHost) != 3 {
		t.Errorf("done by host %v, want all three hosts", doc.Run.DoneByHost)
	}
	for _, p := range doc.Products {
		if p.Outcome != "ok" || p.RunState != "done" || p.VersionAfter != "002" {
			t.Errorf("%s: %+v, want done, ok, at 002", p.Endpoint, p)
		}
	}
	applied := 0
	for _, e := range names {
		applied += ccApplied(e, stderrs...)
	}
	if applied != coopProducts {
		t.Errorf("'applied migration file' logged %d times, want %d (once per product)", applied, coopProducts)
	}
	checkSummariesAgree(t, doc, outs...)
	t.Logf("done by host: %v", doc.Run.DoneByHost)
}

// coopKilledHostsProductsAreFinished: one of three hosts of a run is
// SIGKILLed while its worker migrates a product. The other two take its
// product back (its session with the config database ended, its heartbeat
// lock is free), finish the run, end 0, and agree with the database; every
// product is at 002, applied once.
func coopKilledHostsProductsAreFinished(t *testing.T, f *coopFleet) {
	names := f.addProducts(t, "k", coopProducts)
	victim := f.start(t, "migrate", "-y", "-j", "1", "--run-id", "r2", "--no-progress", "--product", "k*")
	first := waitForWorkers(t, victim, 1, time.Minute)[0]
	others := []*running{
		f.start(t, "migrate", "-y", "-j", "1", "--run-id", "r2", "--no-progress", "--product", "k*"),
		f.start(t, "migrate", "-y", "-j", "1", "--run-id", "r2", "--no-progress", "--product", "k*"),
	}
	// Kill it in the middle of its second product: at -j 1 its second
	// worker runs once the first product's job is completed.
	for deadline := time.Now().Add(time.Minute); !slices.ContainsFunc(workerPIDs(victim.pid()), func(p int) bool { return p != first }); {
		if time.Now().After(deadline) {
			t.Fatalf("the first host started no second product in a minute\n%s", victim.stderr)
		}
		time.Sleep(time.Millisecond)
	}
	victim.signal(t, syscall.SIGKILL)
	vr := victim.wait(t, time.Minute)
	var outs []result
	stderrs := []string{vr.stderr}
	for _, h := range others {
		r := h.wait(t, 2*time.Minute)
		if r.code != 0 {
			t.Errorf("host exit %d, want 0\n%s", r.code, r)
		}
		outs, stderrs = append(outs, r), append(stderrs, r.stderr)
	}
	hostname, _ := os.Hostname()
	const lost = "a host was lost: its product goes back to the run"
	if n := strings.Count(stderrs[1]+stderrs[2], lost); n != 1 || !strings.Contains(stderrs[1]+stderrs[2], fmt.Sprintf("lost_host=%s/%d", hostname, victim.pid())) {
		t.Errorf("a host said %d times that it took the killed host's product back, want once\n%s\n%s", n, stderrs[1], stderrs[2])
	}
	f.checkMigratedOnce(t, names, stderrs...)
	doc := f.runStatus(t, "r2")
	if doc.Run.Done != coopProducts || doc.Run.Failed+doc.Run.Pending+doc.Run.Running != 0 {
		t.Errorf("run: %+v, want %d done", doc.Run, coopProducts)
	}
	if n := doc.Run.DoneByHost[fmt.Sprintf("%s/%d", hostname, victim.pid())]; n < 1 {
		t.Errorf("the killed host finished %d products before it was killed, want its first (done by host %v)", n, doc.Run.DoneByHost)
	}
	checkSummariesAgree(t, doc, outs...)
	t.Logf("done by host: %v", doc.Run.DoneByHost)
}

// coopInterruptedHostGivesItsProductBack: SIGINT stops a host in the middle
// of a product: its worker rolls back, the host hands the product back to
// the run and exits 130 after printing where the run stands; the other
// host finishes every product, each applied once.
func coopInterruptedHostGivesItsProductBack(t *testing.T, f *coopFleet) {
	names := f.addProducts(t, "s", 6)
	stopped := f.start(t, "migrate", "-y", "-j", "1", "--run-id", "r3", "--no-progress", "--product", "s*")
	waitForWorkers(t, stopped, 1, time.Minute)
	other := f.start(t, "migrate", "-y", "-j", "1", "--run-id", "r3", "--no-progress", "--product", "s*")
	stopped.signal(t, syscall.SIGINT)
	sr := stopped.wait(t, time.Minute)
	if sr.code != 130 || !strings.Contains(sr.stdout, "Run r3: 6 products:") {
		t.Errorf("interrupted host: exit %d, want 130 and the run's summary\n%s", sr.code, sr)
	}
	or := other.wait(t, 2*time.Minute)
	if or.code != 0 {
		t.Errorf("other host exit %d, want 0\n%s", or.code, or)
	}
	f.checkMigratedOnce(t, names, sr.stderr, or.stderr)
	doc := f.runStatus(t, "r3")
	if doc.Run.Done != 6 || len(doc.Run.DoneByHost) != 1 {
		t.Errorf("run: %+v, want 6 done by the other host", doc.Run)
	}
	checkSummariesAgree(t, doc, or)
}
