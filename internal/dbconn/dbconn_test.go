package dbconn_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"supervisor/internal/dbconn"
)

func sqliteTarget(path string) dbconn.Target {
	return dbconn.Target{Dialect: dbconn.SQLite, Path: path}
}

// open opens path with o and closes it when the test ends.
func open(t *testing.T, path string, o dbconn.Options) *sql.DB {
	t.Helper()
	db, err := dbconn.Open(context.Background(), sqliteTarget(path), o)
	if err != nil {
		t.Fatalf("Open(%s, %+v) = %v", path, o, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newDB makes a SQLite database at path holding table t with n rows.
func newDB(t *testing.T, path string, n int) {
	t.Helper()
	db, err := dbconn.Open(context.Background(), sqliteTarget(path), dbconn.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := db.Exec("INSERT INTO t (v) VALUES (?)", fmt.Sprint("row ", i)); err != nil {
			t.Fatal(err)
		}
	}
}

func count(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Looking must never create a database: without Create a missing file is
// ErrMissing and stays missing.
func TestMissingFile(t *testing.T) {
	tests := []struct {
		name string
		o    dbconn.Options
	}{
		{"read-write", dbconn.Options{}},
		{"read-only", dbconn.Options{ReadOnly: true}},
		{"read-only immediate", dbconn.Options{ReadOnly: true, ImmediateTx: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.sqlite")
			db, err := dbconn.Open(context.Background(), sqliteTarget(path), tt.o)
			if err == nil {
				db.Close()
			}
			if !errors.Is(err, dbconn.ErrMissing) {
				t.Errorf("Open(missing) = %v, want ErrMissing", err)
			}
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("Open(missing) error = %q, want it to name %s", err, path)
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			for _, e := range entries {
				t.Errorf("Open(missing) left %s behind", e.Name())
			}
		})
	}
}

func TestCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.sqlite")
	db := open(t, path, dbconn.Options{Create: true})
	if _, err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("after Create and CREATE TABLE: stat %s = %v, %v; want a non-empty file", path, fi, err)
	}
	// Opening an existing file with Create must not truncate it.
	db.Close()
	db = open(t, path, dbconn.Options{Create: true})
	var n int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 't'").Scan(&n); err != nil || n != 1 {
		t.Errorf("table t after reopening with Create: count %d (%v), want 1", n, err)
	}
}

// Paths are file names, not URL fragments: characters that mean something
// in a URI must reach the file system unchanged.
func TestPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b?c#d%20e&f=g")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "my product;1.sqlite")
	db := open(t, path, dbconn.Options{Create: true})
	if _, err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != filepath.Base(path) {
		t.Errorf("files in %q = %q, want only %q", dir, names, filepath.Base(path))
	}
	ro := open(t, path, dbconn.Options{ReadOnly: true})
	var n int
	if err := ro.QueryRow("SELECT count(*) FROM sqlite_master").Scan(&n); err != nil || n != 1 {
		t.Errorf("reading %q back: %d tables (%v), want 1", path, n, err)
	}
}

// A file of random bytes opens (SQLite reads lazily) but must fail in Open.
func TestNotADatabase(t *testing.T) {
	for _, ro := range []bool{false, true} {
		t.Run(fmt.Sprint("ReadOnly=", ro), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "garbage.sqlite")
			garbage := []byte(strings.Repeat("this is no SQLite database \x00\xff", 512))
			if err := os.WriteFile(path, garbage, 0o644); err != nil {
				t.Fatal(err)
			}
			db, err := dbconn.Open(context.Background(), sqliteTarget(path), dbconn.Options{ReadOnly: ro})
			if err == nil {
				db.Close()
				t.Fatal("Open(garbage) = nil error, want one")
			}
			if !strings.Contains(err.Error(), "not a database") {
				t.Errorf("Open(garbage) = %q, want it to say \"not a database\"", err)
			}
			if errors.Is(err, dbconn.ErrMissing) {
				t.Errorf("Open(garbage) = %v, is ErrMissing; the file exists", err)
			}
			if got, _ := os.ReadFile(path); string(got) != string(garbage) {
				t.Error("Open(garbage) changed the file")
			}
		})
	}
}

func TestReadOnlyRefusesWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.sqlite")
	newDB(t, path, 3)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db := open(t, path, dbconn.Options{ReadOnly: true})
	if got := count(t, db); got != 3 {
		t.Errorf("rows = %d, want 3", got)
	}
	for _, stmt := range []string{
		"INSERT INTO t (v) VALUES ('x')",
		"DELETE FROM t",
		"CREATE TABLE u (id INTEGER)",
	} {
		if _, err := db.Exec(stmt); err == nil || !strings.Contains(strings.ToLower(err.Error()), "readonly") {
			t.Errorf("read-only %q = %v, want a readonly error", stmt, err)
		}
	}
	db.Close()
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("the database file changed under a read-only connection")
	}
}

func TestPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.sqlite")
	newDB(t, path, 0)
	tests := []struct {
		name     string
		o        dbconn.Options
		wantBusy int
	}{
		{"defaults", dbconn.Options{}, 30000},
		{"read-only", dbconn.Options{ReadOnly: true}, 30000},
		{"busy timeout", dbconn.Options{BusyTimeout: 1500 * time.Millisecond}, 1500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := open(t, path, tt.o)
			var fk, busy int
			if err := db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil {
				t.Fatal(err)
			}
			if fk != 1 {
				t.Errorf("PRAGMA foreign_keys = %d, want 1", fk)
			}
			if err := db.QueryRow("PRAGMA busy_timeout").Scan(&busy); err != nil {
				t.Fatal(err)
			}
			if busy != tt.wantBusy {
				t.Errorf("PRAGMA busy_timeout = %d, want %d", busy, tt.wantBusy)
			}
		})
	}
}

// Foreign keys are enforced: a cascade really deletes the child rows.
func TestForeignKeysCascade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.sqlite")
	db := open(t, path, dbconn.Options{Create: true})
	for _, s := range []string{
		"CREATE TABLE parent (id INTEGER PRIMARY KEY)",
		"CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE)",
		"INSERT INTO parent (id) VALUES (1)",
		"INSERT INTO child (parent_id) VALUES (1)",
		"DELETE FROM parent",
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM child").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("child rows after deleting their parent = %d, want 0 (ON DELETE CASCADE)", n)
	}
	if _, err := db.Exec("INSERT INTO child (parent_id) VALUES (42)"); err == nil {
		t.Error("inserting a child of no parent succeeded, want a FOREIGN KEY error")
	}
}

// ImmediateTx makes BEGIN take the write lock at once: a second writer
// waits for it (and here, with a short busy timeout, gives up).
func TestImmediateTx(t *testing.T) {
	for _, immediate := range []bool{false, true} {
		t.Run(fmt.Sprint("ImmediateTx=", immediate), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.sqlite")
			newDB(t, path, 1)
			first := open(t, path, dbconn.Options{ImmediateTx: immediate})
			tx, err := first.Begin()
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			// A deferred BEGIN takes no lock until the first statement.
			second := open(t, path, dbconn.Options{BusyTimeout: 50 * time.Millisecond})
			_, err = second.Exec("INSERT INTO t (v) VALUES ('other writer')")
			locked := err != nil && strings.Contains(err.Error(), "locked")
			if err != nil && !locked {
				t.Fatalf("second writer: %v", err)
			}
			if locked != immediate {
				t.Errorf("second writer locked out = %v (%v), want %v", locked, err, immediate)
			}
		})
	}
}

func TestBadTargets(t *testing.T) {
	tests := []struct {
		name    string
		target  dbconn.Target
		wantErr string
	}{
		{"unknown dialect", dbconn.Target{Dialect: "mysql", Path: "x"}, `unknown database dialect "mysql"`},
		{"no dialect", dbconn.Target{Path: "x"}, "unknown database dialect"},
		{"no sqlite path", dbconn.Target{Dialect: dbconn.SQLite}, "no SQLite database path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := dbconn.Open(context.Background(), tt.target, dbconn.Options{Create: true})
			if err == nil {
				db.Close()
				t.Fatalf("Open(%+v) = nil error, want %q", tt.target, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open(%+v) = %q, want %q", tt.target, err, tt.wantErr)
			}
		})
	}
}

const helperEnv = "DBCONN_TEST_HOT_JOURNAL"

// TestHelperHotJournalWriter is not a test: run as a child process by
// TestHotJournalRolledBack, it opens a write transaction on the database
// its environment names, writes until pages spill into the database file,
// says "spilled" and waits to be killed.
func TestHelperHotJournalWriter(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process for TestHotJournalRolledBack")
	}
	fail := func(err error) {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	db, err := dbconn.Open(context.Background(), sqliteTarget(path), dbconn.Options{})
	if err != nil {
		fail(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	fi, err := os.Stat(path)
	if err != nil {
		fail(err)
	}
	for _, s := range []string{"PRAGMA journal_mode=DELETE", "PRAGMA cache_size=10", "BEGIN", "UPDATE t SET v = 'changed'"} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			fail(fmt.Errorf("%s: %w", s, err))
		}
	}
	// Grow the database well past the cache: SQLite must spill dirty pages
	// into the database file, which makes the journal hot.
	for i := 0; ; i++ {
		if _, err := conn.ExecContext(ctx, "INSERT INTO t (v) VALUES (?)", strings.Repeat("x", 4000)); err != nil {
			fail(err)
		}
		now, err := os.Stat(path)
		if err != nil {
			fail(err)
		}
		if now.Size() > fi.Size()+64<<10 {
			break
		}
		if i > 10000 {
			fail(errors.New("no spill after 10000 rows"))
		}
	}
	fmt.Println("spilled")
	time.Sleep(time.Minute)
	os.Exit(4)
}

