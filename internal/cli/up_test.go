package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// In up, a product that failed in the migrate stage stops new starts with
// --fail-fast for the cleanup stage too: one rule over the whole run.
func TestFailFastUpStopsBeforeCleanup(t *testing.T) {
	t.Parallel()
	ws, _ := statusWorkspace(t)
	// Before bad in endpoint order: up to date, so only cleanup has work.
	first := filepath.Join(t.TempDir(), "a-good.sqlite")
	productAt(t, first, "")
	mustRun(t, ExitOK, "-w", ws, "products", "add", "a-good", "--sqlite", first)
	r := run(t, "-w", ws, "up", "-y", "--fail-fast", "--product", "a-good", "--product", "bad")
	if r.code != ExitFailed {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	_, gc, _ := strings.Cut(r.stdout, "Garbage collection summary:")
	if cell := cellOf(gc, "a-good"); cell != "skipped (fail-fast)" {
		t.Errorf("cleanup of a-good: %q, want skipped (fail-fast)\n%s", cell, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "no-worker-here") {
		t.Errorf("a worker was started:\n%s\n%s", r.stdout, r.stderr)
	}
}
