package worker

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"testing"

	"supervisor/internal/dbconn"
	"supervisor/internal/job"
	"supervisor/internal/migrate"
)

// A reason says a lost PostgreSQL session as such, with where the job was,
// once; any other error keeps the job's own words; SQLite errors are never
// read as a lost session.
func TestExplainSaysLostSessionWhereItHappened(t *testing.T) {
	pg := job.Spec{Target: dbconn.Target{Dialect: dbconn.Postgres}}
	sqlite := job.Spec{Target: dbconn.Target{Dialect: dbconn.SQLite}}
	tests := []struct {
		name         string
		spec         job.Spec
		err          error
		prefix, want string
	}{
		{"bad connection in cleanup", pg, fmt.Errorf("delete unused files: %w", driver.ErrBadConn), "",
			"the PostgreSQL server closed the connection during the garbage collection: delete unused files"},
		{"reading the version", pg, driver.ErrBadConn, "read schema version: ",
			"the PostgreSQL server closed the connection during the garbage collection"},
		{"lost inside the lock", pg, fmt.Errorf("take the supervisor's lock: %w", dbconn.Explain(driver.ErrBadConn, 0)), "",
			"take the supervisor's lock: the PostgreSQL server closed the connection"},
		{"file error", pg, &migrate.FileError{Version: "002", Description: "d", Statement: "CREATE INDEX i ON t (a)", Err: dbconn.Explain(driver.ErrBadConn, 0)}, "",
			"the PostgreSQL server closed the connection during version 002 (d): statement CREATE INDEX i ON t (a)"},
		{"other error", pg, errors.New("permission denied for table reports"), "read schema version: ",
			"read schema version: permission denied for table reports"},
		{"sqlite", sqlite, errors.New("disk I/O error: broken pipe"), "read schema version: ",
			"read schema version: disk I/O error: broken pipe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := explain(tt.spec, tt.err, tt.prefix, "during the garbage collection"); got != tt.want {
				t.Errorf("explain = %q, want %q", got, tt.want)
			}
		})
	}
}
