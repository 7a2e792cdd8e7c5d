// Package pgtest starts throwaway PostgreSQL servers for tests.
//
// The first Start in a test process runs initdb into a template data
// directory; every Start then copies that template and runs its own
// postgres on a free port of 127.0.0.1, so a cluster costs a copy and a
// server start rather than a full initdb. Clusters stop and their files go
// away in the test's cleanup. When run as root, initdb and postgres run as
// the OS user postgres, as they refuse root.
//
// Tests fail, never skip silently, when the PostgreSQL binaries are
// missing, unless SUPERVISOR_SKIP_POSTGRES=1 asks for a skip. With -short
// (make test-short) every Start skips its test, saying so.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// skipEnv names the environment variable that, set to 1, makes Start skip
// the test instead of failing it when the PostgreSQL binaries are missing.
const skipEnv = "SUPERVISOR_SKIP_POSTGRES"

const (
	// startTimeout bounds how long a new server may take to accept
	// connections.
	startTimeout = 20 * time.Second
	// stopTimeout bounds a fast shutdown before the server is killed.
	stopTimeout = 10 * time.Second
	// portAttempts is how many free ports Start tries: another process can
	// take the port between our probe and postgres binding it.
	portAttempts = 5
	// logTail is how much of the server log goes into failure messages.
	logTail = 4 << 10
)

var errPortInUse = errors.New("port already in use")

// Cluster is a running throwaway PostgreSQL server listening on 127.0.0.1.
type Cluster struct {
	Host     string // "127.0.0.1"
	Port     int
	User     string // superuser role name, "postgres"
	Password string // its password (password auth over TCP is enforced: scram-sha-256)

	dir     string // holds data/ and postgres.log; removed on stop
	cmd     *exec.Cmd
	exited  chan struct{} // closed once cmd.Wait has returned
	waitErr error         // cmd.Wait's result, read after exited is closed
}

// Available reports whether the PostgreSQL binaries can be found.
func Available() bool {
	_, err := binDir()
	return err == nil
}

// Start starts a new cluster for tb and stops it (and removes its files) in
// tb.Cleanup.
func Start(tb testing.TB) *Cluster {
	tb.Helper()
	s := requireSetup(tb)
	c, err := s.start()
	if err != nil {
		tb.Fatalf("pgtest: start postgres: %v", err)
	}
	tb.Cleanup(func() { c.cleanup(tb) })
	return c
}

// requireSetup returns the process's template setup, making it on first use;
// it skips tb under -short or when asked to for missing binaries, and fails
// it otherwise.
func requireSetup(tb testing.TB) *setup {
	tb.Helper()
	if testing.Short() {
		// make test-short: the quick run without a database server.
		tb.Skip("pgtest: starts a PostgreSQL cluster; skipped with -short")
	}
	if !Available() {
		if os.Getenv(skipEnv) == "1" {
			tb.Skip("PostgreSQL binaries not found; skipping because " + skipEnv + "=1")
		}
		tb.Fatal("pgtest: PostgreSQL 15 binaries (initdb, postgres) were not found " +
			"(looked at `pg_config --bindir`, PATH and /usr/lib/postgresql/*/bin); " +
			"install them with `apt-get install postgresql`, " +
			"or set " + skipEnv + "=1 to skip these tests explicitly")
	}
	s, err := loadSetup()
	if err != nil {
		tb.Fatalf("pgtest: prepare template cluster: %v", err)
	}
	return s
}

