package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"supervisor/internal/testutil"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/cleanup"
	"supervisor/internal/dbconn"
	"supervisor/internal/event"
	"supervisor/internal/job"
	"supervisor/internal/labels"
	"supervisor/internal/migrate"
	"supervisor/internal/status"
	"supervisor/internal/worker"
	"supervisor/schema"
)

// latest is the newest packaged product version for SQLite.
func latest(t *testing.T) string {
	t.Helper()
	v, err := migrate.LatestVersion(schema.Product, dbconn.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// productAt makes a SQLite product database at version v.
func productAt(t *testing.T, v string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.sqlite")
	db, err := dbconn.Open(context.Background(), dbconn.Target{Dialect: dbconn.SQLite, Path: path}, dbconn.Options{Create: true, ImmediateTx: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := migrate.Upgrade(context.Background(), db, dbconn.SQLite, schema.Product, migrate.Options{ToVersion: v}); err != nil {
		t.Fatal(err)
	}
	return path
}

// inspect reads where the SQLite database at path stands.
func inspect(t *testing.T, path string) migrate.State {
	t.Helper()
	db, err := dbconn.Open(context.Background(), dbconn.Target{Dialect: dbconn.SQLite, Path: path}, dbconn.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := migrate.Inspect(context.Background(), db, dbconn.SQLite, schema.Product)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func garbageFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "garbage.sqlite")
	if err := os.WriteFile(path, []byte(strings.Repeat("no database here \x00\x01\xfe", 400)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func spec(action job.Action, path string) job.Spec {
	return job.Spec{Action: action, Endpoint: "prod-1", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: path},
		Options: job.Options{LockTimeout: 5 * time.Second}}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	v := latest(t)
	tests := []struct {
		name        string
		path        func(t *testing.T) string
		wantOK      bool
		wantStatus  status.Status
		wantFrom    string
		wantTo      string
		wantApplied int
		wantErr     string
		wantVersion string // the database's version afterwards; "" = don't look
	}{
		{
			name: "new file is initialised",
			path: func(t *testing.T) string {
				// In a directory that does not exist yet: migrate makes it.
				return filepath.Join(t.TempDir(), "sub", "dir", "new.sqlite")
			},
			wantOK: true, wantStatus: status.OK, wantTo: v, wantApplied: 2, wantVersion: v,
		},
		{
			name:   "CodeChecker database is adopted",
			path:   func(t *testing.T) string { return testutil.CopyFixture(t, "product-head.sqlite") },
			wantOK: true, wantStatus: status.OK, wantFrom: "b1be74589382 (CodeChecker)", wantTo: v, wantApplied: 1, wantVersion: v,
		},
		{
			name:   "at 001",
			path:   func(t *testing.T) string { return productAt(t, "001") },
			wantOK: true, wantStatus: status.OK, wantFrom: "001", wantTo: v, wantApplied: 1, wantVersion: v,
		},
		{
			name:   "up to date",
			path:   func(t *testing.T) string { return productAt(t, "") },
			wantOK: true, wantStatus: status.OK, wantFrom: v, wantTo: v, wantApplied: 0, wantVersion: v,
		},
		{
			name:   "random bytes",
			path:   garbageFile,
			wantOK: false, wantStatus: status.FailedToConnect, wantErr: "not a database",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tt.path(t)
			got := worker.Run(context.Background(), spec(job.ActionMigrate, path), hclog.NewNullLogger())
			if got.OK != tt.wantOK || got.Status != tt.wantStatus {
				t.Errorf("OK, Status = %v, %q (error %q), want %v, %q", got.OK, got.Status, got.Error, tt.wantOK, tt.wantStatus)
			}
			if got.FromVersion != tt.wantFrom || got.ToVersion != tt.wantTo {
				t.Errorf("versions %q -> %q, want %q -> %q", got.FromVersion, got.ToVersion, tt.wantFrom, tt.wantTo)
			}
			if got.Applied != tt.wantApplied {
				t.Errorf("Applied = %d, want %d", got.Applied, tt.wantApplied)
			}
			if tt.wantErr == "" && got.Error != "" {
				t.Errorf("Error = %q, want none", got.Error)
			}
			if !strings.Contains(got.Error, tt.wantErr) {
				t.Errorf("Error = %q, want it to contain %q", got.Error, tt.wantErr)
			}
			if tt.wantVersion != "" {
				if st := inspect(t, path); st.Status != status.OK || st.DBVersion != tt.wantVersion {
					t.Errorf("database afterwards: %s at %q, want ok at %q", st.Status, st.DBVersion, tt.wantVersion)
				}
			}
		})
	}
}

// A job with ToVersion stops there: the database is at that version, ok,
// its status still upgradable; at or past it, nothing is applied.
func TestMigrateToVersionStopsThere(t *testing.T) {
	t.Parallel()
	v := latest(t)
	tests := []struct {
		name        string
		path        func(t *testing.T) string
		wantStatus  status.Status
		wantTo      string
		wantApplied int
		wantVersion string
	}{
		{"new file to 001", func(t *testing.T) string { return filepath.Join(t.TempDir(), "new.sqlite") },
			status.SchemaMismatchOK, "001", 1, "001"},
		{"CodeChecker database adopted, to 001", func(t *testing.T) string { return testutil.CopyFixture(t, "product-head.sqlite") },
			status.SchemaMismatchOK, "001", 0, "001"},
		{"at 001 already", func(t *testing.T) string { return productAt(t, "001") },
			status.SchemaMismatchOK, "001", 0, "001"},
		{"up to date, past 001", func(t *testing.T) string { return productAt(t, "") },
			status.OK, v, 0, v},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tt.path(t)
			s := spec(job.ActionMigrate, path)
			s.Options.ToVersion = "001"
			got := worker.Run(context.Background(), s, hclog.NewNullLogger())
			if !got.OK || got.Status != tt.wantStatus || got.ToVersion != tt.wantTo || got.Applied != tt.wantApplied {
				t.Errorf("OK %v, Status %q, To %q, Applied %d (error %q), want ok, %q, %q, %d",
					got.OK, got.Status, got.ToVersion, got.Applied, got.Error, tt.wantStatus, tt.wantTo, tt.wantApplied)
			}
			if st := inspect(t, path); st.DBVersion != tt.wantVersion {
				t.Errorf("database afterwards at %q, want %q", st.DBVersion, tt.wantVersion)
			}
		})
	}
}

// exec runs statements on the SQLite database at path, creating it if need be.
func exec(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := dbconn.Open(context.Background(), dbconn.Target{Dialect: dbconn.SQLite, Path: path}, dbconn.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// A database that is not upgradable keeps its status word and a reason, and
// migrate leaves it alone.
func TestMigrateNotUpgradable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		path    func(t *testing.T) string
		wantErr string
	}{
		{
			name: "tables but no schema version",
			path: func(t *testing.T) string {
				path := filepath.Join(t.TempDir(), "other.sqlite")
				exec(t, path, "CREATE TABLE foo (id INTEGER PRIMARY KEY)")
				return path
			},
		},
		{
			name: "older CodeChecker revision",
			path: func(t *testing.T) string {
				path := testutil.CopyFixture(t, "product-head.sqlite")
				exec(t, path, "UPDATE alembic_version SET version_num = 'a7f3c8e21b90'")
				return path
			},
			wantErr: "a7f3c8e21b90",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tt.path(t)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := worker.Run(context.Background(), spec(job.ActionMigrate, path), hclog.NewNullLogger())
			if got.OK || got.Status != status.SchemaMismatchNo || got.Error == "" {
				t.Errorf("OK, Status, Error = %v, %q, %q; want false, %q and a reason", got.OK, got.Status, got.Error, status.SchemaMismatchNo)
			}
			if !strings.Contains(got.Error, tt.wantErr) {
				t.Errorf("Error = %q, want it to name %q", got.Error, tt.wantErr)
			}
			if got.Applied != 0 {
				t.Errorf("Applied = %d, want 0", got.Applied)
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Error("migrate changed a database it cannot upgrade")
			}
		})
	}
}

func TestCleanup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		path       func(t *testing.T) string
		wantOK     bool
		wantStatus status.Status
		wantErr    string // exact
		wantPart   string // contained
	}{
		{
			name:   "up to date",
			path:   func(t *testing.T) string { return productAt(t, "") },
			wantOK: true, wantStatus: status.OK,
		},
		{
			name:       "at 001",
			path:       func(t *testing.T) string { return productAt(t, "001") },
			wantStatus: status.SchemaMismatchOK,
			wantErr:    `Cleanup not attempted, database status is "Database schema mismatch! Possible to upgrade."`,
		},
		{
			name:       "CodeChecker database not adopted yet",
			path:       func(t *testing.T) string { return testutil.CopyFixture(t, "product-head.sqlite") },
			wantStatus: status.SchemaMismatchOK,
			wantErr:    `Cleanup not attempted, database status is "Database schema mismatch! Possible to upgrade."`,
		},
		{
			name:       "missing",
			path:       func(t *testing.T) string { return filepath.Join(t.TempDir(), "gone.sqlite") },
			wantStatus: status.Missing,
			wantErr:    `Cleanup not attempted, database status is "Database is missing."`,
		},
		{
			name: "empty file",
			path: func(t *testing.T) string {
				p := filepath.Join(t.TempDir(), "empty.sqlite")
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				return p
			},
			wantStatus: status.SchemaMissing,
			wantErr:    `Cleanup not attempted, database status is "Database schema is missing."`,
		},
		{
			name:       "random bytes",
			path:       garbageFile,
			wantStatus: status.FailedToConnect,
			wantPart:   "not a database",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tt.path(t)
			_, statErr := os.Stat(path)
			var before []byte
			if statErr == nil {
				before, _ = os.ReadFile(path)
			}
			got := worker.Run(context.Background(), spec(job.ActionCleanup, path), hclog.NewNullLogger())
			if got.OK != tt.wantOK || got.Status != tt.wantStatus {
				t.Errorf("OK, Status = %v, %q (error %q), want %v, %q", got.OK, got.Status, got.Error, tt.wantOK, tt.wantStatus)
			}
			switch {
			case tt.wantPart != "":
				if !strings.Contains(got.Error, tt.wantPart) {
					t.Errorf("Error = %q, want it to contain %q", got.Error, tt.wantPart)
				}
			case got.Error != tt.wantErr:
				t.Errorf("Error = %q, want %q", got.Error, tt.wantErr)
			}
			if tt.wantOK {
				var keys []string
				for k := range got.Removed {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				want := slices.Sorted(slices.Values(cleanup.Keys))
				if !slices.Equal(keys, want) {
					t.Errorf("Removed has keys %q, want every key %q", keys, want)
				}
				v := latest(t)
				if got.FromVersion != v || got.ToVersion != v {
					t.Errorf("versions %q -> %q, want %q -> %q (cleanup never changes the schema)", got.FromVersion, got.ToVersion, v, v)
				}
				return
			}
			if got.Removed != nil {
				t.Errorf("Removed = %v for a cleanup not done, want none", got.Removed)
			}
			// Cleanup never creates nor changes a database it cannot clean.
			if _, err := os.Stat(path); errors.Is(statErr, os.ErrNotExist) != errors.Is(err, os.ErrNotExist) {
				t.Errorf("cleanup changed whether %s exists (before: %v, after: %v)", path, statErr, err)
			}
			if statErr == nil {
				if after, _ := os.ReadFile(path); string(after) != string(before) {
					t.Error("cleanup changed a database it did not clean")
				}
			}
		})
	}
}

