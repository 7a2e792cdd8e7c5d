package cleanup

import (
	"context"
	"database/sql"
	"testing"

	"supervisor/internal/dbconn"
	"supervisor/internal/labels"
	"supervisor/internal/testutil"
)

// cleanedSample is a copy of the sample with its garbage collected, its
// (live, 2099) run locks removed and its one invalid stored severity (25,
// which every cleanup warns about) made UNSPECIFIED: nothing left for Run
// to do or say.
func cleanedSample(t *testing.T) string { return cleanedSampleTB(t) }

func cleanedSampleTB(tb testing.TB) string {
	tb.Helper()
	path := copySample(tb)
	db := openSQLite(tb, path)
	runCleanup(tb, db, loadFixtureLabels(tb))
	execSQL(tb, db, "DELETE FROM run_locks")
	execSQL(tb, db, "UPDATE checkers SET severity = 0 WHERE severity = 25")
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// pending runs Pending on path opened read-only, as the supervisor opens it.
func pending(t *testing.T, path string, lab *labels.Labels) string {
	t.Helper()
	db, err := dbconn.Open(context.Background(), dbconn.Target{Dialect: dbconn.SQLite, Path: path}, dbconn.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	what, err := Pending(context.Background(), db, Options{Dialect: dbconn.SQLite, Labels: lab})
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	return what
}

// TestPendingAgreesWithTheDryRun: on a product with nothing to collect
// Pending says so, and with each kind of garbage added (one at a time) it
// names it, and the dry run (Run's own counts) finds something too: the
// check never says "nothing" where the cleanup would do something. Two
// things are something to Pending only: a live run lock (Run's answer
// depends on the clock) and an invalid stored severity (Run changes
// nothing, but warns about it every time).
func TestPendingAgreesWithTheDryRun(t *testing.T) {
	lab := loadFixtureLabels(t)
	base := cleanedSample(t)
	if got := pending(t, base, lab); got != "" {
		t.Fatalf("Pending on the cleaned sample = %q, want nothing", got)
	}
	if got, _ := dryRun(t, openSQLite(t, base), dbconn.SQLite); sum(got) != 0 {
		t.Fatalf("dry run on the cleaned sample = %v, want nothing", got)
	}
	for _, c := range []struct {
		name, want string
		garbage    []string
		// only: the check's alone, the dry run finds nothing.
		only bool
	}{
		{"expired run lock", "run locks", []string{`INSERT INTO run_locks VALUES ('r', '2020-01-01 00:00:00.000000', 'u')`}, false},
		{"live run lock", "run locks", []string{`INSERT INTO run_locks VALUES ('r', '2099-01-01 00:00:00.000000', 'u')`}, true},
		{"unused file", "unused files", []string{`INSERT INTO file_contents (content_hash) VALUES ('h-new')`, `INSERT INTO files (id, filepath, filename, content_hash) VALUES (999001, '/x/new.c', 'new.c', 'h-new')`}, false},
		{"unused file content", "unused file contents", []string{`INSERT INTO file_contents (content_hash) VALUES ('h-lonely')`}, false},
		{"unused comment", "unused comments", []string{`INSERT INTO comments (id, bug_hash, author, message, created_at) VALUES (999001, 'no-such-bug', 'a', x'00', '2020-01-01 00:00:00')`}, false},
		{"unused analysis info", "unused analysis info", []string{`INSERT INTO analysis_info (id, analyzer_command) VALUES (999001, x'00')`}, false},
		{"unused checker set", "unused checker sets", []string{`INSERT INTO checker_set (id, hash_digest) VALUES (999001, 'digest-new')`}, false},
		{"severity to upgrade", "checker severities", []string{`UPDATE checkers SET severity = 10 WHERE analyzer_name = 'cppcheck' AND checker_name = 'memleak'`}, false},
		{"invalid stored severity", "checker severities", []string{`UPDATE checkers SET severity = 25 WHERE analyzer_name = 'clangsa' AND checker_name = 'optin.acme.LegacyChecker'`}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := t.TempDir() + "/product.sqlite"
			testutil.CopyFile(t, base, path)
			db := openSQLite(t, path)
			for _, q := range c.garbage {
				execSQL(t, db, q)
			}
			if got := pending(t, path, lab); got != c.want {
				t.Errorf("Pending = %q, want %q", got, c.want)
			}
			if got, _ := dryRun(t, db, dbconn.SQLite); (sum(got) > 0) == c.only {
				t.Errorf("dry run = %v; want something to do: %v", got, !c.only)
			}
		})
	}
}

// TestPendingWithoutLabelsLeavesSeveritiesAlone: with no labels the
// severity upgrade is skipped, so a severity the labels would change is
// nothing to do.
func TestPendingWithoutLabelsLeavesSeveritiesAlone(t *testing.T) {
	path := cleanedSample(t)
	execSQL(t, openSQLite(t, path), `UPDATE checkers SET severity = 10 WHERE analyzer_name = 'cppcheck' AND checker_name = 'memleak'`)
	if got := pending(t, path, nil); got != "" {
		t.Errorf("Pending without labels = %q, want nothing", got)
	}
	if got := pending(t, path, loadFixtureLabels(t)); got != "checker severities" {
		t.Errorf("Pending with labels = %q, want checker severities", got)
	}
}

// TestPendingOnTheSampleWritesNothing: the sample has garbage of every
// kind; Pending finds the first (its run locks) and leaves the file as it
// was.
func TestPendingOnTheSampleWritesNothing(t *testing.T) {
	path := copySample(t)
	before := fileSum(t, path)
	if got := pending(t, path, loadFixtureLabels(t)); got != "run locks" {
		t.Errorf("Pending on the sample = %q, want run locks", got)
	}
	if got := fileSum(t, path); got != before {
		t.Errorf("sha256 after Pending = %s, want %s (unchanged)", got, before)
	}
	noSidecars(t, path)
}

// TestPendingBadOptions: no database, no dialect.
func TestPendingBadOptions(t *testing.T) {
	if _, err := Pending(context.Background(), nil, Options{Dialect: dbconn.SQLite}); err == nil {
		t.Error("Pending(nil database): no error")
	}
	if _, err := Pending(context.Background(), &sql.DB{}, Options{}); err == nil {
		t.Error("Pending(no dialect): no error")
	}
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// TestPostgresPending: on PostgreSQL, as a role that may only read, Pending
// finds the sample's garbage and, once it is collected, nothing; each
// kind added back is found again.
func TestPostgresPending(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	pg, asReader := pgSampleWithReader(t)
	exec := func(q string) {
		t.Helper()
		if _, err := pg.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	lab := loadFixtureLabels(t)
	check := func() string {
		t.Helper()
		what, err := Pending(context.Background(), asReader, Options{Dialect: dbconn.Postgres, Labels: lab})
		if err != nil {
			t.Fatalf("Pending: %v", err)
		}
		return what
	}
	if got := check(); got != "run locks" {
		t.Errorf("Pending on the sample = %q, want run locks", got)
	}
	if _, err := Run(context.Background(), pg, Options{Dialect: dbconn.Postgres, Labels: lab, Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	exec(`DELETE FROM run_locks; UPDATE checkers SET severity = 0 WHERE severity = 25;`)
	if got := check(); got != "" {
		t.Errorf("Pending after the cleanup = %q, want nothing", got)
	}
	for _, g := range []struct{ want, add, undo string }{
		{"unused comments", `INSERT INTO comments (id, bug_hash, author, message, created_at) VALUES (999001, 'no-such-bug', 'a', '\x00', now())`, `DELETE FROM comments WHERE id = 999001`},
		{"unused analysis info", `INSERT INTO analysis_info (id, analyzer_command) VALUES (999001, '\x00')`, `DELETE FROM analysis_info WHERE id = 999001`},
		{"checker severities", `UPDATE checkers SET severity = 10 WHERE analyzer_name = 'cppcheck' AND checker_name = 'memleak'`, `UPDATE checkers SET severity = 40 WHERE analyzer_name = 'cppcheck' AND checker_name = 'memleak'`},
	} {
		exec(g.add)
		if got := check(); got != g.want {
			t.Errorf("Pending after %s = %q, want %q", g.add, got, g.want)
		}
		exec(g.undo)
	}
}

// BenchmarkPending is the supervisor's cost per product of the garbage
// check: on the sample it stops at the first thing found, on the cleaned
// sample it asks every question (the cost a clean product pays instead of
// a worker).
func BenchmarkPending(b *testing.B) {
	lab := loadFixtureLabels(b)
	for _, c := range []struct{ name, path string }{{"sample", copySample(b)}, {"clean", cleanedSampleTB(b)}} {
		b.Run(c.name, func(b *testing.B) {
			db, err := dbconn.Open(context.Background(), dbconn.Target{Dialect: dbconn.SQLite, Path: c.path}, dbconn.Options{ReadOnly: true})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			for b.Loop() {
				if _, err := Pending(context.Background(), db, Options{Dialect: dbconn.SQLite, Labels: lab}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
