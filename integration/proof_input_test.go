package integration

// Proof suite, bad input: a corrupted, truncated or missing config
// database; product databases that are not ours (a foreign SQLite file, one
// newer than the package); a worker binary that cannot be executed; checker
// label files that are not JSON. Each must be refused with a clear reason
// naming what is wrong, touch nothing it should not, and leave the healthy
// products of the same run done.
//
// Non-UTF-8 and 10 MB log lines: a worker of the real binary has no way to
// be made to print them (its lines are its own hclog JSON); the relay is
// tested with such lines by internal/supervise's tests, not here.

import (
	"bytes"
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supervisor/integration/workspace"
	"supervisor/internal/dbconn"
	"supervisor/internal/testutil"
)

// proofFiles records the bytes of files, to check later that none changed.
type proofFiles map[string][]byte

func proofRecord(t *testing.T, paths ...string) proofFiles {
	t.Helper()
	out := proofFiles{}
	for _, p := range paths {
		out[p] = proofFileBytes(t, p)
	}
	return out
}

func (f proofFiles) unchanged(pt *proofTrial, why string) {
	pt.Helper()
	for p, b := range f {
		pt.data(func() {
			got, err := os.ReadFile(p)
			if err != nil {
				pt.lost("%s: %v (%s)", p, err, why)
			} else if !bytes.Equal(got, b) {
				pt.lost("%s changed (%s)", p, why)
			}
		})
	}
}

func TestProofBadConfigDatabase(t *testing.T) {
	p := proofScenario(t, "bad-config-database")
	tp := sqliteTemplateWith(t, 200)
	for _, c := range []struct {
		name string
		// spoil damages the config database at path.
		spoil func(t *testing.T, path string)
		want  string
	}{
		{"random bytes", func(t *testing.T, path string) {
			b := make([]byte, 8192)
			rand.Read(b)
			os.WriteFile(path, b, 0o644)
		}, "file is not a database"},
		{"truncated", func(t *testing.T, path string) {
			b := proofFileBytes(t, path)
			os.WriteFile(path, b[:len(b)/3], 0o644)
		}, "malformed"},
		{"missing", func(t *testing.T, path string) { os.Remove(path) }, "no config database"},
	} {
		p.trial(t, c.name, func(pt *proofTrial) {
			w := newWorkspace(pt.T)
			prod := w.addSQLite(pt.T, "p", tp)
			w.Close()
			cfg := filepath.Join(w.Dir, "config.sqlite")
			c.spoil(pt.T, cfg)
			var files proofFiles
			if c.name == "missing" {
				files = proofRecord(pt.T, prod)
			} else {
				files = proofRecord(pt.T, prod, cfg)
			}
			for _, args := range [][]string{{"migrate", "-y"}, {"cleanup", "--checker-labels", testutil.LabelsDir}, {"up", "-y"}, {"status"}, {"products", "list"}} {
				res := supervisor(pt.T, w.Dir, "", nil, args...)
				msg := strings.TrimSpace(res.stderr)
				if res.code != 2 || !strings.Contains(msg, c.want) || strings.Count(msg, "\n") > 0 || res.stdout != "" {
					pt.Errorf("%q: want exit 2 and one line saying %q, nothing on stdout\n%s", args, c.want, res)
				}
				if !strings.Contains(msg, cfg) {
					pt.Errorf("%q: the message does not name the config database %s: %q", args, cfg, msg)
				}
			}
			files.unchanged(pt, "a run refused for its config database")
			if c.name == "missing" {
				if _, err := os.Stat(cfg); err == nil {
					pt.Errorf("a run with no config database created one")
				}
			}
		})
	}
}

