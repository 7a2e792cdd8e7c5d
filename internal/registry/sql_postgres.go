package registry

var postgresSQL = dialectSQL{
	// to_regclass follows search_path, like the unqualified names of the
	// other statements.
	hasCredentials: "SELECT to_regclass('" + credentialsTable + "') IS NOT NULL",
	// last_access is timestamp without time zone.
	removeExpiredSessions: "DELETE FROM auth_sessions WHERE last_access < ?::timestamp",
}
