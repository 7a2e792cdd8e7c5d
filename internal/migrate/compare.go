package migrate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"

	amigrate "ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	aschema "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"

	"supervisor/internal/dbconn"
	"supervisor/internal/logging"
	"supervisor/schema"
)

// Compare inspects the live schema of db and the packaged schema of kind at
// version with atlas, and returns how the live one differs from the packaged
// one, one short human-readable line per difference ("extra index
// supervisor_ix_files_x on files"); none means they are the same, up to the
// differences normalize allows. The packaged schema is made by replaying the
// packaged files up to version into a scratch database of the same dialect:
// SQLite in memory, on PostgreSQL a schema of its own on db's server, in a
// transaction that is rolled back, so nothing of it stays. It only reads db.
func Compare(ctx context.Context, db aschema.ExecQuerier, dialect dbconn.Dialect, kind schema.Kind, version string) ([]string, error) {
	drv, live, err := inspectLive(ctx, db, dialect)
	if err != nil {
		return nil, err
	}
	packaged, err := inspectPackaged(ctx, db, dialect, kind, version)
	if err != nil {
		return nil, err
	}
	return differences(drv, packaged, live)
}

// inspectLive inspects db's schema (public on PostgreSQL) and returns it
// normalized, with the driver that inspected it.
func inspectLive(ctx context.Context, db aschema.ExecQuerier, dialect dbconn.Dialect) (amigrate.Driver, *aschema.Schema, error) {
	drv, err := openDriver(db, dialect)
	if err != nil {
		return nil, nil, err
	}
	name := ""
	if dialect == dbconn.Postgres {
		name = "public"
	}
	s, err := drv.InspectSchema(ctx, name, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("inspect the database's schema: %w", err)
	}
	normalize(dialect, s)
	return drv, s, nil
}

// inspectPackaged replays the packaged files of kind up to version into a
// scratch database and returns its schema, normalized and named as the live
// one is.
func inspectPackaged(ctx context.Context, db aschema.ExecQuerier, dialect dbconn.Dialect, kind schema.Kind, version string) (*aschema.Schema, error) {
	files, err := filesUpTo(kind, dialect, version)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 || files[len(files)-1].Version() != version {
		return nil, fmt.Errorf("the packaged %s schema for %s has no version %s", kind, dialect, version)
	}
	var stmts []string
	for _, f := range files {
		ss, err := f.Stmts()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.Name(), err)
		}
		stmts = append(stmts, ss...)
	}
	var s *aschema.Schema
	if dialect == dbconn.Postgres {
		s, err = replayPostgres(ctx, db, stmts)
	} else {
		s, err = replaySQLite(ctx, stmts)
	}
	if err != nil {
		return nil, fmt.Errorf("packaged %s schema at %s: %w", kind, version, err)
	}
	normalize(dialect, s)
	return s, nil
}

// replaySQLite runs stmts in a new in-memory database and inspects it.
func replaySQLite(ctx context.Context, stmts []string) (*aschema.Schema, error) {
	scratch, err := dbconn.OpenMemory(ctx)
	if err != nil {
		return nil, err
	}
	defer scratch.Close()
	for _, stmt := range stmts {
		if _, err := scratch.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("replay %s: %w", logging.OneLineCut(stmt, 80), err)
		}
	}
	drv, err := sqlite.Open(scratch)
	if err != nil {
		return nil, err
	}
	return drv.InspectSchema(ctx, "", nil)
}