func TestProofForeignAndNewerDatabases(t *testing.T) {
	p := proofScenario(t, "foreign-and-newer-databases")
	tp := sqliteTemplateWith(t, 200)
	ct := proofSQLiteCleanupTemplate(t, "sample")
	p.trial(t, "sqlite", func(pt *proofTrial) {
		w := newWorkspace(pt.T)
		healthy := w.addSQLite(pt.T, "healthy", tp)
		// Somebody else's database: tables that are not ours.
		foreign := filepath.Join(w.Dir, "foreign.sqlite")
		db := openDBWith(pt.T, sqliteTarget(foreign), dbconn.Options{Create: true})
		execSQL(pt.T, db, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)", "INSERT INTO invoices VALUES (1, 9.5)")
		db.Close()
		w.add(pt.T, "foreign", sqliteTarget(foreign), "")
		// A database migrated by a newer supervisor: version 999 recorded.
		newer := w.addSQLite(pt.T, "newer", tp)
		db = openSQLite(pt.T, newer)
		execSQL(pt.T, db, `INSERT INTO atlas_schema_revisions (version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version)
			SELECT '999', 'from the future', type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, 'supervisor 99.0' FROM atlas_schema_revisions WHERE version = '001'`)
		db.Close()
		// The same at the latest version with garbage, for cleanup.
		newerC := filepath.Join(w.Dir, "newer-c.sqlite")
		if err := workspace.CopyFile(ct.path, newerC); err != nil {
			pt.Fatal(err)
		}
		db = openSQLite(pt.T, newerC)
		execSQL(pt.T, db, `INSERT INTO atlas_schema_revisions (version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version)
			SELECT '999', 'from the future', type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, 'supervisor 99.0' FROM atlas_schema_revisions WHERE version = '001'`)
		db.Close()
		w.add(pt.T, "newer-c", sqliteTarget(newerC), "")
		files := proofRecord(pt.T, foreign, newer, newerC)

		res := supervisor(pt.T, w.Dir, "", nil, "migrate", "-y")
		pt.Logf("migrate:\n%s", res.stdout)
		if res.code != 1 {
			pt.Errorf("migrate: exit %d, want 1\n%s", res.code, res)
		}
		tables := tablesOf(res.stdout)
		if len(tables) == 0 {
			pt.Fatalf("no status table\n%s", res)
		}
		rows := byEndpoint(pt.T, tables[0])
		for e, want := range map[string]string{"foreign": "Database schema mismatch! NOT possible to upgrade.", "newer": "Database schema mismatch! NOT possible to upgrade.", "newer-c": "Database schema mismatch! NOT possible to upgrade."} {
			if got := rows[e]; len(got) < 2 || got[1] != want {
				pt.Errorf("%s: status %q, want %q", e, got, want)
			}
		}
		if line := summaryLine(res.stdout, "healthy"); !strings.HasSuffix(strings.TrimSpace(line), "ok") {
			pt.Errorf("healthy: %q", line)
		}
		st := supervisor(pt.T, w.Dir, "", nil, "status", "--json")
		for _, row := range statusJSON(pt.T, st) {
			pt.Logf("status %s: %s: %s", row.Endpoint, row.Status, row.Reason)
			if row.Endpoint == "newer" && !strings.Contains(row.Reason, "999") {
				pt.Errorf("newer: the reason %q does not name version 999", row.Reason)
			}
		}
		cres := supervisor(pt.T, w.Dir, "", nil, "cleanup", "--checker-labels", testutil.LabelsDir)
		if cres.code != 1 {
			pt.Errorf("cleanup: exit %d, want 1\n%s", cres.code, cres)
		}
		for _, e := range []string{"foreign", "newer", "newer-c"} {
			if line, _ := lastRowJoined(cres.stdout, e); !strings.Contains(line, "not attempted") {
				pt.Errorf("cleanup of %s: %q, want not attempted", e, line)
			}
		}
		files.unchanged(pt, "a database that is not ours, or newer than the package")
		// The healthy product was migrated and cleaned beside them.
		pt.data(func() {
			db := openSQLite(pt.T, healthy)
			defer db.Close()
			proofSQLiteIntact(pt, db, "healthy")
			if v := proofRevisionsVersion(pt, db, "healthy"); v != "002" {
				pt.Errorf("healthy at %s, want 002", v)
			}
		})
	})
}

