package dbconn

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// Querier is what a *sql.DB, *sql.Conn and *sql.Tx have in common: what
// code that reads or writes a database goes through, so that the same code
// runs on the pool or inside a transaction. With SQLite the pool holds a
// single connection: code inside a transaction must use the transaction,
// never the pool.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var (
	_ Querier = (*sql.DB)(nil)
	_ Querier = (*sql.Conn)(nil)
	_ Querier = (*sql.Tx)(nil)
)

// Rebind writes the '?' placeholders of q in d's syntax: unchanged for
// SQLite, $1, $2, ... for PostgreSQL. Statements of ours are written with
// '?' and hold no '?' other than placeholders (none in a literal, an
// identifier or a comment), which Rebind does not check.
func Rebind(d Dialect, q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
