package registry

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"reflect"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
)

// TestPostgresConfig runs the registry on a PostgreSQL config database: one
// at our version 2 and one as CodeChecker makes it (version 1).
func TestPostgresConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server; skipped with -short")
	}
	ctx := context.Background()
	c := pgtest.Start(t)
	open := func(t *testing.T, name string, upTo int) *Registry {
		t.Helper()
		c.CreateDatabase(t, name)
		for _, f := range migrationFiles(t, "postgres", upTo) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c.Exec(t, name, string(b))
		}
		db, err := sql.Open("pgx", c.URL(name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return New(db, dbconn.Postgres, t.TempDir())
	}

	t.Run("version 2", func(t *testing.T) {
		reg := open(t, "config_v2", 2)
		zeta := Product{Endpoint: "zeta", DisplayName: "Zeta", Description: "d",
			Target:      dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Port: 5433, User: "cc", Database: "zeta", Password: "hunter2"},
			PasswordEnv: "ZETA_PW"}
		alpha := Product{Endpoint: "alpha", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: "/srv/alpha.sqlite"}}
		upper := Product{Endpoint: "Beta", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: "/srv/beta.sqlite"}}
		for _, p := range []Product{zeta, alpha, upper} {
			if err := reg.Add(ctx, p); err != nil {
				t.Fatalf("Add(%q): %v", p.Endpoint, err)
			}
		}
		if err := reg.Add(ctx, alpha); !errors.Is(err, ErrExists) {
			t.Errorf("second Add(alpha) = %v, want ErrExists", err)
		}
		ps, err := reg.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		zeta.Target.Password = ""
		alpha.DisplayName, upper.DisplayName = "alpha", "Beta"
		zeta.Connection = "postgresql+psycopg2://cc@db.example:5433/zeta"
		alpha.Connection, upper.Connection = "sqlite+pysqlite:////srv/alpha.sqlite", "sqlite+pysqlite:////srv/beta.sqlite"
		if want := []Product{upper, alpha, zeta}; !reflect.DeepEqual(ps, want) {
			t.Errorf("List = %+v\nwant %+v", ps, want)
		}
		if got, err := reg.Get(ctx, "zeta"); err != nil || got != zeta {
			t.Errorf("Get(zeta) = %+v, %v; want %+v", got, err, zeta)
		}
		if err := reg.Remove(ctx, "zeta"); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Get(ctx, "zeta"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get after Remove = %v, want ErrNotFound", err)
		}
		if err := reg.Remove(ctx, "zeta"); !errors.Is(err, ErrNotFound) {
			t.Errorf("second Remove = %v, want ErrNotFound", err)
		}
	})

	t.Run("CodeChecker version 1", func(t *testing.T) {
		reg := open(t, "config_v1", 1)
		if _, err := reg.db.Exec(`INSERT INTO products (endpoint, connection, display_name, is_review_status_change_disabled, report_limit)
			VALUES ('prod1', 'postgresql+psycopg2://cc:secret@db.example:5433/prod1?client_encoding=utf8', 'prod1', false, 500000)`); err != nil {
			t.Fatal(err)
		}
		ps, err := reg.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []Product{{Endpoint: "prod1", DisplayName: "prod1",
			Target:     dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Port: 5433, User: "cc", Password: "secret", Database: "prod1"},
			Connection: "postgresql+psycopg2://cc:***@db.example:5433/prod1?client_encoding=utf8"}}
		if !reflect.DeepEqual(ps, want) {
			t.Errorf("List = %+v, want %+v", ps, want)
		}
		err = reg.Add(ctx, Product{Endpoint: "pw", Target: dbconn.Target{Dialect: dbconn.Postgres, Host: "h", Database: "pw"}, PasswordEnv: "PW"})
		if !errors.Is(err, ErrConfigOutdated) {
			t.Errorf("Add with password variable = %v, want ErrConfigOutdated", err)
		}
		if err := reg.Add(ctx, Product{Endpoint: "plain", Target: dbconn.Target{Dialect: dbconn.Postgres, Host: "h", Database: "plain"}}); err != nil {
			t.Errorf("Add without password variable: %v", err)
		}
		if err := reg.Remove(ctx, "prod1"); err != nil {
			t.Errorf("Remove: %v", err)
		}
	})
}