// TestProofWorkerNotExecutable runs a copy of the binary and, while it asks
// its questions (before any worker starts), makes that copy non-executable:
// the re-exec of every worker fails. Each product must fail with a reason
// that says so, nothing be touched, and the supervisor exit 1.
func TestProofWorkerNotExecutable(t *testing.T) {
	p := proofScenario(t, "worker-not-executable")
	tp := sqliteTemplateWith(t, 200)
	p.trial(t, "chmod", func(pt *proofTrial) {
		w := newWorkspace(pt.T)
		a, b := w.addSQLite(pt.T, "a", tp), w.addSQLite(pt.T, "b", tp)
		files := proofRecord(pt.T, a, b)
		bin := filepath.Join(pt.TempDir(), "supervisor-copy")
		if err := workspace.CopyFile(supervisorBin, bin); err != nil {
			pt.Fatal(err)
		}
		os.Chmod(bin, 0o755)
		cmd := exec.Command(bin, "-w", w.Dir, "migrate")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			pt.Fatal(err)
		}
		out, errb := &lockedBuffer{}, &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = out, errb
		if err := cmd.Start(); err != nil {
			pt.Fatal(err)
		}
		defer cmd.Process.Kill()
		deadline := time.Now().Add(time.Minute)
		for !strings.Contains(out.String(), "Do you want to upgrade 'a'") {
			if time.Now().After(deadline) {
				pt.Fatalf("no question after a minute\n%s%s", out, errb)
			}
			time.Sleep(5 * time.Millisecond)
		}
		// Not executable by anyone, root included (no x bit at all).
		if err := os.Chmod(bin, 0o644); err != nil {
			pt.Fatal(err)
		}
		io.WriteString(stdin, "y\ny\n")
		stdin.Close()
		err = cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		res := result{stdout: out.String(), stderr: errb.String(), code: code}
		if code != 1 {
			pt.Errorf("exit %d, want 1\n%s", code, res)
		}
		for _, e := range []string{"a", "b"} {
			reason := proofOneLineReason(pt.T, res, e)
			pt.Logf("%s: %s", e, reason)
			if !strings.Contains(reason, "permission denied") {
				pt.Errorf("%s: the reason %q does not say the worker could not be started (permission denied)", e, reason)
			}
		}
		files.unchanged(pt, "no worker could run")
	})
}

// TestProofMalformedLabels: cleanup with a checker label directory whose
// files are not JSON (or are JSON of the wrong shape) refuses with a reason
// naming the file, and touches no product.
func TestProofMalformedLabels(t *testing.T) {
	p := proofScenario(t, "malformed-labels")
	ct := proofSQLiteCleanupTemplate(t, "sample")
	for _, c := range []struct{ name, content string }{
		{"not json", "{ this is not json"},
		{"wrong shape", `{"labels": "severity:HIGH"}`},
		{"empty", ""},
		{"binary", "\xff\xfe\x00\x01garbage"},
	} {
		p.trial(t, c.name, func(pt *proofTrial) {
			w := newWorkspace(pt.T)
			path := filepath.Join(w.Dir, "p.sqlite")
			if err := workspace.CopyFile(ct.path, path); err != nil {
				pt.Fatal(err)
			}
			w.add(pt.T, "p", sqliteTarget(path), "")
			labels := filepath.Join(pt.TempDir(), "labels")
			os.MkdirAll(filepath.Join(labels, "analyzers"), 0o755)
			good, _ := filepath.Glob(filepath.Join(testutil.LabelsDir, "analyzers", "*.json"))
			for _, g := range good {
				workspace.CopyFile(g, filepath.Join(labels, "analyzers", filepath.Base(g)))
			}
			bad := filepath.Join(labels, "analyzers", "clangsa.json")
			os.WriteFile(bad, []byte(c.content), 0o644)
			files := proofRecord(pt.T, path)
			res := supervisor(pt.T, w.Dir, "", nil, "cleanup", "--checker-labels", labels)
			msg := res.stderr + res.stdout
			pt.Logf("exit %d: %s", res.code, strings.TrimSpace(res.stderr))
			if res.code != 2 || strings.Count(strings.TrimSpace(res.stderr), "\n") > 0 {
				pt.Errorf("cleanup with a malformed label file: want exit 2 (bad configuration, nothing touched) and one line\n%s", res)
			}
			if !strings.Contains(msg, "clangsa.json") {
				pt.Errorf("the reason does not name the bad file clangsa.json\n%s", res)
			}
			files.unchanged(pt, "cleanup refused for its labels")
		})
	}
}
