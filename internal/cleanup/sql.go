package cleanup

import "supervisor/internal/dbconn"

// dialectSQL are the statements of the cleanup that differ by dialect, and
// the one behaviour that follows from the dialect's SQL; each dialect's are
// in sql_<dialect>.go, so the routines read once for both.
type dialectSQL struct {
	// begin starts a routine's transaction, beginReadOnly a dry run's.
	begin, beginReadOnly string
	// foreignKeysPragma: foreign keys are a per-connection PRAGMA that Run
	// must turn on (SQLite); on PostgreSQL they are always enforced.
	foreignKeysPragma bool
	// queryOnlyPragma: a dry run makes its connection refuse writes with
	// PRAGMA query_only (SQLite); PostgreSQL's read-only transactions do.
	queryOnlyPragma bool
	// listUnindexed: a dry run tests a referencing column without an index
	// with NOT IN rather than NOT EXISTS (see sweep.unused): SQLite runs a
	// correlated NOT EXISTS once per row. Otherwise (PostgreSQL, where NOT
	// IN over a subquery too big to hash is run once per row) hashUnindexed
	// steers the dry run's transaction to hashed anti-joins instead.
	listUnindexed bool
	hashUnindexed string
	// expiredRunLocks is the condition on run_locks of a lock taken before
	// the naive local cut-off timestamp given as text (timestampLayout).
	expiredRunLocks string
	// hasLeadingIndex selects whether some index of table (the first
	// argument) starts with column (the second).
	hasLeadingIndex string
	// guardDDL: a failed statement aborts the whole transaction, so a
	// CREATE INDEX that may fail runs in a savepoint (PostgreSQL).
	guardDDL bool
	// defaultBatch is the batch size when Options.BatchSize is 0;
	// maxBatch keeps a batch's key list (one bound parameter per key)
	// under the dialect's limit of parameters per statement.
	defaultBatch, maxBatch int
}

// batchSize is the batch size a run that asked for asked (Options.BatchSize)
// uses.
func (s *dialectSQL) batchSize(asked int) int {
	if asked <= 0 {
		return s.defaultBatch
	}
	return min(asked, s.maxBatch)
}

// sqlOf is d's dialectSQL.
func sqlOf(d dbconn.Dialect) *dialectSQL {
	if d == dbconn.Postgres {
		return &postgresSQL
	}
	return &sqliteSQL
}