// beginner is a *sql.DB or a *sql.Conn: what can begin a transaction of its
// own. It is not a dbconn.Querier: replayPostgres tells by it whether it is
// given a transaction already (which cannot begin another, and gets a
// savepoint instead) or a handle that can begin one.
type beginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// replayPostgres runs stmts in a schema of their own on db's server, inspects
// that schema and names the result "public", as the live schema is named.
// Everything happens in one transaction (or a savepoint, when db is a
// transaction already) that is rolled back: PostgreSQL's DDL is
// transactional, so the scratch schema is gone afterwards even if this
// process dies halfway, and other sessions never see it.
func replayPostgres(ctx context.Context, db aschema.ExecQuerier, stmts []string) (_ *aschema.Schema, err error) {
	var conn aschema.ExecQuerier
	if b, ok := db.(beginner); ok {
		tx, err := b.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("begin: %w", err)
		}
		defer tx.Rollback()
		conn = tx
	} else {
		if _, err := db.ExecContext(ctx, "SAVEPOINT supervisor_scratch"); err != nil {
			return nil, fmt.Errorf("savepoint: %w", err)
		}
		defer func() {
			detached := context.WithoutCancel(ctx)
			if _, rerr := db.ExecContext(detached, "ROLLBACK TO SAVEPOINT supervisor_scratch"); rerr != nil && err == nil {
				err = fmt.Errorf("roll back the scratch schema: %w", rerr)
			}
			db.ExecContext(detached, "RELEASE SAVEPOINT supervisor_scratch")
		}()
		conn = db
	}
	b := make([]byte, 8)
	rand.Read(b)
	name := "supervisor_scratch_" + hex.EncodeToString(b)
	for _, stmt := range append([]string{"CREATE SCHEMA " + name, "SET LOCAL search_path TO " + name}, stmts...) {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("replay %s: %w", logging.OneLineCut(stmt, 80), err)
		}
	}
	drv, err := postgres.Open(conn)
	if err != nil {
		return nil, err
	}
	s, err := drv.InspectSchema(ctx, name, nil)
	if err != nil {
		return nil, err
	}
	// Types and tables point at s, so renaming it renames theirs too.
	s.Name = "public"
	return s, nil
}

func openDriver(db aschema.ExecQuerier, dialect dbconn.Dialect) (amigrate.Driver, error) {
	if dialect == dbconn.Postgres {
		return postgres.Open(db)
	}
	return sqlite.Open(db)
}

// bookkeepingTables are left out of every comparison: the revisions table is
// ours, and alembic_version's content is checked on its own (its presence is
// part of version 001, so CodeChecker can open the database).
var bookkeepingTables = map[string]bool{RevisionsTable: true, "alembic_version": true}

// normalize removes from an inspected schema what may differ between two
// databases that have the same schema, so that the differ does not report it.
// This is the one list of differences the comparison allows:
//
//   - atlas's and alembic's bookkeeping tables (see bookkeepingTables);
//   - on SQLite, the names SQLite makes up for what has no name of its own:
//     the index of a UNIQUE constraint (sqlite_autoindex_T_N) and an unnamed
//     foreign key (atlas names it by its position). Both are numbered in the
//     order the constraints appear in the CREATE TABLE text, and CodeChecker's
//     alembic batch rebuilds write that text in an order that changes from
//     run to run (testdata/codechecker/README.md; the fixtures README, "SQLite
//     vs PostgreSQL schema differences", item 10). They are named by their
//     columns instead. Column order is not compared either (the differ
//     matches columns by name), and the CREATE TABLE text itself is not.
//
// CodeChecker's SQLite leftover columns need no entry: version 001 has them.
func normalize(dialect dbconn.Dialect, s *aschema.Schema) {
	kept := s.Tables[:0]
	for _, t := range s.Tables {
		if !bookkeepingTables[t.Name] {
			kept = append(kept, t)
		}
	}
	s.Tables = kept
	if dialect != dbconn.SQLite {
		return
	}
	for _, t := range s.Tables {
		for _, idx := range t.Indexes {
			if strings.HasPrefix(idx.Name, "sqlite_autoindex_") {
				var cols []string
				for _, p := range idx.Parts {
					if p.C != nil {
						cols = append(cols, p.C.Name)
					}
				}
				idx.Name = t.Name + "_unique_" + strings.Join(cols, "_")
			}
		}
		for _, fk := range t.ForeignKeys {
			if fk.Symbol == "" || strings.Trim(fk.Symbol, "0123456789") == "" {
				var cols []string
				for _, c := range fk.Columns {
					cols = append(cols, c.Name)
				}
				ref := ""
				if fk.RefTable != nil {
					ref = fk.RefTable.Name
				}
				fk.Symbol = t.Name + "_fk_" + strings.Join(cols, "_") + "_" + ref
			}
		}
	}
}

