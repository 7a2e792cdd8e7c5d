package cli

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/job"
	"supervisor/internal/registry"
	"supervisor/internal/status"
	"supervisor/internal/supervise"
)

func TestPrompter(t *testing.T) {
	const q = "Do you want to upgrade 'p' to new schema?"
	tests := []struct {
		name    string
		input   string
		yesAll  bool
		answers int
		want    []bool
		wantOut string
	}{
		{"y", "y\n", false, 1, []bool{true}, q + " Y(es)/n(o) y\n"},
		{"yes", "yes\n", false, 1, []bool{true}, q + " Y(es)/n(o) yes\n"},
		{"Y", "Y\n", false, 1, []bool{true}, q + " Y(es)/n(o) Y\n"},
		{"YeS with blanks", "  YeS \t\n", false, 1, []bool{true}, q + " Y(es)/n(o) YeS\n"},
		{"CRLF", "y\r\n", false, 1, []bool{true}, q + " Y(es)/n(o) y\n"},
		{"n", "n\n", false, 1, []bool{false}, q + " Y(es)/n(o) n\n"},
		{"no", "no\n", false, 1, []bool{false}, q + " Y(es)/n(o) no\n"},
		{"empty line", "\n", false, 1, []bool{false}, q + " Y(es)/n(o) (taken as no)\n"},
		{"garbage", "sure thing\n", false, 1, []bool{false}, q + " Y(es)/n(o) sure thing (taken as no)\n"},
		{"yess", "yess\n", false, 1, []bool{false}, q + " Y(es)/n(o) yess (taken as no)\n"},
		{"last line without newline", "y", false, 1, []bool{true}, q + " Y(es)/n(o) y\n"},
		{"EOF", "", false, 1, []bool{false}, q + " Y(es)/n(o) \nEnd of input: taking that as \"no\".\n"},
		{"EOF says so once", "y\n", false, 3, []bool{true, false, false},
			q + " Y(es)/n(o) y\n" +
				q + " Y(es)/n(o) \nEnd of input: taking that as \"no\".\n" +
				q + " Y(es)/n(o) n (end of input)\n"},
		{"one line per question", "n\ny\n", false, 2, []bool{false, true}, q + " Y(es)/n(o) n\n" + q + " Y(es)/n(o) y\n"},
		{"--yes", "n\n", true, 2, []bool{true, true}, q + " Y(es)/n(o) y (--yes)\n" + q + " Y(es)/n(o) y (--yes)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			in := strings.NewReader(tt.input)
			p := newPrompter(in, &out, tt.yesAll)
			var got []bool
			for range tt.answers {
				got = append(got, p.ask(q))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("answers to %q = %v, want %v", tt.input, got, tt.want)
			}
			if out.String() != tt.wantOut {
				t.Errorf("output:\n%q\nwant\n%q", out.String(), tt.wantOut)
			}
			if tt.yesAll && in.Len() != len(tt.input) {
				t.Errorf("--yes read %d bytes of input, want none", len(tt.input)-in.Len())
			}
		})
	}
}

// A failing stdin (not EOF) counts as no as well, and a nil one as empty.
func TestPrompterBrokenInput(t *testing.T) {
	for name, in := range map[string]io.Reader{
		"read error": iotest.ErrReader(errors.New("input/output error")),
		"nil":        nil,
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			p := newPrompter(in, &out, false)
			first := p.ask("Q?")
			second := p.ask("Q?") // asked again: the input stays broken
			if first || second {
				t.Error("ask said yes on a broken input")
			}
			if n := strings.Count(out.String(), "taking that as \"no\""); n != 1 {
				t.Errorf("output %q says it took no %d times, want once", out.String(), n)
			}
		})
	}
}

