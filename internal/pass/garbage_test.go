package pass

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"supervisor/internal/cleanup"
	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/internal/registry"
	"supervisor/internal/status"
	"supervisor/internal/testutil"
	"supervisor/schema"
)

// fakeWorker is an executable that, started as a worker, leaves a file in
// the returned directory and fails: a product whose worker started has a
// failed row, and the directory says how many started.
func fakeWorker(t *testing.T) (exe, started string) {
	t.Helper()
	dir := t.TempDir()
	started = filepath.Join(dir, "started")
	if err := os.Mkdir(started, 0o755); err != nil {
		t.Fatal(err)
	}
	exe = filepath.Join(dir, "worker")
	script := "#!/bin/sh\nmktemp " + started + "/w.XXXXXX >/dev/null\nexit 3\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe, started
}

func startedWorkers(t *testing.T, dir string) int {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// newProduct is a new SQLite product at the packaged latest version: no
// garbage, no checkers.
func newProduct(t *testing.T, endpoint string) (registry.Product, *sql.DB) {
	t.Helper()
	target := dbconn.Target{Dialect: dbconn.SQLite, Path: filepath.Join(t.TempDir(), endpoint+".sqlite")}
	db, err := dbconn.Open(context.Background(), target, dbconn.Options{Create: true, ImmediateTx: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := migrate.Upgrade(context.Background(), db, dbconn.SQLite, schema.Product, migrate.Options{}); err != nil {
		t.Fatal(err)
	}
	return registry.Product{Endpoint: endpoint, Target: target}, db
}

// cleanupFleet inspects ps with opts (the garbage check on unless told
// otherwise by opts) and cleans them up with the fake worker.
func cleanupFleet(t *testing.T, opts Options, ps ...registry.Product) (CleanupReport, int) {
	t.Helper()
	exe, started := fakeWorker(t)
	opts.Executable, opts.Getenv = exe, func(string) string { return "" }
	f, _ := testFleet(t, opts)
	f.Products = ps
	states := f.Inspect(context.Background(), Timeouts{Connect: 30 * time.Second, Lock: 30 * time.Second})
	rep := f.Cleanup(context.Background(), states, false)
	return rep, startedWorkers(t, started)
}

// TestCleanupCleanProductStartsNoWorker: a product the garbage check clears
// gets no worker; its row is ok, with every count zero, and says why.
func TestCleanupCleanProductStartsNoWorker(t *testing.T) {
	p, _ := newProduct(t, "clean")
	for _, labels := range []string{"", testutil.LabelsDir} {
		rep, n := cleanupFleet(t, Options{CheckGarbage: true, CheckerLabels: labels}, p)
		if n != 0 {
			t.Errorf("labels %q: %d workers started, want none", labels, n)
		}
		r := rep.Rows[0]
		if r.Outcome != OK || !r.NothingToDo || r.Reason != "" || len(r.Removed) != len(cleanup.Keys) || rep.Failed {
			t.Errorf("labels %q: row %+v (failed %v), want ok, nothing to do", labels, r, rep.Failed)
		}
		for k, v := range r.Removed {
			if v != 0 {
				t.Errorf("labels %q: removed %s = %d, want 0", labels, k, v)
			}
		}
	}
}

// TestCleanupProductWithGarbageGetsItsWorker: a product with something to
// remove gets its worker, as does every product when the check is off, or
// when the label directory does not load (the worker reports that).
func TestCleanupProductWithGarbageGetsItsWorker(t *testing.T) {
	clean, _ := newProduct(t, "clean")
	dirty, db := newProduct(t, "dirty")
	if _, err := db.Exec(`INSERT INTO comments (id, bug_hash, author, message, created_at) VALUES (1, 'no-such-bug', 'a', x'00', '2020-01-01 00:00:00')`); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		opts    Options
		workers int
	}{
		{"garbage", Options{CheckGarbage: true}, 1},
		{"check off", Options{}, 2},
		{"labels that do not load", Options{CheckGarbage: true, CheckerLabels: filepath.Join(t.TempDir(), "none")}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep, n := cleanupFleet(t, tt.opts, clean, dirty)
			if n != tt.workers {
				t.Errorf("%d workers started, want %d", n, tt.workers)
			}
			if r := rep.Rows[1]; r.Outcome != Failed || r.NothingToDo {
				t.Errorf("dirty: row %+v, want its (fake, failing) worker's", r)
			}
			if r := rep.Rows[0]; r.NothingToDo != (tt.workers == 1) {
				t.Errorf("clean: row %+v, nothing to do %v", r, tt.workers == 1)
			}
		})
	}
}

// TestCheckGarbageFailureIsUnknown: a check that fails (here on a closed
// database) clears nothing: the worker runs and tells.
func TestCheckGarbageFailureIsUnknown(t *testing.T) {
	_, db := newProduct(t, "p")
	db.Close()
	f, _ := testFleet(t, Options{CheckGarbage: true})
	if got := f.checkGarbage(context.Background(), db, dbconn.SQLite, "p"); got != garbageUnknown {
		t.Errorf("checkGarbage on a closed database = %v, want unknown", got)
	}
}

// reportingWorker is an executable that, started as a worker, says in its
// result that the product is up to date at version, without touching it,
// and leaves a file in the returned directory.
func reportingWorker(t *testing.T, version string) (exe, started string) {
	t.Helper()
	dir := t.TempDir()
	started = filepath.Join(dir, "started")
	if err := os.Mkdir(started, 0o755); err != nil {
		t.Fatal(err)
	}
	exe = filepath.Join(dir, "worker")
	script := `#!/bin/sh
read -r spec
e=$(printf '%s' "$spec" | sed 's/.*"endpoint":"\([^"]*\)".*/\1/')
mktemp ` + started + `/w.XXXXXX >/dev/null
printf '{"endpoint":"%s","ok":true,"status":"ok","from_version":"","to_version":"` + version + `","applied":2,"duration":1}\n' "$e" >&3
`
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe, started
}

// TestMigrateTakesWhatTheWorkerSaidUpToDate: after migrate, a product whose
// worker said it is up to date at the packaged version is not read again
// (here the fake worker created nothing, so a read would say missing); up,
// which checks for garbage in that read, reads it again, and so does a run
// whose worker said less (another version).
func TestMigrateTakesWhatTheWorkerSaidUpToDate(t *testing.T) {
	latest, err := migrate.LatestVersion(schema.Product, dbconn.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		said       string
		check      bool
		wantStatus status.Status
	}{
		{"up to date", latest, false, status.OK},
		{"up to date, garbage check", latest, true, status.Missing},
		{"another version", "001", false, status.Missing},
	} {
		t.Run(tt.name, func(t *testing.T) {
			exe, started := reportingWorker(t, tt.said)
			f, _ := testFleet(t, Options{Executable: exe, CheckGarbage: tt.check, Getenv: func(string) string { return "" }})
			f.Products = []registry.Product{{Endpoint: "new", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: filepath.Join(t.TempDir(), "new.sqlite")}}}
			before := f.Inspect(context.Background(), Timeouts{Connect: time.Second, Lock: time.Second})
			if before[0].Status != status.Missing {
				t.Fatalf("before: %s, want missing", before[0].Status)
			}
			rep := f.Migrate(context.Background(), before)
			if n := startedWorkers(t, started); n != 1 {
				t.Fatalf("%d workers started, want 1", n)
			}
			got := rep.Current[0]
			if got.Status != tt.wantStatus {
				t.Errorf("after: %s (%s), want %s", got.Status, got.Reason, tt.wantStatus)
			}
			if tt.wantStatus == status.OK && (got.DBVersion != latest || !got.UpToDate || got.Message != status.OK.Message() || got.Location != before[0].Location || got.PackageVersion != latest) {
				t.Errorf("after: %+v, want up to date at %s where it was", got, latest)
			}
		})
	}
}
