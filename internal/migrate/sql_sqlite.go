package migrate

import "time"

var sqliteSQL = dialectSQL{
	listTables:      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
	createRevisions: `CREATE TABLE IF NOT EXISTS atlas_schema_revisions (version text NOT NULL, description text NOT NULL, type integer NOT NULL DEFAULT 2, applied integer NOT NULL DEFAULT 0, total integer NOT NULL DEFAULT 0, executed_at datetime NOT NULL, execution_time integer NOT NULL, error text NULL, error_stmt text NULL, hash text NOT NULL, partial_hashes json NULL, operator_version text NOT NULL, PRIMARY KEY (version))`,
	// Text, as atlas's own SQLite revisions table holds it.
	executedAt: func(t time.Time) any { return t.UTC().Format(time.RFC3339Nano) },
}
