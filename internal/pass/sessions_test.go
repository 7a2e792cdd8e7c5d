package pass

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSessionLifetime(t *testing.T) {
	tests := []struct {
		name       string
		flag       time.Duration
		file       *string // server_config.json; nil = none
		want       time.Duration
		wantSource string // "file" = the file's path
		wantErr    string
	}{
		{"default", 0, nil, 5 * time.Minute, "CodeChecker's default", ""},
		{"flag", 90 * time.Second, nil, 90 * time.Second, "--session-lifetime", ""},
		{"file", 0, ptr(`{"authentication": {"enabled": true, "session_lifetime": 3600}}`), time.Hour, "file", ""},
		{"fractional seconds", 0, ptr(`{"authentication": {"session_lifetime": 0.5}}`), 500 * time.Millisecond, "file", ""},
		{"flag wins over file", time.Minute, ptr(`{"authentication": {"session_lifetime": 3600}}`), time.Minute, "--session-lifetime", ""},
		{"file without the key", 0, ptr(`{"authentication": {"enabled": false}}`), 5 * time.Minute, "CodeChecker's default", ""},
		{"no authentication section", 0, ptr(`{"max_run_count": 3}`), 5 * time.Minute, "CodeChecker's default", ""},
		{"zero is the default", 0, ptr(`{"authentication": {"session_lifetime": 0}}`), 5 * time.Minute, "CodeChecker's default", ""},
		{"negative is the default", 0, ptr(`{"authentication": {"session_lifetime": -5}}`), 5 * time.Minute, "CodeChecker's default", ""},
		{"bad JSON", 0, ptr(`{"authentication": `), 0, "", "server_config.json"},
		{"wrong type", 0, ptr(`{"authentication": {"session_lifetime": "1h"}}`), 0, "", "server_config.json"},
		{"bad JSON does not matter with the flag", time.Minute, ptr(`nonsense`), time.Minute, "--session-lifetime", ""},
		{"negative flag", -time.Second, nil, 0, "", "--session-lifetime must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "server_config.json")
			if tt.file != nil {
				if err := os.WriteFile(path, []byte(*tt.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, source, err := SessionLifetime(tt.flag, dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("sessionLifetime error = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantSource := tt.wantSource
			if wantSource == "file" {
				wantSource = path
			}
			if got != tt.want || source != wantSource {
				t.Errorf("sessionLifetime = %v from %q, want %v from %q", got, source, tt.want, wantSource)
			}
		})
	}
}

// A server_config.json that cannot be read is an error, not the default.
func TestSessionLifetimeUnreadable(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "server_config.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, _, err := SessionLifetime(0, dir); err == nil {
		t.Errorf("sessionLifetime with a directory for server_config.json = %v, nil; want an error", got)
	}
}
func ptr(s string) *string { return &s }
