// End-to-end tests: they build the real supervisor binary and run it against
// SQLite files and throwaway PostgreSQL clusters.
package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
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

// supervisorBin is the binary under test, built once by TestMain.
var supervisorBin string

// fixtures holds the databases CodeChecker itself made (testdata/codechecker).
var fixtures = testutil.Fixtures + "/"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "supervisor-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	supervisorBin = filepath.Join(dir, "supervisor")
	// Without the race detector: big SQLite workloads are too slow under it.
	build := exec.Command("go", "build", "-o", supervisorBin, "../cmd/supervisor")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build supervisor:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one supervisor run printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// supervisor runs the binary with args in workspace ws, stdin as its input,
// and extra environment variables env ("K=V").
func supervisor(t *testing.T, ws, stdin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, supervisorBin, append([]string{"-w", ws}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run supervisor %v: %v", args, err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// copyFixture copies a CodeChecker fixture to dst.
func copyFixture(t *testing.T, name, dst string) {
	t.Helper()
	b, err := os.ReadFile(fixtures + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// seededRand is a seeded source whose seed is logged, so a failure can be
// replayed by reading the log.
func seededRand(t *testing.T) *mrand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	return mrand.New(mrand.NewPCG(seed, 2))
}

// ---------------------------------------------------------------------------
// Workspaces.

// testWorkspace is a workspace being set up by a test: products are made and
// registered through it. Its config database stays open until Close or the
// end of the test; the supervisor binary shares the file meanwhile.
type testWorkspace struct {
	Dir string
	ws  *workspace.Workspace
}

// newWorkspace creates an empty workspace in the test's temporary directory.
func newWorkspace(t *testing.T) *testWorkspace {
	t.Helper()
	ws, err := workspace.Create(context.Background(), filepath.Join(t.TempDir(), "workspace"))
	if err != nil {
		t.Fatal(err)
	}
	w := &testWorkspace{Dir: ws.Dir, ws: ws}
	t.Cleanup(w.Close)
	return w
}

// Close closes the config database (idempotent).
func (w *testWorkspace) Close() {
	if w.ws != nil {
		w.ws.Close()
		w.ws = nil
	}
}

// add registers endpoint at tg; the registry never stores tg's password.
func (w *testWorkspace) add(t *testing.T, endpoint string, tg dbconn.Target, passwordEnv string) {
	t.Helper()
	if err := w.ws.Add(context.Background(), endpoint, tg, passwordEnv); err != nil {
		t.Fatalf("register %s: %v", endpoint, err)
	}
}

// sqlitePath is where the SQLite product endpoint lives in the workspace.
func (w *testWorkspace) sqlitePath(endpoint string) string {
	return filepath.Join(w.Dir, endpoint+".sqlite")
}

// addSQLite copies tp to <ws>/<endpoint>.sqlite, registers it and returns its path.
func (w *testWorkspace) addSQLite(t *testing.T, endpoint string, tp *sqliteTemplate) string {
	t.Helper()
	path := w.sqlitePath(endpoint)
	tp.copyTo(t, path)
	w.add(t, endpoint, sqliteTarget(path), "")
	return path
}

// SQLite makes and registers a SQLite product at version ("latest", "001",
// "" = an empty file with no tables) with reports reports of generated content.
func (w *testWorkspace) SQLite(t *testing.T, endpoint, version string, reports int) dbconn.Target {
	t.Helper()
	tg := sqliteTarget(w.sqlitePath(endpoint))
	if _, err := workspace.MakeProduct(context.Background(), tg, version, fleet.Options{Reports: reports, Seed: int64(len(endpoint))}); err != nil {
		t.Fatalf("make %s: %v", endpoint, err)
	}
	w.add(t, endpoint, tg, "")
	return tg
}

// Fixture registers a copy of a CodeChecker fixture file as a SQLite product.
func (w *testWorkspace) Fixture(t *testing.T, endpoint, fixture string) dbconn.Target {
	t.Helper()
	tg := sqliteTarget(w.sqlitePath(endpoint))
	copyFixture(t, fixture, tg.Path)
	w.add(t, endpoint, tg, "")
	return tg
}

// Missing registers a SQLite product whose file does not exist.
func (w *testWorkspace) Missing(t *testing.T, endpoint string) dbconn.Target {
	t.Helper()
	tg := sqliteTarget(w.sqlitePath(endpoint))
	w.add(t, endpoint, tg, "")
	return tg
}

// Garbage registers a SQLite product whose file holds random bytes.
func (w *testWorkspace) Garbage(t *testing.T, endpoint string) dbconn.Target {
	t.Helper()
	tg := sqliteTarget(w.sqlitePath(endpoint))
	b := make([]byte, 8192)
	rand.Read(b)
	if err := os.WriteFile(tg.Path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	w.add(t, endpoint, tg, "")
	return tg
}

// Postgres makes database dbName on c (owned by role, which must exist; ""
// = the superuser) and a product schema at version in it, with generated
// content, and registers it. The returned target carries the password (for
// the test's own connections); the registry never does.
func (w *testWorkspace) Postgres(t *testing.T, c *pgtest.Cluster, endpoint, dbName, version string, reports int, role pgRole, passwordEnv string) dbconn.Target {
	t.Helper()
	if role.User == "" {
		role = pgRole{User: c.User, Password: c.Password}
		c.CreateDatabase(t, dbName)
	} else {
		c.Exec(t, "postgres", fmt.Sprintf(`CREATE DATABASE %q OWNER %q`, dbName, role.User))
	}
	tg := clusterTarget(c, dbName)
	tg.User, tg.Password = role.User, role.Password
	if version != "" {
		if _, err := workspace.MakeProduct(context.Background(), tg, version, fleet.Options{Reports: reports, Seed: int64(len(endpoint))}); err != nil {
			t.Fatalf("make %s: %v", endpoint, err)
		}
	}
	w.add(t, endpoint, tg, passwordEnv)
	return tg
}

// PostgresDump registers database dbName on c loaded from a CodeChecker
// pg_dump fixture.
func (w *testWorkspace) PostgresDump(t *testing.T, c *pgtest.Cluster, endpoint, dbName, fixture, passwordEnv string) dbconn.Target {
	t.Helper()
	c.CreateDatabase(t, dbName)
	c.LoadDump(t, dbName, fixtures+fixture)
	tg := clusterTarget(c, dbName)
	w.add(t, endpoint, tg, passwordEnv)
	return tg
}

// Unreachable registers a PostgreSQL product on a port nothing listens on.
func (w *testWorkspace) Unreachable(t *testing.T, endpoint, passwordEnv string) dbconn.Target {
	t.Helper()
	tg := dbconn.Target{Dialect: "postgres", Host: "127.0.0.1", Port: refusingPort(t), User: "nobody", Database: "nothing"}
	w.add(t, endpoint, tg, passwordEnv)
	return tg
}

// pgRole is a PostgreSQL login role.
type pgRole struct{ User, Password string }

// newPGRole creates a login role with a fresh random password (so the
// password appears nowhere but where the test puts it).
func newPGRole(t *testing.T, c *pgtest.Cluster, name string) pgRole {
	t.Helper()
	r := pgRole{User: name, Password: "pw-" + rand.Text()}
	c.Exec(t, "postgres", fmt.Sprintf(`CREATE ROLE %q LOGIN PASSWORD '%s'`, r.User, r.Password))
	return r
}

// ---------------------------------------------------------------------------
// Database locations and connections of the test's own.

// sqliteTarget is the SQLite database at path.
func sqliteTarget(path string) dbconn.Target { return dbconn.Target{Dialect: "sqlite", Path: path} }

// clusterTarget is database on c, as its superuser (password included).
func clusterTarget(c *pgtest.Cluster, database string) dbconn.Target {
	return dbconn.Target{Dialect: "postgres", Host: c.Host, Port: c.Port, User: c.User, Password: c.Password, Database: database}
}

// openDBWith opens tg with opts for the test's own checks; the test's
// cleanup closes it (closing it earlier is fine).
func openDBWith(t *testing.T, tg dbconn.Target, opts dbconn.Options) *sql.DB {
	t.Helper()
	db, err := dbconn.Open(context.Background(), tg, opts)
	if err != nil {
		t.Fatalf("open %s: %v", tg.Path+tg.Database, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openDB opens tg read-write: on SQLite, opening rolls back a hot journal a
// killed writer left, as the next supervisor run would.
func openDB(t *testing.T, tg dbconn.Target) *sql.DB {
	t.Helper()
	return openDBWith(t, tg, dbconn.Options{})
}

// openReadOnly opens tg read-only: it changes nothing, not even a SQLite
// file's modification time.
func openReadOnly(t *testing.T, tg dbconn.Target) *sql.DB {
	t.Helper()
	return openDBWith(t, tg, dbconn.Options{ReadOnly: true})
}

// openSQLite opens the SQLite file at path read-write (see openDB).
func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	return openDB(t, sqliteTarget(path))
}

// holdProductLock holds the product lock of the PostgreSQL database tg on a
// session of its own, as another supervisor's worker would, until release
// (idempotent; the test's cleanup calls it too). It returns that session's
// backend pid.
func holdProductLock(t *testing.T, tg dbconn.Target) (backend int, release func()) {
	t.Helper()
	ctx := context.Background()
	db := openDB(t, tg)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", dbconn.AdvisoryLockKey(dbconn.LockName("product"))); err != nil {
		t.Fatal(err)
	}
	// Ending the session releases its advisory locks; the server may be
	// gone by then (a test that stops it), so no unlock statement.
	release = sync.OnceFunc(func() {
		conn.Close()
		db.Close()
	})
	t.Cleanup(release)
	return backend, release
}

// ---------------------------------------------------------------------------
// Ports.

// boundPort binds a socket to a free port of 127.0.0.1, never listening,
// and returns both.
func boundPort(t *testing.T) (fd, port int) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	return fd, sa.(*syscall.SockaddrInet4).Port
}

// refusingPort returns a port of 127.0.0.1 on which nothing listens and
// nothing else can: its socket stays bound, never listening, until the test
// ends, so connecting is refused at once.
func refusingPort(t *testing.T) int {
	t.Helper()
	fd, port := boundPort(t)
	t.Cleanup(func() { syscall.Close(fd) })
	return port
}

// freePort returns a port of 127.0.0.1 that was free a moment ago, for a
// server that binds it itself (pg_ctl), so no socket may stay on it.
func freePort(t *testing.T) int {
	t.Helper()
	fd, port := boundPort(t)
	syscall.Close(fd)
	return port
}

// ---------------------------------------------------------------------------
// Running the supervisor in the background.

// lockedBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *lockedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lockedBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a supervisor started in the background.
type running struct {
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer // the same buffer when started by startCombined
	done           chan struct{} // closed when it has exited and res is set
	res            result
	exited         time.Time
}

// startSupervisor starts the binary with args in workspace ws, stdin empty.
// The test's cleanup kills it if it is still running.
func startSupervisor(t *testing.T, ws string, env []string, args ...string) *running {
	t.Helper()
	out, errb := &lockedBuffer{}, &lockedBuffer{}
	return startWith(t, ws, nil, out, errb, env, args...)
}

// startCombined starts the binary with stdin as its input (the operator's
// answers to prompts). Its stdout and stderr are one pipe into one buffer,
// res.stdout, so the output keeps the order in which the process wrote
// (prompts between log lines); res.stderr is empty.
func startCombined(t *testing.T, ws, stdin string, env []string, args ...string) *running {
	t.Helper()
	out := &lockedBuffer{}
	return startWith(t, ws, strings.NewReader(stdin), out, out, env, args...)
}

// startWith starts the binary; stdin nil is /dev/null.
func startWith(t *testing.T, ws string, stdin io.Reader, stdout, stderr *lockedBuffer, env []string, args ...string) *running {
	t.Helper()
	cmd := exec.Command(supervisorBin, append([]string{"-w", ws}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = stdin
	r := &running{cmd: cmd, stdout: stdout, stderr: stderr, done: make(chan struct{})}
	// The same *lockedBuffer for both makes exec.Cmd use one pipe.
	cmd.Stdout, cmd.Stderr = r.stdout, r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		r.exited = time.Now()
		r.res = result{stdout: r.stdout.String()}
		if r.stderr != r.stdout {
			r.res.stderr = r.stderr.String()
		}
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				r.res.code = ee.ExitCode()
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					r.res.code = 128 + int(ws.Signal())
				}
			} else {
				r.res.code = -1
			}
		}
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

func (r *running) pid() int { return r.cmd.Process.Pid }

// wait waits for the supervisor to exit, failing t after timeout.
func (r *running) wait(t *testing.T, timeout time.Duration) result {
	t.Helper()
	select {
	case <-r.done:
		return r.res
	case <-time.After(timeout):
		r.cmd.Process.Kill()
		<-r.done
		t.Fatalf("supervisor still running after %v; killed it\n%s", timeout, r.res)
		return r.res
	}
}

func (r *running) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(r.pid(), sig); err != nil {
		t.Fatalf("signal supervisor: %v", err)
	}
}

// ---------------------------------------------------------------------------
// Worker processes, found through /proc.

// procStat returns a process's parent pid and state letter; ok is false when
// it does not exist.
func procStat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[0][0], true
}

// procAlive reports whether pid runs (a zombie is dead: it has exited).
func procAlive(pid int) bool {
	_, state, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X'
}

// procIsWorker reports whether pid has exec'ed with SUPERVISOR_WORKER=1 (between
// fork and exec a child still shows its parent's environment).
func procIsWorker(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	return slices.Contains(strings.Split(string(b), "\x00"), "SUPERVISOR_WORKER=1")
}

// workerPIDs lists the live worker processes whose parent is ppid.
func workerPIDs(ppid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, state, ok := procStat(pid); ok && pp == ppid && state != 'Z' && procIsWorker(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// waitForWorkers polls until the supervisor r has at least n live workers and
// returns them; it fails t if r exits first or after timeout.
func waitForWorkers(t *testing.T, r *running, n int, timeout time.Duration) []int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if ws := workerPIDs(r.pid()); len(ws) >= n {
			return ws
		}
		select {
		case <-r.done:
			t.Fatalf("supervisor exited before %d workers ran\n%s", n, r.res)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d workers after %v\n%s%s", n, timeout, r.stdout, r.stderr)
		}
		time.Sleep(time.Millisecond)
	}
}

// seenWorkers records every worker process r starts until it exits; the
// returned function waits for that and lists them.
func (r *running) seenWorkers() func() []int {
	seen := map[int]bool{}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			for _, pid := range workerPIDs(r.pid()) {
				seen[pid] = true
			}
			select {
			case <-r.done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return func() []int {
		<-stopped
		var out []int
		for pid := range seen {
			out = append(out, pid)
		}
		slices.Sort(out)
		return out
	}
}

// procInfo is one process as /proc shows it.
type procInfo struct {
	pid, ppid        int
	cmdline, environ []byte
}

// allProcs reads every process's cmdline and environment (what cannot be
// read — a process that has exited, say — is skipped).
func allProcs() []procInfo {
	entries, _ := os.ReadDir("/proc")
	var out []procInfo
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		p := procInfo{pid: pid}
		p.cmdline, _ = os.ReadFile(filepath.Join(dir, "cmdline"))
		p.environ, _ = os.ReadFile(filepath.Join(dir, "environ"))
		p.ppid, _, _ = procStat(pid)
		out = append(out, p)
	}
	return out
}

// environHas reports whether a /proc environ block sets name.
func environHas(environ []byte, name string) bool {
	return bytes.HasPrefix(environ, []byte(name+"=")) || bytes.Contains(environ, []byte("\x00"+name+"="))
}

// ---------------------------------------------------------------------------
// PostgreSQL credentials.

// writePassfile writes a libpq password file with one line per target.
func writePassfile(t *testing.T, targets ...dbconn.Target) string {
	t.Helper()
	var b strings.Builder
	for _, tg := range targets {
		fmt.Fprintf(&b, "%s:%d:%s:%s:%s\n", tg.Host, tg.Port, tg.Database, tg.User, tg.Password)
	}
	path := filepath.Join(t.TempDir(), "pgpass")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
