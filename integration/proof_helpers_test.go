package integration

// Helpers of the proof suite (proof_*_test.go): end-to-end fault scenarios
// run many times against the real binary, each ending with one
// machine-readable summary line for RELIABILITY.md:
//
//	proof: scenario=<name> trials=N failures=F data_lost=L
//
// The randomized scenarios run SUPERVISOR_FAULT_TRIALS trials (default
// proofDefaultTrials, so `make test` stays fast; `make test-faults` sets 100).

import (
	"database/sql"
	"fmt"
	"hash/fnv"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"supervisor/internal/dbconn"
)

// proofDefaultTrials is the trial count of a randomized scenario when
// SUPERVISOR_FAULT_TRIALS is unset.
const proofDefaultTrials = 2

// proofTrials is how many trials a randomized scenario runs.
func proofTrials(t *testing.T) int {
	t.Helper()
	return proofTrialsOr(t, proofDefaultTrials)
}

// proofTrialsOr is proofTrials for a scenario whose trials cost many
// seconds each: def of them when SUPERVISOR_FAULT_TRIALS is unset.
func proofTrialsOr(t *testing.T, def int) int {
	t.Helper()
	s := os.Getenv("SUPERVISOR_FAULT_TRIALS")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("SUPERVISOR_FAULT_TRIALS=%q: want a positive number of trials", s)
	}
	return n
}

// proofSlowTrials is the trial count of a scenario whose every trial costs
// seconds of waiting by design (a grace period): once by default, a tenth
// of SUPERVISOR_FAULT_TRIALS when it is set.
func proofSlowTrials(t *testing.T) int {
	t.Helper()
	if os.Getenv("SUPERVISOR_FAULT_TRIALS") == "" {
		return 1
	}
	return max(1, proofTrials(t)/10)
}

// proofTally counts the trials of one scenario and logs its summary line
// when the test ends, however it ends.
type proofTally struct {
	scenario                 string
	mu                       sync.Mutex
	trials, failures, losses int
}

func proofScenario(t *testing.T, scenario string) *proofTally {
	t.Helper()
	p := &proofTally{scenario: scenario}
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		t.Logf("proof: scenario=%s trials=%d failures=%d data_lost=%d", p.scenario, p.trials, p.failures, p.losses)
	})
	return p
}

// proofTrial is one trial's view: lost reports data loss or corruption (and
// fails the trial), the rest of testing.T reports anything else.
type proofTrial struct {
	*testing.T
	lostData bool
}

// lost fails the trial for lost or corrupted data.
func (pt *proofTrial) lost(format string, args ...any) {
	pt.Helper()
	pt.lostData = true
	pt.Errorf("DATA LOST: "+format, args...)
}

// trial runs fn as subtest name and counts it.
func (p *proofTally) trial(t *testing.T, name string, fn func(pt *proofTrial)) bool {
	t.Helper()
	var pt *proofTrial
	ok := t.Run(name, func(t *testing.T) {
		pt = &proofTrial{T: t}
		fn(pt)
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trials++
	if !ok {
		p.failures++
	}
	if pt != nil && pt.lostData {
		p.losses++
	}
	return ok
}

// ---------------------------------------------------------------------------
// Root and mounts.

// proofRequireRoot fails (never skips) a test that needs root to make a
// fault real: mounts, and read-only files that root would write anyway.
func proofRequireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("this scenario needs root (it mounts tmpfs / read-only bind mounts to make the fault real; root bypasses permission bits); run the integration tests as root, as CI does (euid %d)", os.Geteuid())
	}
}

func proofRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
}

// proofMount runs mount with args (the last one is the mount point) and
// returns a function that unmounts it; the test's cleanup calls it too.
func proofMount(t *testing.T, args ...string) (unmount func()) {
	t.Helper()
	point := args[len(args)-1]
	proofRun(t, "mount", args...)
	unmount = sync.OnceFunc(func() {
		if out, err := exec.Command("umount", point).CombinedOutput(); err != nil {
			// Something still holds it (a process the test killed is being
			// reaped): detach it so the temporary directory can go.
			if out2, err2 := exec.Command("umount", "-l", point).CombinedOutput(); err2 != nil {
				t.Errorf("umount %s: %v %s; umount -l: %v %s", point, err, out, err2, out2)
			}
		}
	})
	t.Cleanup(unmount)
	return unmount
}

