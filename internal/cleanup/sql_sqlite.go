package cleanup

var sqliteSQL = dialectSQL{
	// IMMEDIATE takes the write lock up front, so nothing can add a
	// reference between a batch's SELECT and its DELETE.
	begin: "BEGIN IMMEDIATE",
	// A read transaction: it holds one snapshot, and lets writers wait
	// only as long as any reader does.
	beginReadOnly:     "BEGIN",
	foreignKeysPragma: true,
	queryOnlyPragma:   true,
	listUnindexed:     true,
	// locked_at is text as SQLAlchemy writes it, which compares as text.
	expiredRunLocks: "locked_at < ?",
	hasLeadingIndex: `SELECT EXISTS (
			SELECT 1 FROM pragma_index_list(?) AS il, pragma_index_info(il.name) AS ii
			WHERE ii.seqno = 0 AND ii.name = ?)`,
	// The NOT EXISTS probes are indexed and the batch size barely changes
	// the sweep's time (bench/cleanupplans.sh); the key list must stay
	// under the default limit of 32766 bound parameters.
	defaultBatch: DefaultBatchSize,
	maxBatch:     30000,
}