// A checker label directory that cannot be read fails the job before any
// garbage is collected.
func TestCleanupBadCheckerLabels(t *testing.T) {
	t.Parallel()
	s := spec(job.ActionCleanup, productAt(t, ""))
	s.Options.CheckerLabels = filepath.Join(t.TempDir(), "no-such-labels")
	got := worker.Run(context.Background(), s, hclog.NewNullLogger())
	if got.OK || !strings.HasPrefix(got.Error, "checker labels: ") {
		t.Errorf("OK, Error = %v, %q; want false, \"checker labels: ...\"", got.OK, got.Error)
	}
	if got.Removed != nil {
		t.Errorf("Removed = %v, want nothing removed", got.Removed)
	}
}

func TestCleanupWithCheckerLabels(t *testing.T) {
	t.Parallel()
	s := spec(job.ActionCleanup, productAt(t, ""))
	s.Options.CheckerLabels = testutil.LabelsDir
	got := worker.Run(context.Background(), s, hclog.NewNullLogger())
	if !got.OK || got.Error != "" {
		t.Errorf("OK, Error = %v, %q; want true, none", got.OK, got.Error)
	}
}

func TestUnknownAction(t *testing.T) {
	t.Parallel()
	for _, a := range []job.Action{"", "vacuum", "MIGRATE"} {
		path := productAt(t, "001")
		got := worker.Run(context.Background(), spec(a, path), hclog.NewNullLogger())
		if got.OK || got.Error != `unknown action "`+string(a)+`"` {
			t.Errorf("action %q: OK, Error = %v, %q; want false, unknown action", a, got.OK, got.Error)
		}
		if st := inspect(t, path); st.DBVersion != "001" {
			t.Errorf("action %q: database moved to %q, want it left at 001", a, st.DBVersion)
		}
	}
}

