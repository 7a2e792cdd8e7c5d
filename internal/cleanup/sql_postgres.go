package cleanup

var postgresSQL = dialectSQL{
	begin: "BEGIN",
	// locked_at is timestamp without time zone.
	expiredRunLocks: "DELETE FROM run_locks WHERE locked_at < CAST(? AS timestamp)",
	hasLeadingIndex: `SELECT EXISTS (
			SELECT 1 FROM pg_index i
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
			WHERE i.indrelid = to_regclass(?) AND a.attname = ?)`,
	guardDDL: true,
}