// start launches a cluster from the template on a free port, trying another
// port when the one found is taken before postgres binds it.
func (s *setup) start() (*Cluster, error) {
	var err error
	for range portAttempts {
		var port int
		port, err = freePort()
		if err != nil {
			return nil, err
		}
		var c *Cluster
		c, err = s.launch(port)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, errPortInUse) {
			return nil, err
		}
	}
	return nil, err
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launch copies the template and starts postgres on port, returning once
// it accepts connections. On failure nothing is left running or on disk.
func (s *setup) launch(port int) (*Cluster, error) {
	dir, err := os.MkdirTemp(s.root, "cluster-")
	if err != nil {
		return nil, fmt.Errorf("create cluster directory: %w", err)
	}
	c, err := s.spawn(dir, port)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := c.waitReady(ctx); err != nil {
		c.stop()
		tail := c.logTail()
		os.RemoveAll(dir)
		if bytes.Contains(tail, []byte("Address already in use")) {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return nil, fmt.Errorf("port %d: %w; server log tail:\n%s", port, err, tail)
	}
	return c, nil
}

func (s *setup) spawn(dir string, port int) (*Cluster, error) {
	if err := s.own(dir); err != nil {
		return nil, fmt.Errorf("own cluster directory: %w", err)
	}
	data := filepath.Join(dir, "data")
	if err := copyDataDir(s.template, data); err != nil {
		return nil, fmt.Errorf("copy template data directory: %w", err)
	}
	logf, err := os.OpenFile(filepath.Join(dir, "postgres.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create server log: %w", err)
	}
	// postgres writes its own copy of the descriptor; ours is not needed
	// past Start, and an *os.File avoids copying goroutines in cmd.Wait.
	defer logf.Close()

	cmd := exec.Command(filepath.Join(s.bin, "postgres"),
		"-D", data,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		// No Unix socket: clients use TCP only, and a socket path under a
		// long TMPDIR could exceed the 107-byte sun_path limit.
		"-c", "unix_socket_directories=",
		// Durability buys nothing for a throwaway cluster.
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=200",
		// Small, since tests may run many clusters at once.
		"-c", "shared_buffers=32MB",
	)
	cmd.Dir = dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: s.cred,
		// Its own process group: a terminal's Ctrl-C must not stop the
		// server under a test that is still cleaning up, and stop can
		// kill the whole group.
		Setpgid: true,
		// Immediate shutdown if the test process dies without cleanup
		// (test timeout, SIGKILL); Go applies it after the credential
		// change, which would otherwise reset it.
		Pdeathsig: syscall.SIGQUIT,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	c := &Cluster{
		Host:     "127.0.0.1",
		Port:     port,
		User:     "postgres",
		Password: s.password,
		dir:      dir,
		cmd:      cmd,
		exited:   make(chan struct{}),
	}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// waitReady polls until the server accepts a connection, exits, or ctx ends.
func (c *Cluster) waitReady(ctx context.Context) error {
	for {
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited during startup: %v", c.waitErr)
		default:
		}
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(attempt, c.URL("postgres"))
		cancel()
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("postgres not accepting connections after %v: %w", startTimeout, err)
		case <-c.exited:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop shuts the server down: fast shutdown (SIGINT) first, then SIGKILL
// to its process group if that takes longer than stopTimeout. It reports
// whether the server had already exited on its own.
func (c *Cluster) stop() (exitedEarly bool) {
	select {
	case <-c.exited:
		return true
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.exited:
	case <-time.After(stopTimeout):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.exited
	}
	return false
}

// cleanup stops the server and removes its files, reporting on tb what
// went wrong, and the server log when the test failed.
func (c *Cluster) cleanup(tb testing.TB) {
	if c.stop() {
		tb.Errorf("pgtest: postgres on port %d exited before the test ended: %v; server log tail:\n%s",
			c.Port, c.waitErr, c.logTail())
	} else if tb.Failed() {
		tb.Logf("pgtest: postgres on port %d, server log tail:\n%s", c.Port, c.logTail())
	}
	if err := os.RemoveAll(c.dir); err != nil {
		tb.Errorf("pgtest: remove cluster directory: %v", err)
	}
}

// logTail returns the end of the server log.
func (c *Cluster) logTail() []byte {
	b, err := os.ReadFile(filepath.Join(c.dir, "postgres.log"))
	if err != nil {
		return []byte(fmt.Sprintf("(read server log: %v)", err))
	}
	if len(b) > logTail {
		b = b[len(b)-logTail:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return b
}

// URL returns a postgres:// URL with password for database db
// (sslmode=disable).
func (c *Cluster) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(c.User, c.Password),
		Host:     net.JoinHostPort(c.Host, strconv.Itoa(c.Port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// CreateDatabase creates an empty database (fails tb on error) and returns
// its name (name given).
func (c *Cluster) CreateDatabase(tb testing.TB, name string) string {
	tb.Helper()
	c.Exec(tb, "postgres", "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return name
}

// Exec runs SQL statements in database db (simple protocol, multiple
// statements allowed), failing tb on error.
func (c *Cluster) Exec(tb testing.TB, db, sql string) {
	tb.Helper()
	// Not tb.Context(): it is cancelled before cleanups run, and a cleanup
	// may well drop what its test created. A hang is go test -timeout's.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL(db))
	if err != nil {
		tb.Fatalf("pgtest: connect to database %q: %v", db, err)
	}
	defer conn.Close(ctx)
	// Without arguments pgx uses the simple protocol, which allows several
	// statements in one string.
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("pgtest: exec in database %q: %v", db, err)
	}
}
