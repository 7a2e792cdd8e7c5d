package migrate

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"

	"supervisor/internal/dbconn"
)

// RevisionsTable is atlas's revision table, so atlas tooling can read our state.
const RevisionsTable = "atlas_schema_revisions"

// revisions implements atlas's migrate.RevisionReadWriter on our own table
// access (a *sql.DB or the *sql.Tx of the file being applied), so a file and
// its revision row commit or roll back together.
type revisions struct {
	conn    dbconn.Querier
	dialect dbconn.Dialect
}

var _ migrate.RevisionReadWriter = (*revisions)(nil)

func newRevisions(conn dbconn.Querier, dialect dbconn.Dialect) *revisions {
	return &revisions{conn: conn, dialect: dialect}
}

// table is the qualified table name.
func (r *revisions) table() string {
	if s := sqlOf(r.dialect).revisionsSchema; s != "" {
		return s + "." + RevisionsTable
	}
	return RevisionsTable
}

// Ident implements migrate.RevisionReadWriter.
func (r *revisions) Ident() *migrate.TableIdent {
	return &migrate.TableIdent{Name: RevisionsTable, Schema: sqlOf(r.dialect).revisionsSchema}
}

// create makes the table if it does not exist, with atlas's columns.
func (r *revisions) create(ctx context.Context) error {
	if _, err := r.conn.ExecContext(ctx, sqlOf(r.dialect).createRevisions); err != nil {
		return fmt.Errorf("create %s: %w", RevisionsTable, err)
	}
	return nil
}

const revisionColumns = `version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version`

// ReadRevisions implements migrate.RevisionReadWriter: all revisions by version.
func (r *revisions) ReadRevisions(ctx context.Context) ([]*migrate.Revision, error) {
	return r.query(ctx, "SELECT "+revisionColumns+" FROM "+r.table()+" ORDER BY version")
}

// ReadRevision implements migrate.RevisionReadWriter. A missing row is
// migrate.ErrRevisionNotExist, which atlas's executor relies on.
func (r *revisions) ReadRevision(ctx context.Context, version string) (*migrate.Revision, error) {
	revs, err := r.query(ctx, dbconn.Rebind(r.dialect, "SELECT "+revisionColumns+" FROM "+r.table()+" WHERE version = ?"), version)
	if err != nil {
		return nil, err
	}
	if len(revs) == 0 {
		return nil, migrate.ErrRevisionNotExist
	}
	return revs[0], nil
}

func (r *revisions) query(ctx context.Context, q string, args ...any) ([]*migrate.Revision, error) {
	rows, err := r.conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", RevisionsTable, err)
	}
	defer rows.Close()
	var revs []*migrate.Revision
	for rows.Next() {
		var (
			rev                  migrate.Revision
			executedAt           any
			execTime             int64
			errText, errStmt, ph sql.NullString
		)
		if err := rows.Scan(&rev.Version, &rev.Description, &rev.Type, &rev.Applied, &rev.Total,
			&executedAt, &execTime, &errText, &errStmt, &rev.Hash, &ph, &rev.OperatorVersion); err != nil {
			return nil, fmt.Errorf("read %s: %w", RevisionsTable, err)
		}
		rev.ExecutedAt = parseTime(executedAt)
		rev.ExecutionTime = time.Duration(execTime)
		rev.Error, rev.ErrorStmt = errText.String, errStmt.String
		if ph.Valid && ph.String != "" && ph.String != "null" {
			if err := json.Unmarshal([]byte(ph.String), &rev.PartialHashes); err != nil {
				return nil, fmt.Errorf("read %s: partial hashes of %s: %w", RevisionsTable, rev.Version, err)
			}
		}
		revs = append(revs, &rev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", RevisionsTable, err)
	}
	return revs, nil
}

// parseTime accepts what either driver gives back for executed_at.
func parseTime(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case string:
		if p, err := time.Parse(time.RFC3339Nano, t); err == nil {
			return p
		}
	case []byte:
		return parseTime(string(t))
	}
	return time.Time{}
}

// WriteRevision implements migrate.RevisionReadWriter (insert or update).
func (r *revisions) WriteRevision(ctx context.Context, rev *migrate.Revision) error {
	var partial any
	if len(rev.PartialHashes) > 0 {
		b, err := json.Marshal(rev.PartialHashes)
		if err != nil {
			return err
		}
		partial = string(b)
	}
	executedAt := sqlOf(r.dialect).executedAt(rev.ExecutedAt)
	phs := strings.Repeat("?, ", 11) + "?"
	var set []string
	for _, c := range strings.Split(revisionColumns, ", ")[1:] {
		set = append(set, c+" = excluded."+c)
	}
	q := "INSERT INTO " + r.table() + " (" + revisionColumns + ") VALUES (" + phs +
		") ON CONFLICT (version) DO UPDATE SET " + strings.Join(set, ", ")
	_, err := r.conn.ExecContext(ctx, dbconn.Rebind(r.dialect, q), rev.Version, rev.Description, int64(rev.Type), rev.Applied, rev.Total,
		executedAt, int64(rev.ExecutionTime), nullString(rev.Error), nullString(rev.ErrorStmt), rev.Hash, partial, rev.OperatorVersion)
	if err != nil {
		return fmt.Errorf("write %s: %w", RevisionsTable, err)
	}
	return nil
}

// DeleteRevision implements migrate.RevisionReadWriter.
func (r *revisions) DeleteRevision(ctx context.Context, version string) error {
	_, err := r.conn.ExecContext(ctx, dbconn.Rebind(r.dialect, "DELETE FROM "+r.table()+" WHERE version = ?"), version)
	return err
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
