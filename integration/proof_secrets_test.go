package integration

// Proof suite, secrets: a PostgreSQL product whose role has a password,
// registered through the command line as an operator would
// (`products add --db-password-env VAR`). While its workers run (migrate,
// cleanup, up), no process's argv or environment holds the password (the
// supervisor's own environment, where the operator put it, aside); no log
// line in either format, no --json document, no error message holds it;
// nor does any file of the workspace (the config database included, with
// its journal) once every run is done. TestE2ESecrets and
// TestE2ESecretsCodeCheckerURL (e2e_logs_test.go) cover PGPASSFILE and the
// password CodeChecker keeps in its connection URL; this one adds cleanup,
// up, the JSON log format, failure paths and the workspace's bytes.

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"supervisor/internal/pgtest"
	"supervisor/internal/testutil"
)

func TestProofSecrets(t *testing.T) {
	p := proofScenario(t, "secrets")
	c := pgtest.Start(t)
	role := newPGRole(t, c, "proof_secret")
	const pwEnv = "PROOF_SECRET_PASSWORD"
	ws := filepath.Join(t.TempDir(), "ws")
	env := []string{pwEnv + "=" + role.Password, "PGPASSWORD=", "PGPASSFILE=/nonexistent"}
	var outputs []string
	run := func(t *testing.T, args ...string) result {
		t.Helper()
		r := supervisor(t, ws, "", env, args...)
		outputs = append(outputs, strings.Join(args, " ")+"\n"+r.stdout+r.stderr)
		return r
	}
	if r := run(t, "init", "--no-default"); r.code != 0 {
		t.Fatal(r)
	}
	for _, name := range []string{"sec_a", "sec_b"} {
		c.Exec(t, "postgres", `CREATE DATABASE `+name+` OWNER proof_secret`)
		if r := run(t, "products", "add", strings.ReplaceAll(name, "_", "-"), "--postgresql", "--db-host", c.Host,
			"--db-port", strconv.Itoa(c.Port), "--db-username", role.User, "--db-name", name, "--db-password-env", pwEnv); r.code != 0 {
			t.Fatalf("products add:\n%s", r)
		}
	}
	secrets := map[string]string{"sec-a": role.Password, "sec-b": role.Password}

	p.trial(t, "workers", func(pt *proofTrial) {
		for _, args := range [][]string{
			{"--log-format", "json", "--log-level", "trace", "migrate", "-y", "-j", "2", "--lock-timeout", "2m"},
			{"--log-level", "trace", "cleanup", "-j", "2", "--lock-timeout", "2m", "--checker-labels", testutil.LabelsDir},
			{"--log-format", "json", "--log-level", "trace", "up", "-y", "-j", "2", "--lock-timeout", "2m", "--checker-labels", testutil.LabelsDir},
		} {
			// A product the supervisor's read-only check finds clean gets
			// no cleanup worker: give each one unused file, so that cleanup
			// (and up's cleanup) has a worker to watch.
			if !slices.Contains(args, "migrate") {
				for _, db := range []string{"sec_a", "sec_b"} {
					c.Exec(pt.T, db, `INSERT INTO files (filepath, filename) VALUES ('/proof/unused.c', 'unused.c')`)
				}
			}
			// The test holds each product's lock until the scan has seen
			// both workers waiting for it.
			_, releaseA := holdProductLock(pt.T, clusterTarget(c, "sec_a"))
			_, releaseB := holdProductLock(pt.T, clusterTarget(c, "sec_b"))
			releases := []func(){releaseA, releaseB}
			e2eWatchSecrets(pt.T, ws, e2eSecretRun{
				env:         env,
				args:        args,
				secrets:     secrets,
				operatorEnv: []string{"sec-a", "sec-b"},
				secretVars:  []string{pwEnv, "PGPASSWORD"},
				workers:     2,
				releases:    releases,
			})
		}
	})

	p.trial(t, "outputs", func(pt *proofTrial) {
		for _, args := range [][]string{
			{"status", "--json"}, {"--log-format", "json", "status"}, {"products", "list", "--json"}, {"products", "list"},
			{"migrate", "--dry-run"}, {"migrate", "--sql"}, {"--log-format", "json", "--log-level", "trace", "cleanup", "--checker-labels", testutil.LabelsDir},
		} {
			if r := run(pt.T, args...); r.code != 0 {
				pt.Errorf("%q:\n%s", args, r)
			}
		}
		// Failures: the lock held past --lock-timeout, a wrong password,
		// a database that does not exist.
		// (An unused file, so that the read-only check sends a worker to
		// wait for the lock.)
		c.Exec(pt.T, "sec_a", `INSERT INTO files (filepath, filename) VALUES ('/proof/unused.c', 'unused.c')`)
		_, release := holdProductLock(pt.T, clusterTarget(c, "sec_a"))
		if r := run(pt.T, "--log-format", "json", "--log-level", "trace", "cleanup", "--lock-timeout", "1s", "--product", "sec-a"); r.code != 1 {
			pt.Errorf("cleanup with the lock held: want exit 1\n%s", r)
		}
		release()
		wrong := []string{pwEnv + "=not-" + role.Password}
		r := supervisor(pt.T, ws, "", append(env, wrong...), "--log-level", "trace", "migrate", "-y")
		outputs = append(outputs, r.stdout+r.stderr)
		if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "password authentication failed") {
			pt.Errorf("a wrong password: want exit 1 and the server's refusal\n%s", r)
		}
		if r := run(pt.T, "products", "add", "sec-missing", "--postgresql", "--db-host", c.Host, "--db-port", strconv.Itoa(c.Port),
			"--db-username", role.User, "--db-name", "sec_missing", "--db-password-env", pwEnv); r.code != 0 {
			pt.Errorf("products add sec-missing:\n%s", r)
		}
		secrets["sec-missing"] = role.Password
		if r := run(pt.T, "--log-level", "trace", "migrate", "-y", "--product", "sec-missing"); r.code != 1 {
			pt.Errorf("a database that does not exist: want exit 1\n%s", r)
		}
		if r := run(pt.T, "--log-format", "json", "status", "--json", "--product", "sec-missing"); r.code != 1 {
			pt.Errorf("status of a database that does not exist: want exit 1\n%s", r)
		}
		for _, o := range outputs {
			if strings.Contains(o, role.Password) {
				pt.Errorf("an output holds the password:\n%s", o)
			}
		}
	})

	p.trial(t, "workspace bytes", func(pt *proofTrial) {
		n := 0
		filepath.WalkDir(ws, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			n++
			b, err := os.ReadFile(path)
			if err != nil {
				pt.Error(err)
				return nil
			}
			if bytes.Contains(b, []byte(role.Password)) {
				pt.Errorf("%s holds the password", path)
			}
			return nil
		})
		if n == 0 {
			pt.Fatalf("no file in the workspace %s: the scan is blind", ws)
		}
		// The config database is there, and knows the variable's name.
		if b := proofFileBytes(pt.T, filepath.Join(ws, "config.sqlite")); !bytes.Contains(b, []byte(pwEnv)) {
			pt.Errorf("config.sqlite does not hold the variable name %s: is it the config database?", pwEnv)
		}
	})
}
