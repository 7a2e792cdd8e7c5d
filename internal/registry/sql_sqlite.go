package registry

var sqliteSQL = dialectSQL{
	hasCredentials:    "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '" + credentialsTable + "'",
	foreignKeysPragma: true,
	// last_access is text as SQLAlchemy writes it, which compares as text.
	expiredSession: "last_access < ?",
}
