package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// backup copies a SQLite database consistently with VACUUM INTO.
func backup(ctx context.Context, db *sql.DB, opts Options, version string) (string, error) {
	if err := os.MkdirAll(opts.BackupDir, 0o755); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	name := opts.BackupName
	if name == "" {
		name = "database"
	}
	v := strings.Fields(version)
	if len(v) == 0 {
		v = []string{"none"}
	}
	path := filepath.Join(opts.BackupDir, fmt.Sprintf("%s-v%s-%s.sqlite", name, v[0], time.Now().UTC().Format("20060102T150405.000Z")))
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return "", fmt.Errorf("backup to %s: %w", path, err)
	}
	return path, nil
}
