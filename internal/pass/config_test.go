package pass

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
	"supervisor/internal/usage"
)

func TestConfigLocation(t *testing.T) {
	ws := t.TempDir()
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		configDB string
		want     dbconn.Target
		wantBase string
		usage    bool // want a usage error
	}{
		{"default", "", dbconn.Target{Dialect: "sqlite", Path: filepath.Join(ws, "config.sqlite")}, ws, false},
		{"sqlite:ABS", "sqlite:/srv/cc/config.sqlite", dbconn.Target{Dialect: "sqlite", Path: "/srv/cc/config.sqlite"}, "/srv/cc", false},
		{"sqlite:REL is relative to the working directory", "sqlite:cc/config.sqlite",
			dbconn.Target{Dialect: "sqlite", Path: filepath.Join(cwd, "cc", "config.sqlite")}, filepath.Join(cwd, "cc"), false},
		{"SQLAlchemy sqlite:////abs", "sqlite:////srv/cc/config.sqlite", dbconn.Target{Dialect: "sqlite", Path: "/srv/cc/config.sqlite"}, "/srv/cc", false},
		{"SQLAlchemy sqlite:///rel is relative to the workspace", "sqlite:///sub/config.sqlite",
			dbconn.Target{Dialect: "sqlite", Path: filepath.Join(ws, "sub", "config.sqlite")}, filepath.Join(ws, "sub"), false},
		{"postgres", "postgres://u@h:1/d", dbconn.Target{Dialect: "postgres", Host: "h", Port: 1, User: "u", Database: "d"}, ws, false},
		{"postgresql default port", "postgresql://cc@db.example/config",
			dbconn.Target{Dialect: "postgres", Host: "db.example", Port: 5432, User: "cc", Database: "config"}, ws, false},
		{"postgres+driver", "postgresql+psycopg2://u@h:5433/d",
			dbconn.Target{Dialect: "postgres", Host: "h", Port: 5433, User: "u", Database: "d"}, ws, false},
		{"a .sqlite path", "cc/config.sqlite",
			dbconn.Target{Dialect: "sqlite", Path: filepath.Join(cwd, "cc", "config.sqlite")}, filepath.Join(cwd, "cc"), false},
		{"postgres with password", "postgresql+psycopg2://u:p%40ss@h:5433/d", dbconn.Target{}, "", true},
		{"a path not ending in .sqlite", "cc/config.db", dbconn.Target{}, "", true},
		{"garbage", "garbage", dbconn.Target{}, "", true},
		{"unknown scheme", "mysql://u@h/d", dbconn.Target{}, "", true},
		{"postgres without database", "postgres://u@h:1/", dbconn.Target{}, "", true},
		{"postgres with bad port", "postgres://u@h:99999/d", dbconn.Target{}, "", true},
		{"sqlite with a host", "sqlite://host/x.sqlite", dbconn.Target{}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, base, err := ConfigLocation(tt.configDB, ws)
			if tt.usage {
				if !usage.Is(err) || !strings.Contains(err.Error(), "--config-db") {
					t.Errorf("ConfigLocation(%q) = %+v, %v; want a --config-db usage error", tt.configDB, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ConfigLocation(%q) = %v", tt.configDB, err)
			}
			if !reflect.DeepEqual(got, tt.want) || base != tt.wantBase {
				t.Errorf("ConfigLocation(%q) = %+v, base %q; want %+v, base %q", tt.configDB, got, base, tt.want, tt.wantBase)
			}
		})
	}
}

// A --config-db error never repeats the URL, which may hold a password.
func TestConfigLocationHidesPassword(t *testing.T) {
	for _, raw := range []string{"postgres://u:hunter2@h:notaport/d", "postgresql://u:hunter2@/d", "weird://u:hunter2@h/d"} {
		_, _, err := ConfigLocation(raw, t.TempDir())
		if err == nil {
			t.Errorf("ConfigLocation(%q) = nil error, want one", raw)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ConfigLocation(%q) error %q shows the password", raw, err)
		}
	}
}
