package fleet

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// sqliteMaxParams is SQLite's default SQLITE_MAX_VARIABLE_NUMBER (3.32+).
const sqliteMaxParams = 32766

// sqliteBatchRows caps the rows of one multi-row INSERT. Longer statements
// bind more values per call but compile into longer programs; past a few
// hundred rows the gain is gone.
const sqliteBatchRows = 1000

// sqliteCacheKiB is the page cache Fill asks for: enough to hold the indexes
// that take rows in random order (bug hashes above all), so that SQLite does
// not write pages out and read them back in the middle of the transaction.
func sqliteCacheKiB(reports int) int64 { return 8<<10 + int64(reports)/16 }

// fillSQLite fills a SQLite product through conn.
func fillSQLite(ctx context.Context, conn *sql.Conn, o Options) (g Garbage, err error) {
	restore, err := tuneSQLite(ctx, conn, sqliteCacheKiB(o.Reports))
	if err != nil {
		return g, err
	}
	defer restore()

	// Not ctx: database/sql rolls a transaction back on a goroutine of its
	// own once the transaction's context is done, so restore could run
	// before that rollback and set foreign_keys inside the dying
	// transaction, where the pragma is a no-op. The statements still get
	// ctx, which interrupts them; the deferred Rollback below ends the
	// transaction before restore runs.
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return g, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback() // may find the transaction gone: OR ROLLBACK ended it
		}
	}()

	be := &sqliteBackend{tx: tx, stmts: map[stmtKey]*sql.Stmt{}, next: map[int]int64{}}
	defer be.closeStmts()
	pre, err := prepare(ctx, sqlQuerier{tx})
	if err != nil {
		return g, err
	}
	g, err = generate(ctx, be, o, pre)
	if err != nil {
		return g, err
	}
	be.closeStmts()
	if err := tx.Commit(); err != nil {
		return g, fmt.Errorf("commit: %w", err)
	}
	return g, nil
}

// tuneSQLite changes two settings of conn for the fill and returns the
// function that puts them back. Neither touches durability or the file:
//
//   - foreign_keys off: SQLite checks foreign keys row by row as rows go in,
//     which costs about a fifth of the load time; the rows are consistent by
//     construction (the tests run PRAGMA foreign_key_check).
//   - a larger cache_size (cacheKiB), see sqliteCacheKiB.
//
// Both are per connection, and foreign_keys cannot change inside a
// transaction, hence here. If a setting cannot be restored, the connection is
// discarded rather than returned to the caller's pool.
func tuneSQLite(ctx context.Context, conn *sql.Conn, cacheKiB int64) (restore func(), err error) {
	var fk, cache, pageSize int64
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"foreign_keys", &fk}, {"cache_size", &cache}, {"page_size", &pageSize}} {
		if err := conn.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(p.dst); err != nil {
			return nil, fmt.Errorf("read PRAGMA %s: %w", p.name, err)
		}
	}
	var undo []string
	restore = func() {
		// Even when ctx was cancelled: the connection goes back to the pool.
		rctx := context.WithoutCancel(ctx)
		for _, q := range undo {
			if _, err := conn.ExecContext(rctx, q); err != nil {
				discardConn(conn)
				return
			}
		}
	}
	set := func(q, back string) error {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			restore()
			return fmt.Errorf("%s: %w", q, err)
		}
		undo = append(undo, back)
		return nil
	}
	if fk != 0 {
		if err := set("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys = ON"); err != nil {
			return nil, err
		}
	}
	curKiB := -cache // a negative cache_size is in KiB, a positive one in pages
	if cache > 0 {
		curKiB = cache * pageSize / 1024
	}
	if curKiB < cacheKiB {
		q := fmt.Sprintf("PRAGMA cache_size = %d", -cacheKiB)
		if err := set(q, fmt.Sprintf("PRAGMA cache_size = %d", cache)); err != nil {
			return nil, err
		}
	}
	return restore, nil
}

type stmtKey struct {
	table int
	rows  int
}

