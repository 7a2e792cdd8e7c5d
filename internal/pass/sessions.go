package pass

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// defaultSessionLifetime is CodeChecker's default session_lifetime (seconds
// since the last access after which a login session is invalid for good).
const defaultSessionLifetime = 300 * time.Second

// SessionLifetime is how long a login session lives: flag (--session-lifetime)
// when set, else CodeChecker's server_config.json in dir (beside the config
// database), else CodeChecker's default; from says which. A negative flag
// is an error.
func SessionLifetime(flag time.Duration, dir string) (time.Duration, string, error) {
	if flag < 0 {
		return 0, "", errors.New("--session-lifetime must not be negative")
	}
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
