package registry

import "supervisor/internal/dbconn"

// dialectSQL are the statements of the registry that differ by dialect,
// and the one behaviour that follows from the dialect; each dialect's are
// in sql_<dialect>.go, so the code that uses them reads once for both.
type dialectSQL struct {
	// hasCredentials selects whether the credentials table exists (one
	// boolean).
	hasCredentials string
	// foreignKeysPragma: foreign keys are a per-connection PRAGMA that a
	// delete relying on the cascades must turn on (SQLite).
	foreignKeysPragma bool
	// expiredSession is the condition on auth_sessions of a login session
	// last accessed before a naive local timestamp given as text
	// (sessionTimeLayout).
	expiredSession string
}

// sqlOf is d's dialectSQL.
func sqlOf(d dbconn.Dialect) *dialectSQL {
	if d == dbconn.Postgres {
		return &postgresSQL
	}
	return &sqliteSQL
}
