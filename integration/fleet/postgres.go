package fleet

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgBatchRows is how many rows one COPY carries.
const pgBatchRows = 20000

// pgEnums are the product schema's enum types. CopyFrom sends values in
// binary, which needs the types registered on the connection.
var pgEnums = []string{"detection_status", "review_status", "extended_data_type"}

// pgSequences are the product tables whose id column takes its default from
// a sequence. Fill writes explicit ids, so afterwards each sequence is moved
// past the highest id.
var pgSequences = []string{
	"analysis_info", "analyzer_statistics", "checker_set", "checkers", "cleanup_plans",
	"comments", "extended_report_data", "files", "filter_presets", "reports",
	"run_histories", "runs",
}

// fillPostgres fills a PostgreSQL product through conn, which must come from
// the pgx stdlib driver.
func fillPostgres(ctx context.Context, conn *sql.Conn, o Options) (g Garbage, err error) {
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("postgres dialect needs the pgx stdlib driver, got a %T connection", dc)
		}
		g, err = fillPgx(ctx, sc.Conn(), o)
		return err
	})
	return g, err
}

func fillPgx(ctx context.Context, pc *pgx.Conn, o Options) (g Garbage, err error) {
	for _, name := range pgEnums {
		t, err := pc.LoadType(ctx, name)
		if err != nil {
			return g, fmt.Errorf("load enum type %s: %w", name, err)
		}
		pc.TypeMap().RegisterType(t)
	}
	tx, err := pc.Begin(ctx)
	if err != nil {
		return g, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	// PostgreSQL checks each foreign key with a query per row, most of them
	// deferred to the commit: for 200k reports that is over a million checks,
	// half the load time. A superuser can turn the checks off for this
	// transaction (SET LOCAL ends with it); the rows are consistent by
	// construction, and the tests fill as an ordinary role too, with every
	// check on.
	var super string
	if err := tx.QueryRow(ctx, "SELECT current_setting('is_superuser')").Scan(&super); err != nil {
		return g, fmt.Errorf("read is_superuser: %w", err)
	}
	if super == "on" {
		if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
			return g, fmt.Errorf("skip foreign key checks: %w", err)
		}
	}
	pre, err := prepare(ctx, pgxQuerier{tx})
	if err != nil {
		return g, err
	}
	g, err = generate(ctx, &pgBackend{tx: tx}, o, pre)
	if err != nil {
		return g, err
	}
	for _, t := range pgSequences {
		q := fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM %s", t, t)
		if _, err := tx.Exec(ctx, q); err != nil {
			return g, fmt.Errorf("advance the id sequence of %s: %w", t, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return g, fmt.Errorf("commit: %w", err)
	}
	return g, nil
}

// pgBackend writes batches with COPY.
type pgBackend struct{ tx pgx.Tx }

func (b *pgBackend) rowsPerBatch(*table) int { return pgBatchRows }

func (b *pgBackend) write(ctx context.Context, t *table, vals []any) error {
	nc := len(t.cols)
	n := len(vals) / nc
	src := pgx.CopyFromSlice(n, func(i int) ([]any, error) {
		return vals[i*nc : (i+1)*nc : (i+1)*nc], nil
	})
	if _, err := b.tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, src); err != nil {
		return fmt.Errorf("copy into %s: %w", t.name, err)
	}
	return nil
}

func (b *pgBackend) stamp(s stamp) any { return s.time() }

func (b *pgBackend) flag(v bool) any { return v }

// pgxQuerier runs the few one-off queries Fill needs on a pgx transaction.
type pgxQuerier struct{ tx pgx.Tx }

func (q pgxQuerier) queryInt(ctx context.Context, query string) (int64, error) {
	var n int64
	err := q.tx.QueryRow(ctx, query).Scan(&n)
	return n, err
}

func (q pgxQuerier) checkers(ctx context.Context) ([]existingChecker, error) {
	rows, err := q.tx.Query(ctx, checkersQuery)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []existingChecker
	for rows.Next() {
		var c existingChecker
		var an, cn *string
		if err := rows.Scan(&c.id, &an, &cn); err != nil {
			return nil, err
		}
		if an != nil {
			c.analyzer = *an
		}
		if cn != nil {
			c.name = *cn
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