// differences describes, one line each, what turns the packaged schema into
// the live one, from the live one's point of view ("extra" is in the
// database and not in the package, "missing" the other way round).
func differences(d aschema.Differ, packaged, live *aschema.Schema) ([]string, error) {
	changes, err := d.SchemaDiff(packaged, live)
	if err != nil {
		return nil, fmt.Errorf("compare schemas: %w", err)
	}
	var out []string
	for _, c := range changes {
		out = append(out, describeChange(c)...)
	}
	return out, nil
}

func describeChange(c aschema.Change) []string {
	switch c := c.(type) {
	case *aschema.AddTable:
		return []string{"extra table " + c.T.Name}
	case *aschema.DropTable:
		return []string{"missing table " + c.T.Name}
	case *aschema.ModifyTable:
		var out []string
		for _, tc := range c.Changes {
			out = append(out, describeTableChange(c.T.Name, tc))
		}
		return out
	case *aschema.AddObject:
		return []string{"extra type " + objectName(c.O)}
	case *aschema.DropObject:
		return []string{"missing type " + objectName(c.O)}
	case *aschema.ModifyObject:
		return []string{"type " + objectName(c.To) + " differs"}
	case *aschema.ModifySchema:
		return []string{"schema attributes differ"}
	}
	return []string{strings.TrimPrefix(fmt.Sprintf("%T", c), "*schema.")}
}

func describeTableChange(table string, c aschema.Change) string {
	switch c := c.(type) {
	case *aschema.AddColumn:
		return "extra column " + table + "." + c.C.Name
	case *aschema.DropColumn:
		return "missing column " + table + "." + c.C.Name
	case *aschema.ModifyColumn:
		var what []string
		if c.Change.Is(aschema.ChangeType) {
			what = append(what, fmt.Sprintf("type %s, packaged %s", columnType(c.To), columnType(c.From)))
		}
		if c.Change.Is(aschema.ChangeNull) {
			what = append(what, fmt.Sprintf("nullable %v, packaged %v", c.To.Type.Null, c.From.Type.Null))
		}
		if c.Change.Is(aschema.ChangeDefault) {
			what = append(what, fmt.Sprintf("default %s, packaged %s", columnDefault(c.To), columnDefault(c.From)))
		}
		if len(what) == 0 {
			what = append(what, "attributes")
		}
		return "column " + table + "." + c.From.Name + " differs (" + strings.Join(what, "; ") + ")"
	case *aschema.AddIndex:
		return "extra index " + c.I.Name + " on " + table
	case *aschema.DropIndex:
		return "missing index " + c.I.Name + " on " + table
	case *aschema.ModifyIndex:
		return "index " + c.From.Name + " on " + table + " differs"
	case *aschema.AddForeignKey:
		return "extra foreign key " + c.F.Symbol + " on " + table
	case *aschema.DropForeignKey:
		return "missing foreign key " + c.F.Symbol + " on " + table
	case *aschema.ModifyForeignKey:
		return "foreign key " + c.From.Symbol + " on " + table + " differs"
	case *aschema.AddCheck:
		return "extra check " + c.C.Name + " on " + table
	case *aschema.DropCheck:
		return "missing check " + c.C.Name + " on " + table
	case *aschema.ModifyCheck:
		return "check " + c.From.Name + " on " + table + " differs"
	case *aschema.AddPrimaryKey, *aschema.DropPrimaryKey, *aschema.ModifyPrimaryKey:
		return "primary key of " + table + " differs"
	}
	return "table " + table + ": " + strings.TrimPrefix(fmt.Sprintf("%T", c), "*schema.")
}

func objectName(o aschema.Object) string {
	if e, ok := o.(*aschema.EnumType); ok {
		return e.T
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", o), "*")
}

func columnType(c *aschema.Column) string {
	if c.Type == nil {
		return "?"
	}
	if c.Type.Raw != "" {
		return c.Type.Raw
	}
	return fmt.Sprintf("%T", c.Type.Type)
}

func columnDefault(c *aschema.Column) string {
	switch x := c.Default.(type) {
	case nil:
		return "none"
	case *aschema.Literal:
		return x.V
	case *aschema.RawExpr:
		return x.X
	}
	return fmt.Sprintf("%v", c.Default)
}

// summarize renders differences for a one-line reason: the first few, and
// how many more there are.
func summarize(diffs []string, n int) string {
	if len(diffs) <= n {
		return strings.Join(diffs, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(diffs[:n], ", "), len(diffs)-n)
}
