package dbconn_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
)

// Against a real server: the fields of the target win over libpq's
// environment, an explicit password wins over PGPASSWORD, and names with
// quotes, backslashes and spaces reach the server as they are.
func TestPostgresConnect(t *testing.T) {
	c := pgtest.Start(t)
	const (
		user = `o'brien \ x`
		pw   = `it's a \secret`
		db   = `my db`
	)
	c.Exec(t, "postgres", "CREATE ROLE "+pgx.Identifier{user}.Sanitize()+" LOGIN PASSWORD '"+strings.ReplaceAll(pw, "'", "''")+"'")
	c.CreateDatabase(t, db)
	// No password file may help or hinder.
	t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("PGUSER", "postgres")
	t.Setenv("PGDATABASE", "postgres")

	tests := []struct {
		name       string
		password   string
		pgpassword string
		wantErr    bool
	}{
		{"explicit password", pw, "", false},
		{"explicit password wins over PGPASSWORD", pw, "wrong", false},
		{"PGPASSWORD when none is given", "", pw, false},
		{"wrong explicit password", "wrong", pw, true},
		{"no password at all", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PGPASSWORD", tt.pgpassword)
			target := dbconn.Target{Dialect: dbconn.Postgres, Host: c.Host, Port: c.Port, User: user, Database: db, Password: tt.password}
			conn, err := dbconn.Open(context.Background(), target, dbconn.Options{ConnectTimeout: 5 * time.Second})
			if tt.wantErr {
				if err == nil {
					conn.Close()
					t.Fatal("Open = nil error, want an authentication failure")
				}
				if strings.Contains(err.Error(), pw) {
					t.Errorf("Open error %q holds the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open = %v", err)
			}
			defer conn.Close()
			var gotUser, gotDB, app string
			if err := conn.QueryRow("SELECT current_user, current_database(), current_setting('application_name')").Scan(&gotUser, &gotDB, &app); err != nil {
				t.Fatal(err)
			}
			if gotUser != user || gotDB != db || app != "supervisor" {
				t.Errorf("connected as %q to %q (application %q), want %q to %q (supervisor)", gotUser, gotDB, app, user, db)
			}
		})
	}
}