// sqliteBackend writes batches with multi-row INSERT statements, prepared
// once per table and batch size.
type sqliteBackend struct {
	tx    *sql.Tx
	stmts map[stmtKey]*sql.Stmt
	next  map[int]int64 // per rowid table: the id SQLite assigns next
}

func (b *sqliteBackend) rowsPerBatch(t *table) int {
	return min(sqliteMaxParams/len(t.cols), sqliteBatchRows)
}

func (b *sqliteBackend) write(ctx context.Context, t *table, vals []any) error {
	nc := len(t.cols)
	n := len(vals) / nc
	if t.rowid {
		// Leave the id to SQLite (see insertSQL), after checking that it
		// will assign the very ids the generator chose.
		next, ok := b.next[t.id]
		if !ok {
			var max sql.NullInt64
			if err := b.tx.QueryRowContext(ctx, "SELECT MAX(id) FROM "+t.name).Scan(&max); err != nil {
				return fmt.Errorf("read the highest id of %s: %w", t.name, err)
			}
			next = max.Int64 + 1
		}
		w := 0
		for i := range n {
			if id, _ := vals[i*nc].(int64); id != next {
				return fmt.Errorf("insert into %s: id %v out of sequence, SQLite would assign %d", t.name, vals[i*nc], next)
			}
			next++
			w += copy(vals[w:], vals[i*nc+1:(i+1)*nc])
		}
		b.next[t.id] = next
		vals = vals[:w]
	}
	k := stmtKey{t.id, n}
	st := b.stmts[k]
	if st == nil {
		var err error
		st, err = b.tx.PrepareContext(ctx, insertSQL(t, n))
		if err != nil {
			return fmt.Errorf("prepare insert into %s: %w", t.name, err)
		}
		b.stmts[k] = st
	}
	if _, err := st.ExecContext(ctx, vals...); err != nil {
		return fmt.Errorf("insert into %s: %w", t.name, err)
	}
	return nil
}

func (b *sqliteBackend) closeStmts() {
	for k, st := range b.stmts {
		st.Close()
		delete(b.stmts, k)
	}
}

func (b *sqliteBackend) stamp(s stamp) any { return s.text() }

func (b *sqliteBackend) flag(v bool) any {
	if v {
		return int64(1)
	}
	return int64(0)
}

// insertSQL returns a multi-row INSERT of n rows into t.
//
// Two details keep SQLite from writing a statement journal, which costs a
// temporary file write for every page the statement touches a second time.
// A multi-row INSERT needs one when a row could fail halfway: on a
// constraint, or on an explicit INTEGER PRIMARY KEY value that might not be
// an integer. So the statement says OR ROLLBACK (a failure ends the whole
// transaction, which Fill would roll back anyway), and rowid tables get no
// id: SQLite assigns max(id)+1, which write has checked to be the id the
// generator chose.
func insertSQL(t *table, n int) string {
	cols := t.cols
	if t.rowid {
		cols = cols[1:]
	}
	var sb strings.Builder
	sb.WriteString("INSERT OR ROLLBACK INTO ")
	sb.WriteString(t.name)
	sb.WriteString(" (")
	for i, c := range cols {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('"')
		sb.WriteString(c)
		sb.WriteByte('"')
	}
	sb.WriteString(") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	sb.Grow(n * (len(row) + 1))
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(row)
	}
	return sb.String()
}

// sqlQuerier runs the few one-off queries Fill needs on a database/sql
// transaction.
type sqlQuerier struct{ tx *sql.Tx }

func (q sqlQuerier) queryInt(ctx context.Context, query string) (int64, error) {
	var n int64
	err := q.tx.QueryRowContext(ctx, query).Scan(&n)
	return n, err
}

func (q sqlQuerier) checkers(ctx context.Context) ([]existingChecker, error) {
	rows, err := q.tx.QueryContext(ctx, checkersQuery)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []existingChecker
	for rows.Next() {
		var c existingChecker
		var an, cn sql.NullString
		if err := rows.Scan(&c.id, &an, &cn); err != nil {
			return nil, err
		}
		c.analyzer, c.name = an.String, cn.String
		out = append(out, c)
	}
	return out, rows.Err()
}
