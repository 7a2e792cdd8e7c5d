package cleanup

var postgresSQL = dialectSQL{
	begin: "BEGIN",
	// One snapshot for all batches of a routine, as the real run's locks
	// give it; READ ONLY makes any write an error.
	beginReadOnly: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	// For the rest of the routine's transaction only.
	hashUnindexed: "SET LOCAL enable_nestloop = off",
	// locked_at is timestamp without time zone.
	expiredRunLocks: "locked_at < CAST(? AS timestamp)",
	hasLeadingIndex: `SELECT EXISTS (
			SELECT 1 FROM pg_index i
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
			WHERE i.indrelid = to_regclass(?) AND a.attname = ?)`,
	guardDDL: true,
	// Bigger batches than SQLite's: the planner hashes the whole
	// referencing table for a batch's SELECT when it expects many garbage
	// rows (file_contents against files.content_hash), so every batch
	// costs about a full pass, and fewer batches are faster (see
	// bench/cleanupplans.sh). PostgreSQL allows 65535
	// bound parameters per statement.
	defaultBatch: 60000,
	maxBatch:     60000,
}
