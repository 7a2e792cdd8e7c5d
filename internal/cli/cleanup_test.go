package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCleanupNotAttempted(t *testing.T) {
	t.Parallel()
	ws, _ := statusWorkspace(t)
	r := mustRun(t, ExitFailed, "-w", ws, "cleanup", "--product", "Default", "--product", "old", "--session-lifetime", "1h")
	for e, w := range map[string]string{
		"Default": `not attempted: database status is "Database is missing."`,
		"old":     `not attempted: database status is "Database schema mismatch! Possible to upgrade."`,
	} {
		if cell, got := cellOf(r.stdout, e), failureOf(r.stdout, e); cell != "not attempted" || got != w {
			t.Errorf("cleanup:\n%s\n%s: result %q, failure %q, want \"not attempted\" and %q", r.stdout, e, cell, got, w)
		}
	}
	if !strings.Contains(r.stderr, "removed expired login sessions") || !strings.Contains(r.stderr, "session_lifetime=1h0m0s") {
		t.Errorf("cleanup stderr:\n%s\nwant the config-database session cleanup with the flag's lifetime", r.stderr)
	}
	if fileExists(t, filepath.Join(ws, "Default.sqlite")) {
		t.Error("cleanup created Default.sqlite")
	}
}

// TestCleanupFindsCodeCheckerLabels: with no --checker-labels, the label
// directory of the CodeChecker installation CC_DATA_FILES_DIR names is used,
// and the log says where it came from.
func TestCleanupFindsCodeCheckerLabels(t *testing.T) {
	t.Parallel()
	ws, _ := statusWorkspace(t)
	pkg := t.TempDir()
	if err := os.MkdirAll(filepath.Join(pkg, "config", "labels", "analyzers"), 0o755); err != nil {
		t.Fatal(err)
	}
	in := cmdline{env: map[string]string{"CC_DATA_FILES_DIR": pkg}}
	r := in.run(t, "-w", ws, "cleanup", "--product", "old")
	if !strings.Contains(r.stderr, "checker labels found") || !strings.Contains(r.stderr, "via=CC_DATA_FILES_DIR") {
		t.Errorf("cleanup stderr:\n%s\nwant the label directory found through CC_DATA_FILES_DIR", r.stderr)
	}
	r = run(t, "-w", ws, "cleanup", "--product", "old")
	if !strings.Contains(r.stderr, "the severity upgrade is skipped") {
		t.Errorf("cleanup stderr without labels:\n%s\nwant the skipped severity upgrade said", r.stderr)
	}
}

// cleanup --fail-fast stops at a broken product, not at one that only
// awaits an upgrade (cleanup does not attempt it either way).
func TestFailFastCleanupStopsAtBrokenProductOnly(t *testing.T) {
	t.Parallel()
	ws, _ := statusWorkspace(t)
	// Endpoint order: Default (missing: awaits migrate), bad (random bytes), good.
	r := run(t, "-w", ws, "cleanup", "--fail-fast", "-j", "1", "--product", "Default", "--product", "good")
	if cell := cellOf(r.stdout, "good"); strings.HasPrefix(cell, "skipped") {
		t.Errorf("good: %q, want it tried: Default is not broken", cell)
	}
	r = run(t, "-w", ws, "cleanup", "--fail-fast", "-j", "1", "--product", "bad", "--product", "good")
	if r.code != ExitFailed {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	if cell := cellOf(r.stdout, "good"); cell != "skipped (fail-fast)" {
		t.Errorf("good: %q, want skipped (fail-fast) after bad\n%s", cell, r.stdout)
	}
}
