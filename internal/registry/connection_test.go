package registry

import (
	"errors"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
)

func TestParseConnection(t *testing.T) {
	const base = "/srv/workspace"
	tests := []struct {
		name string
		conn string
		want dbconn.Target
	}{
		{"sqlite absolute", "sqlite:////abs/x.sqlite",
			dbconn.Target{Dialect: dbconn.SQLite, Path: "/abs/x.sqlite"}},
		{"sqlite as CodeChecker writes it", "sqlite+pysqlite:////srv/cc/Default.sqlite",
			dbconn.Target{Dialect: dbconn.SQLite, Path: "/srv/cc/Default.sqlite"}},
		{"sqlite relative to base", "sqlite:///prod/x.sqlite",
			dbconn.Target{Dialect: dbconn.SQLite, Path: "/srv/workspace/prod/x.sqlite"}},
		{"sqlite relative with dots", "sqlite:///../other/./x.sqlite",
			dbconn.Target{Dialect: dbconn.SQLite, Path: "/srv/other/x.sqlite"}},
		{"sqlite query ignored", "sqlite:////abs/x.sqlite?timeout=10",
			dbconn.Target{Dialect: dbconn.SQLite, Path: "/abs/x.sqlite"}},
		{"postgresql full", "postgresql://cc:secret@db.example:5433/prod1",
			dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Port: 5433, User: "cc", Password: "secret", Database: "prod1"}},
		{"psycopg2 as CodeChecker writes it", "postgresql+psycopg2://cc:secret@db.example:5433/prod1?client_encoding=utf8",
			dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Port: 5433, User: "cc", Password: "secret", Database: "prod1"}},
		{"pg8000 driver", "postgresql+pg8000://cc@db.example:5432/prod1",
			dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Port: 5432, User: "cc", Database: "prod1"}},
		{"postgres spelling, port defaults", "postgres://cc@db.example/prod1",
			dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Port: 5432, User: "cc", Database: "prod1"}},
		{"no user", "postgresql://db.example:6000/prod1",
			dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Port: 6000, Database: "prod1"}},
		{"empty password", "postgresql://cc:@db.example/prod1",
			dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Port: 5432, User: "cc", Database: "prod1"}},
		{"escaped user and password", "postgresql://us%40er:p%3Aa%2Fss%40w%25@db.example/prod1",
			dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Port: 5432, User: "us@er", Password: "p:a/ss@w%", Database: "prod1"}},
		{"password characters SQLAlchemy leaves unescaped", "postgresql://cc:p?a#s%zz/x@db.example/prod1",
			dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Port: 5432, User: "cc", Password: "p?a#s%zz/x", Database: "prod1"}},
		{"ipv6 host", "postgresql://cc@[::1]:5433/prod1",
			dbconn.Target{Dialect: dbconn.Postgres, Host: "::1", Port: 5433, User: "cc", Database: "prod1"}},
		{"database with dash", "postgresql://cc@h/app-db",
			dbconn.Target{Dialect: dbconn.Postgres, Host: "h", Port: 5432, User: "cc", Database: "app-db"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConnection(tt.conn, base)
			if err != nil {
				t.Fatalf("ParseConnection(%q) error: %v", tt.conn, err)
			}
			if got != tt.want {
				t.Errorf("ParseConnection(%q) = %+v, want %+v", tt.conn, got, tt.want)
			}
		})
	}
}