// A cancelled job says why in its error, and does not claim success.
func TestMigrateCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("supervisor said stop"))
	path := productAt(t, "001")
	got := worker.Run(ctx, spec(job.ActionMigrate, path), hclog.NewNullLogger())
	if got.OK {
		t.Fatalf("a cancelled migrate reported OK: %+v", got)
	}
	if !strings.Contains(got.Error, "(supervisor said stop)") {
		t.Errorf("Error = %q, want the cancel cause in it", got.Error)
	}
	if st := inspect(t, path); st.DBVersion != "001" {
		t.Errorf("database at %q after a cancelled migrate, want 001", st.DBVersion)
	}
}

// Another connection holding the database's lock longer than the lock
// timeout fails the job soon after the timeout, and says why.
func TestLockTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		action  job.Action
		wantErr string
	}{
		{job.ActionMigrate, "timed out waiting for the database lock (300ms): the database is locked by another process"},
		{job.ActionCleanup, "timed out waiting for the database lock (300ms): the database is locked by another process"},
	}
	for _, tt := range tests {
		t.Run(string(tt.action), func(t *testing.T) {
			t.Parallel()
			path := productAt(t, "")
			if tt.action == job.ActionMigrate {
				path = productAt(t, "001")
			}
			testutil.HoldSQLiteLock(t, path)
			s := spec(tt.action, path)
			s.Options.LockTimeout = 300 * time.Millisecond
			start := time.Now()
			got := worker.Run(context.Background(), s, hclog.NewNullLogger())
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v with a 300ms lock timeout", took)
			}
			if got.OK || !strings.Contains(got.Error, tt.wantErr) {
				t.Errorf("OK, Error = %v, %q; want false and %q", got.OK, got.Error, tt.wantErr)
			}
			// The lock is shared by migrate and cleanup: waiting for it
			// says nothing of who holds it for what.
			if strings.Contains(got.Error, "migrat") {
				t.Errorf("Error = %q, claims a migration holds the lock", got.Error)
			}
		})
	}
}

