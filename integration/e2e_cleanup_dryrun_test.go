package integration

// End-to-end test of `cleanup --dry-run`: it counts, per product and
// routine, what a cleanup would remove, and writes nothing.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"supervisor/integration/fleet"
	"supervisor/integration/workspace"
	"supervisor/internal/pgtest"
	"supervisor/internal/testutil"
)

// workspaceSums is the SHA-256 of every file under dir, by path relative
// to dir: the config database, the product databases and anything a run
// leaves beside them (a journal).
func workspaceSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		s := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(s[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameFiles fails t unless the workspace's files are byte for byte what
// before says, and no file came or went.
func sameFiles(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(before)) {
		switch got, ok := after[name]; {
		case !ok:
			t.Errorf("%s: %s is gone", what, name)
		case got != before[name]:
			t.Errorf("%s: %s changed (sha256 %s, was %s)", what, name, got, before[name])
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s: %s appeared", what, name)
		}
	}
}

// cleanupCells is the cleanup summary row of endpoint without its
// endpoint, duration and result cells: the counts Locks, Files, Contents,
// Comments, Analysis, Sets, Severity.
func cleanupCells(t *testing.T, r result, endpoint string) []string {
	t.Helper()
	tables := tablesOf(r.stdout)
	if len(tables) == 0 {
		t.Fatalf("no table on stdout\n%s", r)
	}
	row, ok := byEndpoint(t, tables[len(tables)-1])[endpoint]
	if !ok {
		t.Fatalf("no summary row for %s\n%s", endpoint, r)
	}
	if row[len(row)-1] != "ok" {
		t.Errorf("%s: result %q, want ok\n%s", endpoint, row[len(row)-1], r)
	}
	return row[1 : len(row)-2]
}

// `cleanup --dry-run` on CodeChecker's sample (upgraded first) and a second
// product: exit 0, the counts the fixture README gives, every file of the
// workspace byte-identical afterwards, an expired login session counted
// and kept; the --json document is marked a dry run; and the real cleanup
// then removes exactly what the dry run counted.
func TestE2ECleanupDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	w.Fixture(t, "codechecker-sample", "product-sample.sqlite")
	w.SQLite(t, "libacme", "latest", 500)
	w.Close()
	if r := supervisor(t, w.Dir, "", nil, "migrate", "-y"); r.code != 0 {
		t.Fatalf("migrate: want exit 0\n%s", r)
	}
	config := openSQLite(t, filepath.Join(w.Dir, "config.sqlite"))
	expired := time.Now().Add(-24 * time.Hour).Format("2006-01-02 15:04:05.000000")
	if _, err := config.Exec("INSERT INTO auth_sessions (id, token, last_access) VALUES (1, 'expired', ?)", expired); err != nil {
		t.Fatal(err)
	}
	config.Close()

	before := workspaceSums(t, w.Dir)
	if len(before) != 3 {
		t.Fatalf("workspace files %v, want config.sqlite and two products", slices.Sorted(maps.Keys(before)))
	}
	labels := []string{"--checker-labels", testutil.LabelsDir}
	dry := supervisor(t, w.Dir, "", nil, append([]string{"cleanup", "--dry-run"}, labels...)...)
	if dry.code != 0 {
		t.Fatalf("cleanup --dry-run: want exit 0\n%s", dry)
	}
	sameFiles(t, "after cleanup --dry-run", before, workspaceSums(t, w.Dir))
	if !strings.Contains(dry.stdout, "Garbage collection dry run: what would be removed or changed (nothing was written):") {
		t.Errorf("stdout lacks the dry run's summary heading\n%s", dry)
	}
	// Locks, Files, Contents, Comments, Analysis, Sets as the fixture README
	// counts them; Severity with the test labels (50, and 1 by deviation (c)).
	sample := cleanupCells(t, dry, "codechecker-sample")
	if want := []string{"3", "15", "17", "12", "5", "3", "51"}; !slices.Equal(sample, want) {
		t.Errorf("codechecker-sample would remove %q, want %q\n%s", sample, want, dry)
	}
	for _, want := range []string{
		"[codechecker-sample] Garbage collection dry run started",
		"[codechecker-sample] would remove unused files",
		"[codechecker-sample] Would upgrade severity level of 'memleak' checker from UNSPECIFIED to HIGH",
		"would remove expired login sessions from the config database: sessions=1",
	} {
		if !strings.Contains(dry.stderr, want) {
			t.Errorf("stderr lacks %q\n%s", want, dry.stderr)
		}
	}
	for _, bad := range []string{"removed unused files", "temporary index"} {
		if strings.Contains(dry.stderr, bad) {
			t.Errorf("stderr of the dry run says %q\n%s", bad, dry.stderr)
		}
	}

	js := supervisor(t, w.Dir, "", nil, append([]string{"cleanup", "--dry-run", "--json"}, labels...)...)
	if js.code != 0 {
		t.Fatalf("cleanup --dry-run --json: want exit 0\n%s", js)
	}
	sameFiles(t, "after cleanup --dry-run --json", before, workspaceSums(t, w.Dir))
	var doc struct {
		DryRun   bool `json:"dry_run"`
		Products []struct {
			Endpoint string `json:"endpoint"`
			Outcome  string `json:"outcome"`
			Cleanup  struct {
				Removed     map[string]int64 `json:"removed"`
				WouldRemove map[string]int64 `json:"would_remove"`
			} `json:"cleanup"`
		} `json:"products"`
		ExitCode int `json:"exit_code"`
	}
	if err := json.Unmarshal([]byte(js.stdout), &doc); err != nil {
		t.Fatalf("stdout is not the JSON document: %v\n%s", err, js)
	}
	if !doc.DryRun || doc.ExitCode != 0 || len(doc.Products) != 2 {
		t.Fatalf("document: dry_run %v, exit_code %d, %d products; want true, 0, 2\n%s", doc.DryRun, doc.ExitCode, len(doc.Products), js.stdout)
	}
	for _, p := range doc.Products {
		if p.Outcome != "ok" || p.Cleanup.Removed != nil || p.Cleanup.WouldRemove == nil {
			t.Errorf("%s: outcome %q, removed %v, would_remove %v; want ok, none, the counts", p.Endpoint, p.Outcome, p.Cleanup.Removed, p.Cleanup.WouldRemove)
		}
	}
	if got := doc.Products[0].Cleanup.WouldRemove; doc.Products[0].Endpoint != "codechecker-sample" || got["files"] != 15 || got["checker_set_items"] != 80 {
		t.Errorf("%s would_remove %v; want files 15, checker_set_items 80", doc.Products[0].Endpoint, got)
	}

	real := supervisor(t, w.Dir, "", nil, append([]string{"cleanup"}, labels...)...)
	if real.code != 0 {
		t.Fatalf("cleanup: want exit 0\n%s", real)
	}
	for _, e := range []string{"codechecker-sample", "libacme"} {
		if got, want := cleanupCells(t, real, e), cleanupCells(t, dry, e); !slices.Equal(got, want) {
			t.Errorf("%s: cleanup removed %q, the dry run counted %q", e, got, want)
		}
	}
	if !strings.Contains(real.stderr, "removed expired login sessions from the config database: sessions=1") {
		t.Errorf("the real cleanup did not remove the session the dry run counted\n%s", real.stderr)
	}
}