// Piped answers are echoed; a terminal echoes by itself.
func TestPrompterEchoOnlyWhenPiped(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "answers")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("y\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	if !newPrompter(f, &out, false).ask("Q?") {
		t.Fatal("ask = false, want true")
	}
	// A regular file is not a terminal: echoed.
	if got, want := out.String(), "Q? Y(es)/n(o) y\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
	if isTerminal(f) || isTerminal(strings.NewReader("")) {
		t.Error("isTerminal is true for a file or a string reader")
	}
	if tty, err := os.Open("/dev/tty"); err == nil {
		defer tty.Close()
		if !isTerminal(tty) {
			t.Error("isTerminal(/dev/tty) = false, want true")
		}
	}
}

func products(endpoints ...string) []registry.Product {
	var ps []registry.Product
	for _, e := range endpoints {
		ps = append(ps, registry.Product{Endpoint: e, Target: dbconn.Target{Dialect: "sqlite", Path: "/" + e}})
	}
	return ps
}

func endpoints(ps []registry.Product) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Endpoint)
	}
	return out
}

func TestSelectProducts(t *testing.T) {
	all := products("Default", "alpha", "beta", "gamma")
	tests := []struct {
		name     string
		all      []registry.Product
		selected []string
		want     []string
		wantErr  string
	}{
		{"none selected is all", all, nil, []string{"Default", "alpha", "beta", "gamma"}, ""},
		{"empty selection is all", all, []string{}, []string{"Default", "alpha", "beta", "gamma"}, ""},
		{"one", all, []string{"beta"}, []string{"beta"}, ""},
		{"endpoint order, not selection order", all, []string{"gamma", "Default", "beta"}, []string{"Default", "beta", "gamma"}, ""},
		{"twice is once", all, []string{"alpha", "alpha"}, []string{"alpha"}, ""},
		{"unknown", all, []string{"alpha", "nope"}, nil, `unknown product "nope"`},
		{"only unknown never widens", all, []string{"nope"}, nil, `unknown product "nope"`},
		{"case matters", all, []string{"default"}, nil, `unknown product "default"`},
		{"no products at all", nil, []string{"alpha"}, nil, `unknown product "alpha"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := selectProducts(tt.all, tt.selected)
			if tt.wantErr != "" {
				var ue *usageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("selectProducts(%v) error = %v, want a usage error %q", tt.selected, err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("selectProducts(%v) = %v with its error, want nothing", tt.selected, endpoints(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("selectProducts(%v) = %v", tt.selected, err)
			}
			if !slices.Equal(endpoints(got), tt.want) {
				t.Errorf("selectProducts(%v) = %v, want %v", tt.selected, endpoints(got), tt.want)
			}
		})
	}
}

// A worker gets the allow-listed variables only: locale, time, the
// system's, Go's, the worker's own and libpq's that hold no secret. Every
// other variable of the operator's shell, whatever its name, stays out,
// and so do PGPASSWORD, PGSSLPASSWORD and the products' password variables.
func TestWorkerEnvAllowsOnlyTheListed(t *testing.T) {
	environ := []string{
		"PATH=/usr/bin",
		"PGPASSWORD=global-secret",
		"ALPHA_PW=alpha-secret",
		"HOME=/home/op",
		"AWS_SECRET_ACCESS_KEY=aws-secret",
		"GITHUB_TOKEN=gh-secret",
		"PGSSLPASSWORD=key-secret",
		"LANG=C.UTF-8",
		"LC_ALL=C",
		"LC_MESSAGES=C",
		"TZ=UTC",
		"SUPERVISOR_WORKER=0",
		"SUPERVISOR_WORKER_LOG_LEVEL=debug",
		"SUPERVISOR_WORKSPACE=/ws",
		"PGHOST=db.example",
		"PGPORT=5433",
		"PGUSER=op",
		"PGSSLMODE=verify-full",
		"PGPASSFILE=/home/op/.pgpass",
		"PGPASSWORD_HINT=not-listed-secret",
		"BETA_PW=beta-secret",
		"PGAPPNAME=mine",
		"GOCOVERDIR=/cover",
		"ALPHA_PW=set twice secret",
	}
	ps := []registry.Product{
		{Endpoint: "alpha", PasswordEnv: "ALPHA_PW", Target: dbconn.Target{Dialect: "postgres"}},
		{Endpoint: "beta", PasswordEnv: "BETA_PW", Target: dbconn.Target{Dialect: "postgres"}},
		// A password variable whose name is on the list is still left out.
		{Endpoint: "delta", PasswordEnv: "PGAPPNAME", Target: dbconn.Target{Dialect: "postgres"}},
		{Endpoint: "gamma", Target: dbconn.Target{Dialect: "sqlite", Path: "/g"}},
	}
	got := workerEnv(environ, ps)
	want := []string{
		"PATH=/usr/bin", "HOME=/home/op", "LANG=C.UTF-8", "LC_ALL=C", "LC_MESSAGES=C", "TZ=UTC",
		"SUPERVISOR_WORKER_LOG_LEVEL=debug", "PGHOST=db.example", "PGPORT=5433", "PGUSER=op",
		"PGSSLMODE=verify-full", "PGPASSFILE=/home/op/.pgpass", "GOCOVERDIR=/cover", "SUPERVISOR_WORKER=1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("workerEnv =\n%q\nwant\n%q", got, want)
	}
	for _, kv := range got {
		if strings.Contains(kv, "secret") {
			t.Errorf("workerEnv kept %q", kv)
		}
	}
	// No products: the marker is still set once, nothing unlisted kept.
	got = workerEnv([]string{"PGPASSWORD=x", "A=1", "SUPERVISOR_WORKER=1"}, nil)
	if want := []string{"SUPERVISOR_WORKER=1"}; !slices.Equal(got, want) {
		t.Errorf("workerEnv without products = %q, want %q", got, want)
	}
}

func TestSessionLifetime(t *testing.T) {
	tests := []struct {
		name       string
		flag       time.Duration
		file       *string // server_config.json; nil = none
		want       time.Duration
		wantSource string // "file" = the file's path
		wantErr    string
	}{
		{"default", 0, nil, 5 * time.Minute, "CodeChecker's default", ""},
		{"flag", 90 * time.Second, nil, 90 * time.Second, "--session-lifetime", ""},
		{"file", 0, ptr(`{"authentication": {"enabled": true, "session_lifetime": 3600}}`), time.Hour, "file", ""},
		{"fractional seconds", 0, ptr(`{"authentication": {"session_lifetime": 0.5}}`), 500 * time.Millisecond, "file", ""},
		{"flag wins over file", time.Minute, ptr(`{"authentication": {"session_lifetime": 3600}}`), time.Minute, "--session-lifetime", ""},
		{"file without the key", 0, ptr(`{"authentication": {"enabled": false}}`), 5 * time.Minute, "CodeChecker's default", ""},
		{"no authentication section", 0, ptr(`{"max_run_count": 3}`), 5 * time.Minute, "CodeChecker's default", ""},
		{"zero is the default", 0, ptr(`{"authentication": {"session_lifetime": 0}}`), 5 * time.Minute, "CodeChecker's default", ""},
		{"negative is the default", 0, ptr(`{"authentication": {"session_lifetime": -5}}`), 5 * time.Minute, "CodeChecker's default", ""},
		{"bad JSON", 0, ptr(`{"authentication": `), 0, "", "server_config.json"},
		{"wrong type", 0, ptr(`{"authentication": {"session_lifetime": "1h"}}`), 0, "", "server_config.json"},
		{"bad JSON does not matter with the flag", time.Minute, ptr(`nonsense`), time.Minute, "--session-lifetime", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "server_config.json")
			if tt.file != nil {
				if err := os.WriteFile(path, []byte(*tt.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, source, err := sessionLifetime(tt.flag, dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("sessionLifetime error = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantSource := tt.wantSource
			if wantSource == "file" {
				wantSource = path
			}
			if got != tt.want || source != wantSource {
				t.Errorf("sessionLifetime = %v from %q, want %v from %q", got, source, tt.want, wantSource)
			}
		})
	}
}

// A server_config.json that cannot be read is an error, not the default.
func TestSessionLifetimeUnreadable(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "server_config.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, _, err := sessionLifetime(0, dir); err == nil {
		t.Errorf("sessionLifetime with a directory for server_config.json = %v, nil; want an error", got)
	}
}

func ptr(s string) *string { return &s }

func TestPrintTable(t *testing.T) {
	tests := []struct {
		name string
		rows [][]string
		want string
	}{
		{
			name: "header only",
			rows: [][]string{{"A", "Bee"}},
			want: "" +
				"--+----\n" +
				"A | Bee\n" +
				"--+----\n" +
				"--+----\n",
		},
		{
			name: "widest cell wins, last column not padded",
			rows: [][]string{{"Product", "St", "V"}, {"p", "a long status", "1"}, {"longer endpoint", "x", ""}},
			want: "" +
				"----------------+---------------+--\n" +
				"Product         | St            | V\n" +
				"----------------+---------------+--\n" +
				"p               | a long status | 1\n" +
				"longer endpoint | x             |\n" +
				"----------------+---------------+--\n",
		},
		{
			name: "width in characters, not bytes",
			rows: [][]string{{"Név", "X"}, {"ünïcödé", "y"}, {"a", "z"}},
			want: "" +
				"--------+--\n" +
				"Név     | X\n" +
				"--------+--\n" +
				"ünïcödé | y\n" +
				"a       | z\n" +
				"--------+--\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			printTable(&b, tt.rows)
			if b.String() != tt.want {
				t.Errorf("printTable =\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestConfigLocation(t *testing.T) {
	ws := t.TempDir()
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		configDB string
		want     dbconn.Target
		wantBase string
		usage    bool // want a usage error
	}{
		{"default", "", dbconn.Target{Dialect: "sqlite", Path: filepath.Join(ws, "config.sqlite")}, ws, false},
		{"sqlite:ABS", "sqlite:/srv/cc/config.sqlite", dbconn.Target{Dialect: "sqlite", Path: "/srv/cc/config.sqlite"}, "/srv/cc", false},
		{"sqlite:REL is relative to the working directory", "sqlite:cc/config.sqlite",
			dbconn.Target{Dialect: "sqlite", Path: filepath.Join(cwd, "cc", "config.sqlite")}, filepath.Join(cwd, "cc"), false},
		{"SQLAlchemy sqlite:////abs", "sqlite:////srv/cc/config.sqlite", dbconn.Target{Dialect: "sqlite", Path: "/srv/cc/config.sqlite"}, "/srv/cc", false},
		{"SQLAlchemy sqlite:///rel is relative to the workspace", "sqlite:///sub/config.sqlite",
			dbconn.Target{Dialect: "sqlite", Path: filepath.Join(ws, "sub", "config.sqlite")}, filepath.Join(ws, "sub"), false},
		{"postgres", "postgres://u@h:1/d", dbconn.Target{Dialect: "postgres", Host: "h", Port: 1, User: "u", Database: "d"}, ws, false},
		{"postgresql default port", "postgresql://cc@db.example/config",
			dbconn.Target{Dialect: "postgres", Host: "db.example", Port: 5432, User: "cc", Database: "config"}, ws, false},
		{"postgres+driver", "postgresql+psycopg2://u@h:5433/d",
			dbconn.Target{Dialect: "postgres", Host: "h", Port: 5433, User: "u", Database: "d"}, ws, false},
		{"a .sqlite path", "cc/config.sqlite",
			dbconn.Target{Dialect: "sqlite", Path: filepath.Join(cwd, "cc", "config.sqlite")}, filepath.Join(cwd, "cc"), false},
		{"postgres with password", "postgresql+psycopg2://u:p%40ss@h:5433/d", dbconn.Target{}, "", true},
		{"a path not ending in .sqlite", "cc/config.db", dbconn.Target{}, "", true},
		{"garbage", "garbage", dbconn.Target{}, "", true},
		{"unknown scheme", "mysql://u@h/d", dbconn.Target{}, "", true},
		{"postgres without database", "postgres://u@h:1/", dbconn.Target{}, "", true},
		{"postgres with bad port", "postgres://u@h:99999/d", dbconn.Target{}, "", true},
		{"sqlite with a host", "sqlite://host/x.sqlite", dbconn.Target{}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &globals{workspace: ws, configDB: tt.configDB}
			got, base, err := g.configLocation()
			if tt.usage {
				var ue *usageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--config-db") {
					t.Errorf("configLocation(%q) = %+v, %v; want a --config-db usage error", tt.configDB, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("configLocation(%q) = %v", tt.configDB, err)
			}
			if !reflect.DeepEqual(got, tt.want) || base != tt.wantBase {
				t.Errorf("configLocation(%q) = %+v, base %q; want %+v, base %q", tt.configDB, got, base, tt.want, tt.wantBase)
			}
		})
	}
}

// A --config-db error never repeats the URL, which may hold a password.
func TestConfigLocationHidesPassword(t *testing.T) {
	for _, raw := range []string{"postgres://u:hunter2@h:notaport/d", "postgresql://u:hunter2@/d", "weird://u:hunter2@h/d"} {
		g := &globals{workspace: t.TempDir(), configDB: raw}
		_, _, err := g.configLocation()
		if err == nil {
			t.Errorf("configLocation(%q) = nil error, want one", raw)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("configLocation(%q) error %q shows the password", raw, err)
		}
	}
}

// TestOutcomeReasonIsOneLine: a worker error that spans lines (a driver's
// per-attempt errors) gives a one-line reason, so a summary row or status
// reason never spills over several table lines.
func TestOutcomeReasonIsOneLine(t *testing.T) {
	multi := "connect: failed to connect to `host=db user=u database=p`:\n\t127.0.0.1:5432 (db): server closed the connection\n\t[::1]:5432 (db): dial error"
	tests := []struct {
		name string
		o    supervise.Outcome
	}{
		{"worker result", supervise.Outcome{Result: &job.Result{Error: multi}, Err: supervise.ErrJobFailed}},
		{"supervisor error", supervise.Outcome{Err: errors.New(multi)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := outcomeReason(tt.o)
			if strings.ContainsAny(got, "\n\r\t") {
				t.Errorf("outcomeReason = %q, want one line", got)
			}
			if !strings.Contains(got, "server closed the connection") {
				t.Errorf("outcomeReason = %q, lost the cause", got)
			}
		})
	}
}

// A worker killed after it adopted its database as 001 records nothing: the
// summary row still says the versions the status tables say (before the
// run, after it), not "-". A product whose state could not be read after
// the run keeps what its worker said.
func TestSummaryVersionsFromStatusAfterKilledWorker(t *testing.T) {
	before := []productState{
		{Endpoint: "adopted", Status: status.SchemaMismatchOK, DBVersion: "cc:abc"},
		{Endpoint: "unreachable", Status: status.SchemaMismatchOK, DBVersion: "001"},
		{Endpoint: "new", Status: status.Missing},
	}
	after := []productState{
		{Endpoint: "adopted", Status: status.SchemaMismatchOK, DBVersion: "001"},
		{Endpoint: "unreachable", Status: status.FailedToConnect},
		{Endpoint: "new", Status: status.OK, DBVersion: "002"},
	}
	rows := []summaryRow{
		{endpoint: "adopted", err: "worker killed"},       // no result record
		{endpoint: "unreachable", from: "001", to: "002"}, // its record
		{endpoint: "new", from: "", to: "001"},            // stale record
	}
	versionsFromStates(rows, before, after)
	want := [][2]string{{"cc:abc", "001"}, {"001", "002"}, {"", "002"}}
	for i, r := range rows {
		if got := [2]string{r.from, r.to}; got != want[i] {
			t.Errorf("%s: from/to = %q, want %q", r.endpoint, got, want[i])
		}
	}
}