// proofReadOnlyBind bind-mounts src on dst (both exist) read-only.
func proofReadOnlyBind(t *testing.T, src, dst string) (unmount func()) {
	t.Helper()
	unmount = proofMount(t, "--bind", src, dst)
	proofRun(t, "mount", "-o", "remount,bind,ro", dst)
	return unmount
}

// ---------------------------------------------------------------------------
// Files and outputs.

// proofFileBytes reads a file, failing t.
func proofFileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// proofOneLineReason returns the reason of endpoint's block in the
// Failures section ("failed: reason", one line), failing t unless its
// summary row says failed and the block is there.
func proofOneLineReason(t *testing.T, res result, endpoint string) string {
	t.Helper()
	cell, why := outcomeOf(res.stdout, endpoint)
	if cell != "failed" || why == "" {
		t.Errorf("%s: want a failed summary row and its reason, got %q, %q\n%s", endpoint, cell, why, res)
		return ""
	}
	return strings.Join(strings.Fields(why), " ")
}

// ---------------------------------------------------------------------------
// Database snapshots: row counts, with a fingerprint of checkers' severities
// (the one thing cleanup changes without removing rows).

const proofSeverityKey = "checkers.severity"

func proofSnapshot(t *testing.T, db *sql.DB, dialect dbconn.Dialect) map[string]int64 {
	t.Helper()
	out := countRows(t, db, dialect)
	rows, err := db.Query("SELECT id, coalesce(severity, -1) FROM checkers ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	h := fnv.New64a()
	for rows.Next() {
		var id, sev int64
		if err := rows.Scan(&id, &sev); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%d:%d;", id, sev)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	out[proofSeverityKey] = int64(h.Sum64() >> 1)
	return out
}

// proofCleanupGroups are the tables each cleanup routine changes, in the
// order the routines run (internal/cleanup: one transaction per routine).
var proofCleanupGroups = []struct {
	routine string
	tables  []string
}{
	{"run_locks", []string{"run_locks"}},
	{"files", []string{"files", "file_contents", "extended_report_data", "source_component_files"}},
	{"comments", []string{"comments"}},
	{"analysis_info", []string{"analysis_info"}},
	{"checker_set", []string{"checker_set", "checker_set_items"}},
	{"severities", []string{proofSeverityKey}},
}

// proofCheckCleanupState checks a snapshot taken after a cleanup that may
// have been killed: every routine's tables are all as before it or all as
// after it, the routines that are done are a prefix of the order, and every
// other table is as it was. It returns how many routines had committed.
func proofCheckCleanupState(pt *proofTrial, got, before, after map[string]int64) int {
	pt.Helper()
	grouped := map[string]bool{}
	done, firstUndone := 0, -1
	for i, g := range proofCleanupGroups {
		isBefore, isAfter := true, true
		changes := false
		for _, tb := range g.tables {
			grouped[tb] = true
			isBefore = isBefore && got[tb] == before[tb]
			isAfter = isAfter && got[tb] == after[tb]
			changes = changes || before[tb] != after[tb]
		}
		switch {
		case !isBefore && !isAfter:
			var desc []string
			for _, tb := range g.tables {
				desc = append(desc, fmt.Sprintf("%s=%d (before %d, after %d)", tb, got[tb], before[tb], after[tb]))
			}
			pt.lost("routine %s half done: %s", g.routine, strings.Join(desc, ", "))
		case !changes:
			// Nothing to tell apart.
		case isAfter:
			if firstUndone >= 0 {
				pt.lost("routine %s committed although %s, which runs before it, did not", g.routine, proofCleanupGroups[firstUndone].routine)
			}
			done = i + 1
		default:
			if firstUndone < 0 {
				firstUndone = i
			}
		}
	}
	for tb, n := range before {
		if !grouped[tb] && got[tb] != n {
			pt.lost("table %s, which cleanup does not touch, has %d rows, had %d", tb, got[tb], n)
		}
	}
	for tb := range got {
		if _, ok := before[tb]; !ok {
			pt.Errorf("table %s appeared", tb)
		}
	}
	return done
}

// proofSQLiteIntact checks integrity_check and foreign_key_check of an open
// SQLite database.
func proofSQLiteIntact(pt *proofTrial, db *sql.DB, name string) {
	pt.Helper()
	for _, p := range sqliteIntegrityProblems(pt.T, db, "integrity_check") {
		pt.lost("%s: %s", name, p)
	}
}

// proofRevisionsVersion returns a product's whole version from its
// revisions (either dialect), failing the trial if a file is recorded half applied or the
// revisions are not a prefix of the packaged files.
func proofRevisionsVersion(pt *proofTrial, db *sql.DB, name string) string {
	pt.Helper()
	v, versions, half := wholeVersion(readRevisions(pt.T, db))
	for _, h := range half {
		pt.lost("%s: %s", name, h)
	}
	if v == "" {
		pt.lost("%s: revisions %v, want 001 or 001,002 (each once)", name, versions)
	}
	return v
}

// ---------------------------------------------------------------------------
// PostgreSQL checks.

// proofPGIntact checks that no index is invalid or not ready (a killed
// CREATE INDEX CONCURRENTLY leaves one), no constraint is NOT VALID, and
// every foreign key holds (each checked by an anti-join, so that a key
// whose trigger was bypassed is caught too).
func proofPGIntact(pt *proofTrial, db *sql.DB, name string) {
	pt.Helper()
	var bad []string
	rows, err := db.Query(`SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT (i.indisvalid AND i.indisready)`)
	if err != nil {
		pt.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		bad = append(bad, s)
	}
	rows.Close()
	if len(bad) > 0 {
		pt.lost("%s: invalid indexes %v", name, bad)
	}
	type fk struct {
		name, child, parent string
		ccols, pcols        []string
	}
	rows, err = db.Query(`SELECT con.conname, con.convalidated, cl.relname, pl.relname,
			(SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
			(SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum)
		FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_class pl ON pl.oid = con.confrelid
		JOIN pg_namespace n ON n.oid = cl.relnamespace
		WHERE con.contype = 'f' AND n.nspname = 'public'`)
	if err != nil {
		pt.Fatal(err)
	}
	var fks []fk
	for rows.Next() {
		var f fk
		var valid bool
		var cc, pc string
		if err := rows.Scan(&f.name, &valid, &f.child, &f.parent, &cc, &pc); err != nil {
			pt.Fatal(err)
		}
		if !valid {
			pt.lost("%s: foreign key %s is NOT VALID", name, f.name)
		}
		f.ccols, f.pcols = strings.Split(cc, ","), strings.Split(pc, ",")
		fks = append(fks, f)
	}
	rows.Close()
	if len(fks) == 0 {
		pt.Fatalf("%s: no foreign keys found: the check is blind", name)
	}
	for _, f := range fks {
		var notNull, match []string
		for i := range f.ccols {
			notNull = append(notNull, fmt.Sprintf("c.%q IS NOT NULL", f.ccols[i]))
			match = append(match, fmt.Sprintf("p.%q = c.%q", f.pcols[i], f.ccols[i]))
		}
		q := fmt.Sprintf(`SELECT count(*) FROM %q c WHERE %s AND NOT EXISTS (SELECT 1 FROM %q p WHERE %s)`,
			f.child, strings.Join(notNull, " AND "), f.parent, strings.Join(match, " AND "))
		var n int64
		if err := db.QueryRow(q).Scan(&n); err != nil {
			pt.Fatalf("%s: %s: %v", name, q, err)
		}
		if n != 0 {
			pt.lost("%s: foreign key %s (%s -> %s) broken by %d rows", name, f.name, f.child, f.parent, n)
		}
	}
}

// proofPGCheckWhole checks a PostgreSQL product made from a template at 001
// (counts) after a fault: at a whole version, whose schema matches it (the
// indexes of 002 all there, or none), intact, every row kept. It returns the
// version.
func proofPGCheckWhole(pt *proofTrial, db *sql.DB, name string, counts map[string]int64) string {
	pt.Helper()
	v := proofRevisionsVersion(pt, db, name)
	have := pgIndexes(pt.T, db)
	n := 0
	for _, ix := range indexesOf002(pt.T) {
		if slices.Contains(have, ix) {
			n++
		}
	}
	switch {
	case v == "001" && n != 0:
		pt.lost("%s: at 001 but %d indexes of 002 exist", name, n)
	case v == "002" && n != len(indexesOf002(pt.T)):
		pt.lost("%s: at 002 but only %d indexes of 002 exist", name, n)
	}
	proofPGIntact(pt, db, name)
	if got := countRows(pt.T, db, "postgres"); !maps.Equal(got, counts) {
		pt.lost("%s: row counts %v, want %v", name, got, counts)
	}
	return v
}

// ---------------------------------------------------------------------------
// A PostgreSQL server of the test's own, which it may stop and start (the
// clusters of internal/pgtest must stay up until their test ends).

type proofPGServer struct {
	bin, dir, data, password string
	port                     int
	cred                     *syscall.Credential
}

func proofPGBin(t *testing.T) string {
	t.Helper()
	var cands []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		cands = append(cands, strings.TrimSpace(string(out)))
	}
	g, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.Reverse(g)
	cands = append(cands, g...)
	for _, d := range cands {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d
		}
	}
	t.Fatal("PostgreSQL binaries (pg_ctl, initdb) not found: install Debian's postgresql package")
	return ""
}