// pgTables is, for every table of the public schema, its row count and an
// MD5 of its rows: what a write of any kind would change.
func pgTables(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	tables := testutil.QueryStrings(t, db, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	out := map[string]string{}
	for _, table := range tables {
		var n int64
		var sum sql.NullString
		q := fmt.Sprintf(`SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM %q t`, table)
		if err := db.QueryRow(q).Scan(&n, &sum); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out[table] = fmt.Sprintf("%d rows, md5 %s", n, sum.String)
	}
	return out
}

// `cleanup --dry-run` on a PostgreSQL product registered with a role that
// may only read it: it counts (the role could not have written a row),
// every table keeps its rows, and the real cleanup, as the owner, removes
// what the dry run counted.
func TestE2ECleanupDryRunPostgres(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	w := newWorkspace(t)
	owner := clusterTarget(c, c.CreateDatabase(t, "product"))
	if _, err := workspace.MakeProduct(context.Background(), owner, "latest", fleet.Options{Reports: 300, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	reader := newPGRole(t, c, "reader")
	c.Exec(t, owner.Database, `GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader`)
	readOnly := owner
	readOnly.User, readOnly.Password = reader.User, reader.Password
	w.add(t, "pg", readOnly, "")
	w.Close()
	env := []string{"PGPASSFILE=" + writePassfile(t, readOnly, owner)}
	db := openDB(t, owner)
	if g := garbageLeft(t, db); g["files"] == 0 {
		t.Fatalf("the generated product has no garbage to count: %v", g)
	}

	before := pgTables(t, db)
	dry := supervisor(t, w.Dir, "", env, "cleanup", "--dry-run", "--checker-labels", testutil.LabelsDir)
	if dry.code != 0 {
		t.Fatalf("cleanup --dry-run as a read-only role: want exit 0\n%s", dry)
	}
	after := pgTables(t, db)
	for _, table := range slices.Sorted(maps.Keys(before)) {
		if after[table] != before[table] {
			t.Errorf("%s after the dry run: %s, was %s", table, after[table], before[table])
		}
	}
	counted := cleanupCells(t, dry, "pg")
	if counted[1] == "0" {
		t.Errorf("the dry run counts no files to remove: %q\n%s", counted, dry)
	}

	// The real cleanup needs a role that may write: the owner.
	config := openSQLite(t, filepath.Join(w.Dir, "config.sqlite"))
	if _, err := config.Exec(`UPDATE products SET connection = replace(connection, 'reader@', ?) WHERE endpoint = 'pg'`, owner.User+"@"); err != nil {
		t.Fatal(err)
	}
	config.Close()
	real := supervisor(t, w.Dir, "", env, "cleanup", "--checker-labels", testutil.LabelsDir)
	if real.code != 0 {
		t.Fatalf("cleanup as the owner: want exit 0\n%s", real)
	}
	if got := cleanupCells(t, real, "pg"); !slices.Equal(got, counted) {
		t.Errorf("cleanup removed %q, the dry run counted %q", got, counted)
	}
}
