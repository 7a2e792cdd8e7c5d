package registry

import (
	"context"
	"database/sql"
	"os"
	"slices"
	"testing"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
)

// RemoveExpiredSessions deletes exactly the sessions last accessed before
// the cut-off, compared as CodeChecker writes last_access: a naive local
// time (the test's local zone is 5 hours east of UTC, and the cut-off is
// given in UTC, so a comparison in the wrong zone deletes the wrong rows).
// On SQLite the column is text, on PostgreSQL timestamp without time zone.
// CountExpiredSessions, beforehand, counts exactly those.
func TestRemoveExpiredSessions(t *testing.T) {
	local := time.Local
	time.Local = time.FixedZone("UTC+5", 5*3600)
	t.Cleanup(func() { time.Local = local })

	c := pgtest.Start(t)
	openPostgres := func(t *testing.T) *sql.DB {
		t.Helper()
		c.CreateDatabase(t, "sessions")
		for _, f := range migrationFiles(t, "postgres", 2) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c.Exec(t, "sessions", string(b))
		}
		db, err := sql.Open("pgx", c.URL("sessions"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	openSQLite := func(t *testing.T) *sql.DB {
		t.Helper()
		db, _ := newSQLiteConfig(t, 2)
		return db
	}

	cutoff := time.Date(2026, 3, 1, 12, 0, 0, 0, time.Local)
	sessions := []struct {
		token      string
		lastAccess time.Time
		expired    bool
	}{
		{"an hour before", cutoff.Add(-time.Hour), true},
		{"a microsecond before", cutoff.Add(-time.Microsecond), true},
		{"at the cut-off", cutoff, false},
		{"an hour after", cutoff.Add(time.Hour), false},
		{"four hours after", cutoff.Add(4 * time.Hour), false},
	}
	for _, tt := range []struct {
		dialect dbconn.Dialect
		open    func(*testing.T) *sql.DB
	}{
		{dbconn.SQLite, openSQLite},
		{dbconn.Postgres, openPostgres},
	} {
		t.Run(tt.dialect.String(), func(t *testing.T) {
			ctx := context.Background()
			db := tt.open(t)
			insert := dbconn.Rebind(tt.dialect, "INSERT INTO auth_sessions (id, token, last_access) VALUES (?, ?, ?)")
			if tt.dialect == dbconn.Postgres {
				insert = dbconn.Rebind(tt.dialect, "INSERT INTO auth_sessions (id, token, last_access) VALUES (?, ?, ?::timestamp)")
			}
			for i, s := range sessions {
				if _, err := db.ExecContext(ctx, insert, i+1, s.token, s.lastAccess.Format(sessionTimeLayout)); err != nil {
					t.Fatal(err)
				}
			}
			reg := New(db, tt.dialect, t.TempDir())
			counted, err := reg.CountExpiredSessions(ctx, cutoff.UTC())
			if err != nil {
				t.Fatal(err)
			}
			n, err := reg.RemoveExpiredSessions(ctx, cutoff.UTC())
			if err != nil {
				t.Fatal(err)
			}
			if counted != n {
				t.Errorf("CountExpiredSessions = %d before RemoveExpiredSessions removed %d", counted, n)
			}
			var wantLeft []string
			for _, s := range sessions {
				if !s.expired {
					wantLeft = append(wantLeft, s.token)
				}
			}
			rows, err := db.QueryContext(ctx, "SELECT token FROM auth_sessions ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var left []string
			for rows.Next() {
				var tok string
				if err := rows.Scan(&tok); err != nil {
					t.Fatal(err)
				}
				left = append(left, tok)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if want := int64(len(sessions) - len(wantLeft)); n != want || !slices.Equal(trimAll(left), wantLeft) {
				t.Errorf("removed %d, left %q; want %d removed, %q left", n, left, want, wantLeft)
			}
		})
	}
}

// trimAll drops the blank padding of CHAR(32) tokens PostgreSQL returns.
func trimAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		for len(s) > 0 && s[len(s)-1] == ' ' {
			s = s[:len(s)-1]
		}
		out[i] = s
	}
	return out
}
