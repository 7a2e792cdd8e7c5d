package migrate

import (
	"time"

	"supervisor/internal/dbconn"
)

// dialectSQL are the statements and values of this package that differ by
// dialect; each dialect's are in sql_<dialect>.go, so the code that uses
// them reads once for both.
type dialectSQL struct {
	// listTables selects the names of the database's own tables (public
	// schema on PostgreSQL), one column.
	listTables string
	// revisionsSchema is the schema the revisions table lives in, "" for
	// the database's only one.
	revisionsSchema string
	// createRevisions makes the revisions table, with atlas's columns, if
	// it does not exist.
	createRevisions string
	// executedAt is a revision's executed_at as the table stores it.
	executedAt func(time.Time) any
}

// sqlOf is d's dialectSQL.
func sqlOf(d dbconn.Dialect) *dialectSQL {
	if d == dbconn.Postgres {
		return &postgresSQL
	}
	return &sqliteSQL
}
