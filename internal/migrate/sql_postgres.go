package migrate

import "time"

var postgresSQL = dialectSQL{
	listTables: "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
	// In public, not in atlas's default schema of its own, next to the
	// tables it describes.
	revisionsSchema: "public",
	createRevisions: `CREATE TABLE IF NOT EXISTS public.atlas_schema_revisions ("version" character varying NOT NULL, "description" character varying NOT NULL, "type" bigint NOT NULL DEFAULT 2, "applied" bigint NOT NULL DEFAULT 0, "total" bigint NOT NULL DEFAULT 0, "executed_at" timestamptz NOT NULL, "execution_time" bigint NOT NULL, "error" text NULL, "error_stmt" text NULL, "hash" character varying NOT NULL, "partial_hashes" jsonb NULL, "operator_version" character varying NOT NULL, PRIMARY KEY ("version"))`,
	executedAt:      func(t time.Time) any { return t },
}