// proofStartPGServer initdb's and starts a server on a free port (as the OS
// user postgres when run as root); the test's cleanup stops it and removes
// its files.
func proofStartPGServer(t *testing.T) *proofPGServer {
	t.Helper()
	s := &proofPGServer{bin: proofPGBin(t), password: "pw-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	dir, err := os.MkdirTemp("", "supervisor-proof-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s.dir, s.data = dir, filepath.Join(dir, "data")
	t.Cleanup(func() {
		s.ctl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("look up OS user postgres (postgres refuses to run as root): %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	pw := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pw, []byte(s.password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s.cred != nil {
		os.Chown(pw, int(s.cred.Uid), int(s.cred.Gid))
	}
	if out, err := s.cmd("initdb", "-D", s.data, "-U", "postgres", "--auth=scram-sha-256", "--pwfile="+pw,
		"--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	s.port = freePort(t)
	s.start(t)
	return s
}

func (s *proofPGServer) cmd(name string, args ...string) *exec.Cmd {
	c := exec.Command(filepath.Join(s.bin, name), args...)
	c.Dir = s.dir
	c.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	return c
}

func (s *proofPGServer) ctl(args ...string) ([]byte, error) {
	return s.cmd("pg_ctl", append([]string{"-D", s.data}, args...)...).CombinedOutput()
}

func (s *proofPGServer) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off -c max_connections=50 -c shared_buffers=32MB", s.port)
	if out, err := s.ctl("start", "-w", "-t", "60", "-l", filepath.Join(s.dir, "postgres.log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// stop stops the server with pg_ctl's mode (fast: roll back and disconnect
// every session; immediate: quit at once, crash recovery at next start).
func (s *proofPGServer) stop(t *testing.T, mode string) {
	t.Helper()
	if out, err := s.ctl("stop", "-w", "-m", mode); err != nil {
		t.Fatalf("pg_ctl stop -m %s: %v\n%s", mode, err, out)
	}
}

func (s *proofPGServer) target(database string) dbconn.Target {
	return dbconn.Target{Dialect: "postgres", Host: "127.0.0.1", Port: s.port, User: "postgres", Password: s.password, Database: database}
}