// hotJournal makes a SQLite database of 5 rows in table t, then has a
// child process BEGIN, change every row, spill pages into the file and die
// by SIGKILL: the database is left with a hot journal. It returns its path.
func hotJournal(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.sqlite")
	newDB(t, path, 5)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHotJournalWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill := func() {
		once.Do(func() {
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
		})
	}
	t.Cleanup(kill)
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if txt := s.Text(); txt == "spilled" || strings.HasPrefix(txt, "error:") {
				line <- txt
				return
			}
		}
		line <- "helper ended without a word"
	}()
	select {
	case l := <-line:
		if l != "spilled" {
			t.Fatalf("helper: %s", l)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("helper did not spill within 30s")
	}
	kill()
	if fi, err := os.Stat(path + "-journal"); err != nil || fi.Size() == 0 {
		t.Fatalf("setup: after killing the writer: journal %v, %v; want a hot journal", fi, err)
	}
	// The scenario holds: a plain read-only connection cannot read.
	raw, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow("SELECT count(*) FROM t").Scan(&n); err == nil {
		t.Fatal("setup: a plain read-only connection reads the database despite the hot journal; the test proves nothing")
	}
	return path
}

// A writer killed mid-transaction leaves a hot journal that only a
// read-write connection can roll back. A read-only Open (status) must roll
// it back rather than fail on it forever, and see the data as it was.
func TestHotJournalRolledBack(t *testing.T) {
	t.Parallel()
	path := hotJournal(t)
	db := open(t, path, dbconn.Options{ReadOnly: true, BusyTimeout: time.Second})
	if got := count(t, db); got != 5 {
		t.Errorf("rows after the rollback = %d, want the 5 from before the killed transaction", got)
	}
	var changed int
	if err := db.QueryRow("SELECT count(*) FROM t WHERE v = 'changed'").Scan(&changed); err != nil {
		t.Fatal(err)
	}
	if changed != 0 {
		t.Errorf("%d rows keep the killed transaction's update, want 0", changed)
	}
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q (%v), want ok", check, err)
	}
	if fi, err := os.Stat(path + "-journal"); err == nil && fi.Size() > 0 {
		t.Errorf("journal still hot (%d bytes) after the read-only open", fi.Size())
	}
	db.Close()
	// And a second look works too.
	again := open(t, path, dbconn.Options{ReadOnly: true})
	if got := count(t, again); got != 5 {
		t.Errorf("rows on a second read-only open = %d, want 5", got)
	}
}

// The connection a read-only Open returns after rolling back a hot journal
// must still be read-only: status promises to only look.
func TestReadOnlyAfterHotJournalRollback(t *testing.T) {
	path := hotJournal(t)
	db := open(t, path, dbconn.Options{ReadOnly: true})
	if _, err := db.Exec("INSERT INTO t (v) VALUES ('written through a read-only handle')"); err == nil {
		t.Error("a write through Open(ReadOnly) succeeded after the hot-journal rollback, want a readonly error")
	}
}

// freePort returns a TCP port of 127.0.0.1 that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// silentServer accepts connections and never answers, like a server behind
// a black-holing firewall or a hung postmaster.
func silentServer(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// An unreachable PostgreSQL server fails within the connect timeout.
func TestPostgresUnreachable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		port func(*testing.T) int
	}{
		{"nothing listening", freePort},
		{"never answers", silentServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			target := dbconn.Target{Dialect: dbconn.Postgres, Host: "127.0.0.1", Port: tt.port(t), User: "u", Database: "d", Password: "pw"}
			start := time.Now()
			db, err := dbconn.Open(context.Background(), target, dbconn.Options{ConnectTimeout: time.Second})
			took := time.Since(start)
			if err == nil {
				db.Close()
				t.Fatal("Open(unreachable) = nil error, want one")
			}
			if took > 5*time.Second {
				t.Errorf("Open(unreachable) took %v, want about the 1s connect timeout", took)
			}
			if strings.Contains(err.Error(), "pw") && strings.Contains(err.Error(), "password=") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

// The caller's context ends a connection attempt too.
func TestPostgresHonoursContext(t *testing.T) {
	t.Parallel()
	target := dbconn.Target{Dialect: dbconn.Postgres, Host: "127.0.0.1", Port: silentServer(t), User: "u", Database: "d"}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	db, err := dbconn.Open(ctx, target, dbconn.Options{ConnectTimeout: 30 * time.Second})
	if err == nil {
		db.Close()
		t.Fatal("Open = nil error, want one")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Open with a 200ms context took %v", took)
	}
}

// IsLocked goes by SQLite's error code, through any wrapping, and not by
// the text: an error that only reads like SQLITE_BUSY is not one.
func TestIsLockedByErrorCode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.sqlite")
	newDB(t, path, 1)
	holder := open(t, path, dbconn.Options{ImmediateTx: true})
	tx, err := holder.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	other := open(t, path, dbconn.Options{FailIfLocked: true})
	_, err = other.Exec("INSERT INTO t (v) VALUES ('other writer')")
	if err == nil {
		t.Fatal("a second writer wrote while the first held the write lock")
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"the driver's error", err, true},
		{"wrapped", fmt.Errorf("cleanup: remove unused files: %w", err), true},
		{"its text only", errors.New(err.Error()), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		if got := dbconn.IsLocked(tt.err); got != tt.want {
			t.Errorf("%s: IsLocked(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