func TestParseConnectionErrors(t *testing.T) {
	tests := []struct {
		name string
		conn string
		want string // in the error message
	}{
		{"empty", "", "not a SQLAlchemy URL"},
		{"plain path", "/abs/x.sqlite", "not a SQLAlchemy URL"},
		{"sqlite without slashes", "sqlite:/abs/x.sqlite", "not a SQLAlchemy URL"},
		{"unknown backend", "mysql://cc:secret@h/db", `unsupported database type "mysql"`},
		{"sqlite no file", "sqlite://", "names no database file"},
		{"sqlite memory", "sqlite:///:memory:", "names no database file"},
		{"sqlite with host", "sqlite://abs/x.sqlite", "names no host"},
		{"port not a number", "postgresql://cc:secret@h:54x2/db", `invalid port "54x2"`},
		{"port out of range", "postgresql://cc:secret@h:70000/db", `invalid port "70000"`},
		{"no host", "postgresql://cc:secret@/db", "names no host"},
		{"no database", "postgresql://cc:secret@h:5432", "names no database"},
		{"empty database", "postgresql://cc:secret@h/", "names no database"},
		{"garbage after host", "postgresql://cc:secret@h:5432 db", "invalid port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConnection(tt.conn, "/base")
			if err == nil {
				t.Fatalf("ParseConnection(%q) = %+v, want an error containing %q", tt.conn, got, tt.want)
			}
			if !errors.Is(err, ErrInvalidConnection) {
				t.Errorf("error %v does not wrap ErrInvalidConnection", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}

func TestFormatConnectionRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		target dbconn.Target
		want   string
	}{
		{"sqlite", dbconn.Target{Dialect: dbconn.SQLite, Path: "/srv/ws/Default.sqlite"},
			"sqlite+pysqlite:////srv/ws/Default.sqlite"},
		{"postgres", dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Port: 5433, User: "cc", Database: "prod1", Password: "secret"},
			"postgresql+psycopg2://cc@db.example:5433/prod1"},
		{"postgres default port", dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", User: "cc", Database: "prod1"},
			"postgresql+psycopg2://cc@db.example:5432/prod1"},
		{"postgres no user", dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Port: 5432, Database: "prod1", Password: "secret"},
			"postgresql+psycopg2://db.example:5432/prod1"},
		{"user needing escapes", dbconn.Target{Dialect: dbconn.Postgres, Host: "h", Port: 5432, User: "a@b:c/d%e f", Database: "db", Password: "secret"},
			"postgresql+psycopg2://a%40b%3Ac%2Fd%25e%20f@h:5432/db"},
		{"ipv6", dbconn.Target{Dialect: dbconn.Postgres, Host: "fd00::5", Port: 5432, User: "cc", Database: "db", Password: "secret"},
			"postgresql+psycopg2://cc@[fd00::5]:5432/db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FormatConnection(tt.target)
			if got != tt.want {
				t.Errorf("FormatConnection(%+v) = %q, want %q", tt.target, got, tt.want)
			}
			if tt.target.Password != "" && strings.Contains(got, tt.target.Password) {
				t.Errorf("FormatConnection(%+v) = %q contains the password", tt.target, got)
			}
			back, err := ParseConnection(got, "/elsewhere")
			if err != nil {
				t.Fatalf("ParseConnection(%q): %v", got, err)
			}
			want := tt.target
			want.Password = ""
			if want.Dialect == dbconn.Postgres && want.Port == 0 {
				want.Port = 5432
			}
			if back != want {
				t.Errorf("ParseConnection(FormatConnection(t)) = %+v, want %+v", back, want)
			}
		})
	}
}

func TestLocation(t *testing.T) {
	tests := []struct {
		target dbconn.Target
		want   string
	}{
		{dbconn.Target{Dialect: dbconn.SQLite, Path: "/srv/ws/a.sqlite"}, "/srv/ws/a.sqlite"},
		{dbconn.Target{Dialect: dbconn.Postgres, Host: "h", Port: 5433, User: "cc", Database: "db", Password: "secret"}, "cc@h:5433/db"},
		{dbconn.Target{Dialect: dbconn.Postgres, Host: "h", User: "cc", Database: "db"}, "cc@h:5432/db"},
		{dbconn.Target{Dialect: dbconn.Postgres, Host: "h", Port: 5432, Database: "db"}, "h:5432/db"},
		{dbconn.Target{Dialect: dbconn.Postgres, Host: "::1", Port: 5432, User: "cc", Database: "db"}, "cc@[::1]:5432/db"},
	}
	for _, tt := range tests {
		if got := Location(tt.target); got != tt.want {
			t.Errorf("Location(%+v) = %q, want %q", tt.target, got, tt.want)
		}
	}
}
