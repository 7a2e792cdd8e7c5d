// End-to-end tests: they build the real supervisor binary and run it against
// SQLite files and throwaway PostgreSQL clusters.
package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"supervisor/internal/testutil"
	"testing"
	"time"
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
