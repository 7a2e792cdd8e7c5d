package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"supervisor/internal/dbconn"
)

// defaultSessionLifetime is CodeChecker's default session_lifetime (seconds
// since the last access after which a login session is invalid for good).
const defaultSessionLifetime = 300 * time.Second

// cleanConfig removes login sessions that expired for good from the config
// database. CodeChecker only does this at login, so an idle server keeps
// them forever. Their OAuth tokens go with them (ON DELETE CASCADE).
func cleanConfig(ctx context.Context, g *globals, cf cleanupFlags) error {
	cfg, err := g.openConfig(ctx, false)
	if err != nil {
		return err
	}
	defer cfg.Close()
	lifetime := cf.lifetime
	// CodeChecker writes naive local timestamps; compare the same way (on
	// SQLite as SQLAlchemy's text, which sorts like the time).
	cutoff := time.Now().Add(-lifetime).Format("2006-01-02 15:04:05.000000")
	q := "DELETE FROM auth_sessions WHERE last_access < ?"
	if cfg.target.Dialect == dbconn.Postgres {
		q = "DELETE FROM auth_sessions WHERE last_access < $1::timestamp"
	}
	res, err := cfg.db.ExecContext(ctx, q, cutoff)
	if err != nil {
		return cfg.writeError("config database "+cfg.location+": remove expired login sessions", err)
	}
	n, _ := res.RowsAffected()
	g.log.Info("removed expired login sessions from the config database", "sessions", n, "session_lifetime", lifetime.String(), "from", cf.lifetimeFrom)
	return nil
}

// sessionLifetime is the flag's value, else CodeChecker's server_config.json
// beside the config database, else CodeChecker's default.
func sessionLifetime(flag time.Duration, dir string) (time.Duration, string, error) {
	if flag > 0 {
		return flag, "--session-lifetime", nil
	}
	path := filepath.Join(dir, "server_config.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return defaultSessionLifetime, "CodeChecker's default", nil
	}
	if err != nil {
		return 0, "", err
	}
	var cfg struct {
		Authentication struct {
			SessionLifetime *float64 `json:"session_lifetime"`
		} `json:"authentication"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return 0, "", fmt.Errorf("%s: %w", path, err)
	}
	if s := cfg.Authentication.SessionLifetime; s != nil && *s > 0 {
		return time.Duration(*s * float64(time.Second)), path, nil
	}
	return defaultSessionLifetime, "CodeChecker's default", nil
}
