package integration

// -j far beyond what the file-descriptor limit allows (issue 7 h): the
// supervisor caps it, says so once, and no product fails with EMFILE.

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"supervisor/integration/fleet"
)

// fdProducts is how many products the test runs; with ulimit -n 200 and
// -j 1000 all of them would be started at once without the cap.
const fdProducts = 60

// supervisorUlimit runs the binary like supervisor does, but through a shell
// that first sets RLIMIT_NOFILE (soft and hard) to nofile.
func supervisorUlimit(t *testing.T, nofile int, ws string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	script := fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, nofile)
	cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", script, supervisorBin, "-w", ws}, args...)...)
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

func TestE2EJobsCappedByFDLimit(t *testing.T) {
	w := newWorkspace(t)
	if _, err := w.ws.CopyProducts(context.Background(), filepath.Join(w.Dir, "products"), "fd", fdProducts, "001", fleet.Options{Reports: 2, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	// The workspace's own handle on the config database is not needed.
	w.Close()

	capLine := regexp.MustCompile(`-j 1000 capped to (\d+): the file-descriptor limit is 200\b`)
	for _, step := range []struct {
		args []string
		code int
	}{
		{[]string{"status", "-j", "1000"}, 1},           // in-process inspection; all at 001, not up to date
		{[]string{"migrate", "-j", "1000", "-y"}, 0},    // inspection, workers, inspection again
		{[]string{"status", "-j", "1000", "--json"}, 0}, // everything at the latest version
	} {
		name := strings.Join(step.args, " ")
		r := supervisorUlimit(t, 200, w.Dir, step.args...)
		if r.code != step.code {
			t.Errorf("%s: exit %d, want %d\n%s", name, r.code, step.code, r)
		}
		if m := capLine.FindAllString(r.stderr, -1); len(m) != 1 {
			t.Errorf("%s: %d lines match %q, want 1:\n%s", name, len(m), capLine, r.stderr)
		}
		for _, bad := range []string{"too many open files", "unable to open database file", "Connection failed"} {
			if strings.Contains(r.stdout+r.stderr, bad) {
				t.Errorf("%s: output says %q:\n%s", name, bad, r)
			}
		}
		switch name {
		case "migrate -j 1000 -y":
			for i := range fdProducts {
				e := fmt.Sprintf("fd%03d", i)
				if l := summaryLine(r.stdout, e); !strings.HasSuffix(strings.TrimSpace(l), "| ok") {
					t.Errorf("migrate: summary row of %s is %q, want ok", e, l)
				}
			}
		case "status -j 1000 --json":
			if n := strings.Count(r.stdout, `"up_to_date": true`); n != fdProducts {
				t.Errorf("status --json: %d products up to date, want %d:\n%s", n, fdProducts, r.stdout)
			}
		}
	}
}
