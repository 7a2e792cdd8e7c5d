package integration

// End-to-end tests of the log stream (text and JSON, every product line
// naming its product, stdout kept for tables) and of secrets (a PostgreSQL
// password never reaches argv, a worker's environment, or any output).
// Shared helpers are in harness_test.go, dbcheck_test.go and output_test.go.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"supervisor/integration/fleet"
	"supervisor/integration/workspace"
	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
)

// e2eTextLine is the shape of a text-format log line: hclog's UTC timestamp
// with milliseconds and the level, then the message.
var e2eTextLine = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(TRACE|DEBUG|INFO|WARN|ERROR)\] +(.*)$`)

// e2eSupervisorLines are the messages that are about no product and so
// carry no endpoint.
var e2eSupervisorLines = []string{"config database", "--backup-dir"}

func e2eAboutNoProduct(msg string) bool {
	return slices.ContainsFunc(e2eSupervisorLines, func(p string) bool { return strings.HasPrefix(msg, p) })
}

// e2eLogFleet makes the workspace the log tests run on: products that log
// adoption, initialisation, upgrades and a failure.
func e2eLogFleet(t *testing.T) (*testWorkspace, []string) {
	w := newWorkspace(t)
	w.Fixture(t, "l-cc", "product-head.sqlite")
	w.Missing(t, "l-missing")
	w.Garbage(t, "l-noise")
	w.SQLite(t, "l-old", "001", 50)
	w.SQLite(t, "l-old2", "001", 0)
	w.SQLite(t, "l-current", "latest", 0)
	w.Close()
	return w, []string{"l-cc", "l-current", "l-missing", "l-noise", "l-old", "l-old2"}
}

var e2eLogApplying = map[string]int{"l-cc": 1, "l-missing": 2, "l-old": 1, "l-old2": 1}

// stdout holds the tables and nothing of the log stream; stderr holds the
// log stream and nothing of the tables.
func e2eCheckStreams(t *testing.T, r result) {
	t.Helper()
	for _, l := range strings.Split(r.stdout, "\n") {
		if e2eTextLine.MatchString(l) || strings.HasPrefix(strings.TrimSpace(l), "{") {
			t.Errorf("a log line on stdout: %q", l)
		}
	}
	if strings.Contains(r.stderr, "Product endpoint") || strings.Contains(r.stderr, "-+-") {
		t.Errorf("a table on stderr\n%s", r)
	}
	e2eMigrateTables(t, r)
}

// --log-format json: every stderr line is an hclog JSON line naming its
// product (or about no product), stdout holds only tables and documents,
// and the error that ends a run is one JSON line.
func TestE2ELogFormatJSON(t *testing.T) {
	t.Parallel()
	w, endpoints := e2eLogFleet(t)
	// Global options before the command.
	r := supervisor(t, w.Dir, "", nil, "--log-format", "json", "--log-level", "trace", "migrate", "-y", "-j", "2")
	if r.code != 1 {
		t.Fatalf("migrate with a broken product: want exit 1\n%s", r)
	}
	e2eCheckStreams(t, r)
	applying := map[string]int{}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if len(lines) < 10 {
		t.Fatalf("only %d log lines\n%s", len(lines), r)
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("stderr line is not JSON (%v): %q", err, l)
			continue
		}
		msg, _ := m["@message"].(string)
		if _, ok := m["@level"].(string); !ok || msg == "" || m["@timestamp"] == nil {
			t.Errorf("not an hclog line: %q", l)
		}
		ep, has := m["endpoint"].(string)
		switch {
		case !has && !e2eAboutNoProduct(msg):
			t.Errorf("line without endpoint: %q", l)
		case has && !slices.Contains(endpoints, ep):
			t.Errorf("line names an unknown endpoint: %q", l)
		case strings.HasPrefix(msg, "["):
			t.Errorf("the JSON message carries a text prefix: %q", l)
		}
		if msg == "applying migration file" {
			applying[ep]++
		}
	}
	if !maps.Equal(applying, e2eLogApplying) {
		t.Errorf("applying migration file lines per endpoint %v, want %v", applying, e2eLogApplying)
	}

	// status --json with JSON logs: stdout is exactly the document, the
	// failure is a JSON log line naming its product. Globals after the command.
	r = supervisor(t, w.Dir, "", nil, "status", "--json", "--log-format", "json")
	if r.code != 1 {
		t.Errorf("status: want exit 1 (l-noise)\n%s", r)
	}
	if rows := statusJSON(t, r); len(rows) != len(endpoints) {
		t.Errorf("status --json: %d rows", len(rows))
	}
	found := false
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("status: stderr line is not JSON: %q", l)
		}
		found = found || m["endpoint"] == "l-noise"
	}
	if !found {
		t.Errorf("status: no JSON log line for l-noise\n%s", r)
	}

	// The error that ends a run is a JSON line too.
	for _, args := range [][]string{
		{"--log-format", "json", "status", "--product", "nope"},
		{"status", "--product", "nope", "--log-format", "json"},
		{"--log-format", "json", "migrate", "-y", "--bogus"},
		{"--log-format", "json", "products", "add", "bad/name", "--sqlite", "x.sqlite"},
	} {
		r := supervisor(t, w.Dir, "", nil, args...)
		if r.code != 2 || r.stdout != "" {
			t.Errorf("%q: want exit 2 and nothing on stdout\n%s", args, r)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(r.stderr), &m); err != nil || m["@level"] != "error" || m["@message"] == "" {
			t.Errorf("%q: stderr is not one JSON error line (%v)\n%s", args, err, r)
		}
	}
}

// The text log format: every stderr line is a log line, prefixed with
// [endpoint] when it is about a product.
func TestE2ELogFormatText(t *testing.T) {
	t.Parallel()
	w, endpoints := e2eLogFleet(t)
	// Global options after the command.
	r := supervisor(t, w.Dir, "", nil, "migrate", "-y", "-j", "2", "--log-level", "trace")
	if r.code != 1 {
		t.Fatalf("migrate with a broken product: want exit 1\n%s", r)
	}
	e2eCheckStreams(t, r)
	prefix := regexp.MustCompile(`^\[([\w-]+)\] `)
	for _, l := range strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n") {
		m := e2eTextLine.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("not a log line: %q", l)
			continue
		}
		p := prefix.FindStringSubmatch(m[2])
		switch {
		case p == nil && !e2eAboutNoProduct(m[2]):
			t.Errorf("line without [endpoint]: %q", l)
		case p != nil && !slices.Contains(endpoints, p[1]):
			t.Errorf("line names an unknown endpoint: %q", l)
		}
	}
	if got := e2eApplying(r.stderr); !maps.Equal(got, e2eLogApplying) {
		t.Errorf("applying migration file lines per endpoint %v, want %v", got, e2eLogApplying)
	}
	if !strings.Contains(r.stderr, "[l-noise] ") || !strings.Contains(r.stderr, "not a database") {
		t.Errorf("the broken product's failure is not logged under its name\n%s", r)
	}
}

// ---------------------------------------------------------------------------
// Secrets

// e2eSecretRun says how e2eWatchSecrets runs the supervisor and what it
// looks for.
type e2eSecretRun struct {
	env, args []string
	// secrets are the passwords, by product.
	secrets map[string]string
	// operatorEnv names the products whose password the operator put in
	// the supervisor's own environment: there, and only there, it may be.
	operatorEnv []string
	// secretVars are variables no worker may inherit.
	secretVars []string
	// workers is how many workers must be seen; releases let them go on
	// once they have been (they wait for their products' locks).
	workers  int
	releases []func()
}

// e2eWatchSecrets runs the supervisor and polls every process's argv and
// environment until it exits: none may hold a password (but the operator's
// own environment of the supervisor), no worker a password variable, and
// no output line a password. The run must exit 0.
func e2eWatchSecrets(t *testing.T, ws string, sr e2eSecretRun) {
	t.Helper()
	run := startCombined(t, ws, "", sr.env, sr.args...)
	sup := run.pid()
	releaseAll := func() {
		for _, rel := range sr.releases {
			rel()
		}
	}
	// A run that ends without the workers (none was needed) must not leave
	// the locks held for the caller's next run.
	defer releaseAll()

	leaks := map[string]bool{}
	workers := map[int]bool{}
	scansSinceAll := 0
	// A child caught between fork and exec still shows the supervisor's own
	// argv and environment (the copy exec is about to replace): that is not
	// a worker's environment, so it is not judged as one.
	var supCmdline []byte
	deadline := time.Now().Add(90 * time.Second)
scan:
	for {
		procs := allProcs()
		for _, p := range procs {
			if p.pid == sup && len(p.cmdline) > 0 {
				supCmdline = p.cmdline
			}
		}
		for _, p := range procs {
			if p.ppid == sup && supCmdline != nil && bytes.Equal(p.cmdline, supCmdline) {
				continue // forked, not yet exec'd
			}
			for name, pw := range sr.secrets {
				if bytes.Contains(p.cmdline, []byte(pw)) {
					leaks[fmt.Sprintf("argv of pid %d (%q) holds the password of %s", p.pid, p.cmdline, name)] = true
				}
				if bytes.Contains(p.environ, []byte(pw)) && (p.pid != sup || !slices.Contains(sr.operatorEnv, name)) {
					leaks[fmt.Sprintf("environment of pid %d (%q) holds the password of %s", p.pid, p.cmdline, name)] = true
				}
			}
			if p.ppid == sup && environHas(p.environ, "SUPERVISOR_WORKER") {
				workers[p.pid] = true
				for _, v := range sr.secretVars {
					if environHas(p.environ, v) {
						leaks[fmt.Sprintf("worker %d inherited %s", p.pid, v)] = true
					}
				}
			}
			if p.pid == sup && len(p.environ) > 0 {
				for _, name := range sr.operatorEnv {
					if !bytes.Contains(p.environ, []byte(sr.secrets[name])) {
						t.Errorf("cannot see %s's password in the supervisor's own environment: the scan is blind", name)
					}
				}
			}
		}
		if len(workers) >= sr.workers {
			// The workers are up and waiting for the locks: look a while
			// longer, then let them go.
			if scansSinceAll++; scansSinceAll == 20 {
				releaseAll()
			}
		}
		select {
		case <-run.done:
			break scan
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			releaseAll()
			t.Fatalf("the supervisor did not finish in time (workers seen: %v)", workers)
		}
	}
	for l := range leaks {
		t.Error(l)
	}
	if len(workers) < sr.workers {
		t.Errorf("saw %d worker processes, want %d: did the products' lock stop them? (the lock key must match internal/migrate's)", len(workers), sr.workers)
	}
	code, out := run.res.code, run.res.stdout
	for name, pw := range sr.secrets {
		if strings.Contains(out, pw) {
			t.Errorf("the output holds the password of %s", name)
		}
	}
	if code != 0 {
		t.Errorf("%q: want exit 0, got %d\n%s", sr.args, code, out)
	}
}

// While workers run, no process's argv and no process's environment holds a
// product's password, except the environment the operator gave the
// supervisor itself; no output line does either. One password comes through
// --db-password-env VAR, the other from PGPASSFILE.
func TestE2ESecrets(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	w := newWorkspace(t)
	const pwEnv = "E2E_SECRET_PASSWORD"
	viaEnv := w.Postgres(t, c, "sec-env", "sec_env", "001", 200, newPGRole(t, c, "sec_env"), pwEnv)
	viaFile := w.Postgres(t, c, "sec-file", "sec_file", "001", 200, newPGRole(t, c, "sec_file"), "")
	// Not selected below; its variable is set all the same and must not
	// reach the other products' workers either.
	const otherEnv = "E2E_OTHER_PASSWORD"
	w.Unreachable(t, "sec-other", otherEnv)
	w.Close()
	secrets := map[string]string{"sec-env": viaEnv.Password, "sec-file": viaFile.Password, "sec-other": "pw-" + rand.Text()}
	passfile := writePassfile(t, viaFile)

	_, releaseEnv := holdProductLock(t, clusterTarget(c, viaEnv.Database))
	_, releaseFile := holdProductLock(t, clusterTarget(c, viaFile.Database))
	releases := []func(){releaseEnv, releaseFile}
	e2eWatchSecrets(t, w.Dir, e2eSecretRun{
		env:         []string{pwEnv + "=" + viaEnv.Password, otherEnv + "=" + secrets["sec-other"], "PGPASSFILE=" + passfile},
		args:        []string{"--log-level", "trace", "migrate", "-y", "-j", "2", "--lock-timeout", "2m", "--product", "sec-env", "--product", "sec-file"},
		secrets:     secrets,
		operatorEnv: []string{"sec-env", "sec-other"},
		secretVars:  []string{pwEnv, otherEnv, "PGPASSWORD"},
		workers:     2,
		releases:    releases,
	})
	for _, tg := range []dbconn.Target{viaEnv, viaFile} {
		if v := lastRevision(t, tg); v != latestVersion(t, "postgres") {
			t.Errorf("%s at %q after migrate", tg.Database, v)
		}
	}

	// The variable is required: unset, the product fails with a message
	// naming the variable (not a password).
	r := supervisor(t, w.Dir, "", []string{"PGPASSFILE=" + passfile}, "status", "--product", "sec-env", "--json")
	rows := statusJSON(t, r)
	if r.code != 1 || rows[0].Status != "failed_to_connect" || !strings.Contains(rows[0].Reason, pwEnv) {
		t.Errorf("status without %s: want failed_to_connect naming the variable\n%s", pwEnv, r)
	}
	// A wrong password fails without repeating it.
	wrong := "wrong-" + secrets["sec-env"]
	r = supervisor(t, w.Dir, "", []string{pwEnv + "=" + wrong}, "--log-level", "trace", "migrate", "-y", "--product", "sec-env")
	if r.code != 1 || strings.Contains(r.stdout+r.stderr, secrets["sec-env"]) || !strings.Contains(r.stderr, "password authentication failed") {
		t.Errorf("migrate with a wrong password: want exit 1, the server's refusal and no password in the output\n%s", r)
	}
}

// CodeChecker keeps a product's password in its connection URL in the config
// database. Used from there, it still travels only on the worker's stdin:
// no process's argv or environment and no output holds it.
func TestE2ESecretsCodeCheckerURL(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	role := newPGRole(t, c, "sec_url")
	c.Exec(t, "postgres", `CREATE DATABASE sec_url OWNER sec_url`)
	tg := dbconn.Target{Dialect: "postgres", Host: c.Host, Port: c.Port, User: role.User, Password: role.Password, Database: "sec_url"}
	if _, err := workspace.MakeProduct(context.Background(), tg, "001", fleet.Options{Reports: 100, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	ws := filepath.Join(t.TempDir(), "workspace")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(ws, "config.sqlite")
	copyFixture(t, "config-head.sqlite", config)
	cfg := openDB(t, sqliteTarget(config))
	url := fmt.Sprintf("postgresql://%s:%s@%s:%d/%s", role.User, role.Password, c.Host, c.Port, tg.Database)
	if _, err := cfg.Exec(`INSERT INTO products (endpoint, connection, display_name) VALUES ('sec-url', ?, 'sec-url')`, url); err != nil {
		t.Fatal(err)
	}
	cfg.Close()
	secrets := map[string]string{"sec-url": role.Password}
	env := []string{"PGPASSWORD=", "PGPASSFILE=/nonexistent"}

	for _, args := range [][]string{{"products", "list", "--json"}, {"products", "list"}, {"status", "--json"}, {"status"}, {"migrate", "--sql"}} {
		r := supervisor(t, ws, "", env, append([]string{"--log-level", "trace"}, args...)...)
		if strings.Contains(r.stdout+r.stderr, role.Password) {
			t.Errorf("%q prints the password\n%s", args, r)
		}
		if args[0] == "status" && (r.code != 1 || !strings.Contains(r.stdout, "001")) {
			t.Errorf("%q: want sec-url at 001 (connected with the URL's password), exit 1\n%s", args, r)
		}
	}
	_, release := holdProductLock(t, clusterTarget(c, tg.Database))
	e2eWatchSecrets(t, ws, e2eSecretRun{
		env:        env,
		args:       []string{"--log-level", "trace", "migrate", "-y", "-j", "1", "--lock-timeout", "2m"},
		secrets:    secrets,
		secretVars: []string{"PGPASSWORD"},
		workers:    1,
		releases:   []func(){release},
	})
	if v := lastRevision(t, tg); v != latestVersion(t, "postgres") {
		t.Errorf("sec-url at %q after migrate", v)
	}
	if r := supervisor(t, ws, "", env, "status"); r.code != 0 || strings.Contains(r.stdout+r.stderr, role.Password) {
		t.Errorf("status after migrate: want exit 0, no password\n%s", r)
	}
}
