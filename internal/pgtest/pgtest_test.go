package pgtest

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestStartCreateExec(t *testing.T) {
	t.Parallel()
	c := Start(t)
	if c.Host != "127.0.0.1" || c.User != "postgres" || c.Port == 0 || c.Password == "" {
		t.Fatalf("cluster = %+v, want host 127.0.0.1, user postgres, a port and a password", c)
	}

	// A hyphen needs quoting in SQL, and must survive the URL path.
	db := c.CreateDatabase(t, "app-db")
	if db != "app-db" {
		t.Fatalf("CreateDatabase = %q, want %q", db, "app-db")
	}
	c.Exec(t, db, `
		CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL);
		INSERT INTO item VALUES (1, 'one'), (2, 'two');
	`)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL(db))
	if err != nil {
		t.Fatalf("connect with URL %q: %v", c.URL(db), err)
	}
	defer conn.Close(ctx)
	var current string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&current); err != nil {
		t.Fatal(err)
	}
	if current != db {
		t.Errorf("current_database() = %q, want %q", current, db)
	}
	rows, err := conn.Query(ctx, "SELECT name FROM item ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names, ","); got != "one,two" {
		t.Errorf("names = %q, want %q", got, "one,two")
	}
}

func TestPasswordEnforced(t *testing.T) {
	t.Parallel()
	c := Start(t)
	wrong := *c
	wrong.Password = "wrong"
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, wrong.URL("postgres"))
	if err == nil {
		conn.Close(ctx)
		t.Fatal("connect with a wrong password succeeded, want password authentication to fail")
	}
	if !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("connect with a wrong password: %v, want password authentication failure", err)
	}
}

func TestTwoClustersAtOnce(t *testing.T) {
	t.Parallel()
	a, b := Start(t), Start(t)
	if a.Port == b.Port {
		t.Fatalf("both clusters on port %d", a.Port)
	}
	a.Exec(t, "postgres", "CREATE TABLE only_in_a (id int)")

	ctx := context.Background()
	for _, tc := range []struct {
		name string
		c    *Cluster
		want bool
	}{{"a", a, true}, {"b", b, false}} {
		conn, err := pgx.Connect(ctx, tc.c.URL("postgres"))
		if err != nil {
			t.Fatalf("connect to %s: %v", tc.name, err)
		}
		var exists bool
		err = conn.QueryRow(ctx, "SELECT to_regclass('only_in_a') IS NOT NULL").Scan(&exists)
		conn.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if exists != tc.want {
			t.Errorf("table only_in_a exists in cluster %s: %v, want %v", tc.name, exists, tc.want)
		}
	}
}

func TestParallelClusters(t *testing.T) {
	for _, name := range []string{"p1", "p2", "p3", "p4"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			c := Start(t)
			t.Logf("Start took %v (in parallel)", time.Since(start))
			c.Exec(t, "postgres", "CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
		})
	}
}

// BenchmarkStartFromTemplate measures what a Start costs once initdb has
// made the template: copying the data directory and starting postgres until
// it accepts a connection. Stopping the cluster is not counted.
//
//	go test -run '^$' -bench StartFromTemplate -benchtime 10x ./internal/pgtest/
func BenchmarkStartFromTemplate(b *testing.B) {
	s := requireSetup(b)
	for b.Loop() {
		c, err := s.start()
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		exitedEarly := c.stop()
		if err := os.RemoveAll(c.dir); err != nil {
			b.Fatal(err)
		}
		if exitedEarly {
			b.Fatalf("postgres on port %d exited on its own: %v", c.Port, c.waitErr)
		}
		b.StartTimer()
	}
}

func TestStopRemovesFiles(t *testing.T) {
	t.Parallel()
	requireSetup(t) // skips here, not in the subtest, so that nothing below checks pid 0
	var dir string
	var pid int
	t.Run("cluster", func(t *testing.T) {
		c := Start(t)
		dir, pid = c.dir, c.cmd.Process.Pid
	})
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster directory after cleanup: %v, want it removed", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("signal 0 to postgres (pid %d) after cleanup: %v, want ESRCH", pid, err)
	}
}

// Not parallel: it counts the cluster directories of the process.
func TestLaunchPortInUse(t *testing.T) {
	s := requireSetup(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Hang up at once, as a foreign server would refuse our password, so
	// that the readiness poll does not wait out its per-attempt timeout.
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	before := clusterDirs(t, s.root)

	c, err := s.launch(l.Addr().(*net.TCPAddr).Port)
	if err == nil {
		c.cleanup(t)
		t.Fatal("launch on a taken port succeeded")
	}
	if !errors.Is(err, errPortInUse) {
		t.Errorf("launch on a taken port: %v, want errPortInUse", err)
	}
	if after := clusterDirs(t, s.root); after != before {
		t.Errorf("cluster directories: %d after a failed launch, want %d", after, before)
	}
}

func clusterDirs(t *testing.T, root string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(root, "cluster-*"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

func TestSweepStale(t *testing.T) {
	base := t.TempDir()
	old := time.Now().Add(-2 * staleAge)
	mkdir := func(name string, lockAge time.Time) string {
		dir := filepath.Join(base, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if !lockAge.IsZero() {
			lock := filepath.Join(dir, "lock")
			if err := os.WriteFile(lock, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(lock, lockAge, lockAge); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	dead := mkdir(dirPrefix+"dead", old)
	alive := mkdir(dirPrefix+"alive", old)
	young := mkdir(dirPrefix+"young", time.Now())
	noLock := mkdir(dirPrefix+"nolock", time.Time{})
	other := mkdir("other", old)

	// flock treats separate opens independently, even in one process, so
	// this stands in for a live test process holding its lock.
	f, err := os.Open(filepath.Join(alive, "lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}

	sweepStale(base)

	for _, tc := range []struct {
		dir  string
		kept bool
	}{{dead, false}, {alive, true}, {young, true}, {noLock, true}, {other, true}} {
		_, err := os.Stat(tc.dir)
		if kept := err == nil; kept != tc.kept {
			t.Errorf("%s kept = %v (stat: %v), want %v", filepath.Base(tc.dir), kept, err, tc.kept)
		}
	}
}