// The sample CodeChecker database through the worker: migrate adopts and
// upgrades it, cleanup then removes exactly the garbage the fixture README
// counts, and a second cleanup finds nothing left.
func TestSampleMigrateThenCleanup(t *testing.T) {
	t.Parallel()
	path := testutil.CopyFixture(t, "product-sample.sqlite")
	m := worker.Run(context.Background(), spec(job.ActionMigrate, path), hclog.NewNullLogger())
	if !m.OK || m.Applied != 1 {
		t.Fatalf("migrate: OK %v, Applied %d, Error %q; want true, 1", m.OK, m.Applied, m.Error)
	}
	s := spec(job.ActionCleanup, path)
	s.Options.CheckerLabels = testutil.LabelsDir
	want := map[string]int64{
		cleanup.KeyRunLocks:             3,
		cleanup.KeyFiles:                15,
		cleanup.KeyFileContents:         17,
		cleanup.KeyComments:             12,
		cleanup.KeyAnalysisInfo:         5,
		cleanup.KeyCheckerSet:           3,
		cleanup.KeyCheckerSetItems:      80,
		cleanup.KeyExtendedReportData:   1,
		cleanup.KeySourceComponentFiles: 2,
		cleanup.KeySeverities:           51,
	}
	for round := 1; round <= 2; round++ {
		got := worker.Run(context.Background(), s, hclog.NewNullLogger())
		if !got.OK || got.Error != "" {
			t.Fatalf("cleanup round %d: OK %v, Error %q", round, got.OK, got.Error)
		}
		if !maps.Equal(got.Removed, want) {
			t.Errorf("cleanup round %d: Removed = %v, want %v", round, got.Removed, want)
		}
		for k := range want {
			want[k] = 0
		}
	}
	if st := inspect(t, path); st.Status != status.OK {
		t.Errorf("after cleanup the database is %s (%s), want ok", st.Status, st.Reason)
	}
}

// jsonLog is a worker's JSON log stream in a buffer, and the events on it.
type jsonLog struct{ buf strings.Builder }

func (l *jsonLog) logger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: &l.buf, JSONFormat: true})
}

func (l *jsonLog) events(t *testing.T) []event.Event {
	t.Helper()
	var out []event.Event
	for line := range strings.Lines(l.buf.String()) {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if e, ok := event.Decode(time.Time{}, fields); ok {
			out = append(out, e)
		}
	}
	return out
}

