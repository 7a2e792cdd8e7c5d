package registry

var postgresSQL = dialectSQL{
	// to_regclass follows search_path, like the unqualified names of the
	// other statements.
	hasCredentials: "SELECT to_regclass('" + credentialsTable + "') IS NOT NULL",
	// last_access is timestamp without time zone.
	expiredSession: "last_access < ?::timestamp",
}
