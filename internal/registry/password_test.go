package registry

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
)

func TestResolvePassword(t *testing.T) {
	dir := t.TempDir()
	passfile := filepath.Join(dir, "pgpass")
	pgpass := strings.Join([]string{
		"# comment",
		"other.example:*:*:*:wrong-host",
		"db.example:5432:prod1:cc:wrong-port",
		"db.example:5433:prod1:cc:from-pgpass",
		"*:*:*:*:wildcard",
	}, "\n") + "\n"
	if err := os.WriteFile(passfile, []byte(pgpass), 0o600); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".pgpass"), []byte("db.example:5433:prod1:cc:from-home\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyHome := t.TempDir()

	pg := dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Port: 5433, User: "cc", Database: "prod1"}
	withURLPassword := pg
	withURLPassword.Password = "from-url"
	elsewhere := pg
	elsewhere.Host, elsewhere.Port = "nowhere.example", 0 // only the wildcard entry matches

	tests := []struct {
		name    string
		product Product
		env     map[string]string
		want    string
		wantErr string
	}{
		{"named variable beats everything",
			Product{Endpoint: "p", Target: withURLPassword, PasswordEnv: "PROD1_PW"},
			map[string]string{"PROD1_PW": "from-var", "PGPASSWORD": "from-pgpassword", "PGPASSFILE": passfile},
			"from-var", ""},
		// The README's order: an unset named variable gives way to the
		// sources after it (a warning, not an error).
		{"named variable unset: the URL password",
			Product{Endpoint: "p", Target: withURLPassword, PasswordEnv: "PROD1_PW"},
			map[string]string{"PGPASSWORD": "from-pgpassword"},
			"from-url", ""},
		{"named variable unset: PGPASSWORD",
			Product{Endpoint: "p", Target: pg, PasswordEnv: "PROD1_PW"},
			map[string]string{"PGPASSWORD": "from-pgpassword", "PGPASSFILE": passfile},
			"from-pgpassword", ""},
		{"named variable empty: the password file",
			Product{Endpoint: "p", Target: pg, PasswordEnv: "PROD1_PW"},
			map[string]string{"PROD1_PW": "", "PGPASSFILE": passfile},
			"from-pgpass", ""},
		{"URL password beats PGPASSWORD",
			Product{Endpoint: "p", Target: withURLPassword},
			map[string]string{"PGPASSWORD": "from-pgpassword", "PGPASSFILE": passfile},
			"from-url", ""},
		{"PGPASSWORD beats the password file",
			Product{Endpoint: "p", Target: pg},
			map[string]string{"PGPASSWORD": "from-pgpassword", "PGPASSFILE": passfile},
			"from-pgpassword", ""},
		{"PGPASSFILE entry matching host, port, database and user",
			Product{Endpoint: "p", Target: pg},
			map[string]string{"PGPASSFILE": passfile, "HOME": home},
			"from-pgpass", ""},
		{"PGPASSFILE wildcard entry, default port",
			Product{Endpoint: "p", Target: elsewhere},
			map[string]string{"PGPASSFILE": passfile},
			"wildcard", ""},
		{"~/.pgpass without PGPASSFILE",
			Product{Endpoint: "p", Target: pg},
			map[string]string{"HOME": home},
			"from-home", ""},
		{"no password anywhere",
			Product{Endpoint: "p", Target: pg},
			map[string]string{"HOME": emptyHome},
			"", ""},
		{"PGPASSFILE missing",
			Product{Endpoint: "p", Target: pg},
			map[string]string{"PGPASSFILE": filepath.Join(dir, "absent")},
			"", ""},
		{"PGPASSFILE unreadable",
			Product{Endpoint: "p", Target: pg},
			map[string]string{"PGPASSFILE": dir},
			"", "read password file"},
		{"sqlite needs none",
			Product{Endpoint: "p", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: "/x.sqlite"}},
			map[string]string{"PGPASSWORD": "from-pgpassword"},
			"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			got, err := ResolvePassword(tt.product, getenv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ResolvePassword() = %q, %v; want error containing %q", got.Value, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ResolvePassword() error: %v", err)
			}
			if got.Value != tt.want {
				t.Errorf("ResolvePassword() = %q, want %q", got.Value, tt.want)
			}
			if got.Hint() != "" {
				t.Errorf("ResolvePassword() hint %q with a password found or no variable named", got.Hint())
			}
		})
	}
}

// A named variable that is unset, with nothing else giving a password, is
// no error: the hint names the variable for when the server asks for one.
func TestResolvePasswordUnsetVariableHint(t *testing.T) {
	p := Product{Endpoint: "p", PasswordEnv: "PROD1_PW",
		Target: dbconn.Target{Dialect: dbconn.Postgres, Host: "h", Port: 5432, User: "cc", Database: "d"}}
	got, err := ResolvePassword(p, func(k string) string {
		if k == "HOME" {
			return t.TempDir()
		}
		return ""
	})
	if err != nil {
		t.Fatalf("ResolvePassword() error %v, want none", err)
	}
	if got.Value != "" || got.UnsetEnv != "PROD1_PW" {
		t.Errorf("ResolvePassword() = %+v, want no password and UnsetEnv PROD1_PW", got)
	}
	if h := got.Hint(); !strings.Contains(h, "PROD1_PW") {
		t.Errorf("Hint() = %q, want it to name PROD1_PW", h)
	}
}