// A migration says, as events, each file it starts and commits: file i of
// n, with its version, where n is what was pending when the state was read.
func TestMigrateEmitsFileEvents(t *testing.T) {
	t.Parallel()
	path := productAt(t, "")
	st := inspect(t, path)
	var log jsonLog
	got := worker.Run(context.Background(), spec(job.ActionMigrate, path), log.logger())
	if !got.OK {
		t.Fatalf("migrate: %+v", got)
	}
	var files []string
	n := len(st.Pending)
	for _, e := range log.events(t) {
		switch e.Kind {
		case event.FileStarted, event.FileApplied:
			if e.Total != n {
				t.Errorf("%s %s: total %d, want %d", e.Kind, e.Version, e.Total, n)
			}
			files = append(files, fmt.Sprintf("%s %d %s", e.Kind, e.Index, e.Version))
		}
	}
	var want []string
	for i, f := range st.Pending {
		want = append(want, fmt.Sprintf("file_started %d %s", i+1, f.Version()), fmt.Sprintf("file_applied %d %s", i+1, f.Version()))
	}
	if !slices.Equal(files, want) {
		t.Errorf("file events %q, want %q", files, want)
	}
}

// TestCleanupDryRunWritesNothing: a dry-run cleanup job on CodeChecker's
// sample (upgraded first) reports what the real job then removes, and
// leaves the file byte for byte as it was, with no journal beside it.
func TestCleanupDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	path := testutil.CopyFixture(t, "product-sample.sqlite")
	if got := worker.Run(context.Background(), spec(job.ActionMigrate, path), hclog.NewNullLogger()); !got.OK {
		t.Fatalf("migrate the sample: %s", got.Error)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := spec(job.ActionCleanup, path)
	s.Options.CheckerLabels = testutil.LabelsDir
	s.Options.DryRun = true
	dry := worker.Run(context.Background(), s, hclog.NewNullLogger())
	if !dry.OK || dry.Error != "" {
		t.Fatalf("dry run: OK, Error = %v, %q; want true, none", dry.OK, dry.Error)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(after, before) {
		t.Errorf("the dry run changed the database file")
	}
	if _, err := os.Stat(path + "-journal"); err == nil {
		t.Errorf("the dry run left %s-journal", path)
	}
	s.Options.DryRun = false
	real := worker.Run(context.Background(), s, hclog.NewNullLogger())
	if !real.OK {
		t.Fatalf("real run: %s", real.Error)
	}
	if !maps.Equal(dry.Removed, real.Removed) || dry.Removed[cleanup.KeyFiles] == 0 {
		t.Errorf("dry run counts %v, real run removed %v (want equal, files > 0)", dry.Removed, real.Removed)
	}
}

// TestCleanupWithLabelDigestMatchesLabelDir: a spec that carries the label
// digest (through JSON, as the supervisor sends it) and no label directory
// cleans product-sample.sqlite with the same counts and the same checker
// severities as a spec with the directory.
func TestCleanupWithLabelDigestMatchesLabelDir(t *testing.T) {
	t.Parallel()
	l, err := labels.Load(testutil.LabelsDir)
	if err != nil {
		t.Fatal(err)
	}
	run := func(s job.Spec) (map[string]int64, []string) {
		t.Helper()
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		s, err = job.ReadSpec(strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		path := s.Target.Path
		if m := worker.Run(context.Background(), spec(job.ActionMigrate, path), hclog.NewNullLogger()); !m.OK {
			t.Fatalf("migrate: %s", m.Error)
		}
		got := worker.Run(context.Background(), s, hclog.NewNullLogger())
		if !got.OK || got.Error != "" {
			t.Fatalf("cleanup: OK %v, Error %q", got.OK, got.Error)
		}
		db, err := dbconn.Open(context.Background(), dbconn.Target{Dialect: dbconn.SQLite, Path: path}, dbconn.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		return got.Removed, testutil.QueryStrings(t, db,
			"SELECT analyzer_name || '/' || checker_name || '=' || COALESCE(severity, 'NULL') FROM checkers ORDER BY id")
	}
	withDir := spec(job.ActionCleanup, testutil.CopyFixture(t, "product-sample.sqlite"))
	withDir.Options.CheckerLabels = testutil.LabelsDir
	withDigest := spec(job.ActionCleanup, testutil.CopyFixture(t, "product-sample.sqlite"))
	withDigest.Options.SeverityLabels = l.Digest()
	wantRemoved, wantSev := run(withDir)
	gotRemoved, gotSev := run(withDigest)
	if !maps.Equal(gotRemoved, wantRemoved) {
		t.Errorf("with the digest: Removed = %v, want %v (with the directory)", gotRemoved, wantRemoved)
	}
	if gotRemoved[cleanup.KeySeverities] != 51 {
		t.Errorf("with the digest: %d severities changed, want 51", gotRemoved[cleanup.KeySeverities])
	}
	if !slices.Equal(gotSev, wantSev) {
		t.Errorf("with the digest: checkers %v, want %v (with the directory)", gotSev, wantSev)
	}
}
