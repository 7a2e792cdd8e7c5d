package cli

import (
	"strings"
	"testing"
)

// TestRunIDRefusals: a cooperative run that cannot be one is bad usage
// (exit 2), found before anything is read or written: the one-line error
// names why. A PostgreSQL config database nobody listens on shows that no
// connection was tried.
func TestRunIDRefusals(t *testing.T) {
	ws, product := untouchedWorkspace(t)
	before := checksum(t, product)
	pg := "postgres://u@127.0.0.1:1/config"
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"sqlite config database", []string{"-w", ws, "migrate", "-y", "--run-id", "r"}, "--run-id needs a PostgreSQL config database"},
		{"sqlite config database, cleanup", []string{"-w", ws, "cleanup", "--run-id", "r"}, "--run-id needs a PostgreSQL config database"},
		{"sqlite config database, up", []string{"-w", ws, "up", "-y", "--run-id", "r"}, "--run-id needs a PostgreSQL config database"},
		{"sqlite config database, status", []string{"-w", ws, "status", "--run-id", "r"}, "--run-id needs a PostgreSQL config database"},
		{"no -y", []string{"--config-db", pg, "migrate", "--run-id", "r"}, "--run-id needs -y"},
		{"no -y, up", []string{"--config-db", pg, "up", "--run-id", "r"}, "--run-id needs -y"},
		{"bad run id", []string{"--config-db", pg, "migrate", "-y", "--run-id", "a b"}, `--run-id "a b": use up to 100 letters`},
		{"--dry-run", []string{"--config-db", pg, "migrate", "-y", "--run-id", "r", "--dry-run"}, "--run-id does not go with --dry-run"},
		{"--sql", []string{"--config-db", pg, "migrate", "-y", "--run-id", "r", "--sql"}, "--run-id does not go with --sql"},
		{"--canary", []string{"--config-db", pg, "migrate", "-y", "--run-id", "r", "--canary", "p"}, "--run-id does not go with --canary"},
		{"--stages", []string{"--config-db", pg, "migrate", "-y", "--run-id", "r", "--stages", "s.json"}, "--run-id does not go with --stages"},
		{"--fail-fast", []string{"--config-db", pg, "up", "-y", "--run-id", "r", "--fail-fast"}, "--run-id does not go with --fail-fast"},
		{"cleanup --dry-run", []string{"--config-db", pg, "cleanup", "--run-id", "r", "--dry-run"}, "--run-id does not go with --dry-run"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRun(t, ExitUsage, tt.args...)
			if !strings.Contains(r.stderr, tt.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("stderr %q, want one line with %q", r.stderr, tt.want)
			}
		})
	}
	if checksum(t, product) != before {
		t.Error("the product database changed")
	}
}
