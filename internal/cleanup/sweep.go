package cleanup

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

type (
	// sweep describes a batched delete of the unused rows of one table.
	sweep struct {
		// key is the result key the deleted rows are counted under.
		key string
		// table and column: the table and its (single-column) primary key.
		table, column string
		// text says the key is a string (content_hash), not an integer.
		text bool
		// refs are the referencing rows whose absence makes a row garbage
		// (the "unused" condition, see unused); it is checked again in
		// every DELETE.
		refs []ref
		// cascades are the rows ON DELETE CASCADE removes with the table's
		// rows, counted per batch before the delete.
		cascades []cascade
		// helpers are referencing columns without an index in
		// CodeChecker's schema, that the delete would otherwise scan once
		// per deleted row (see the package comment).
		helpers []column
		// lazyHelpers builds the helper indexes only once there is
		// something to delete: right for helpers that only the foreign-key
		// actions use, not the unused condition.
		lazyHelpers bool
	}

	// cascade is a referencing column whose rows go with their parent.
	cascade struct {
		key, table, column string
	}

	// ref is one referencing column of a swept table: a row is used while
	// some row of table has column equal to the row's key column.
	ref struct {
		table, column, key string
		// removedBy is the sweep of table that runs before this one in a
		// cleanup: by then it has deleted its garbage. A dry run deletes
		// nothing, so it must not count those rows as users (file
		// contents only the unused files use, checker sets only the unused
		// analysis info uses would be removed too).
		removedBy *sweep
	}

	// column names a table's column.
	column struct {
		table, name string
	}
)

// unused is the SQL condition that makes a row of s.table garbage: no row
// of any of s.refs points at it. In a dry run (dry), the rows of a
// referencing table that an earlier sweep would have deleted do not count:
// the same conditions, applied to what would be left.
//
// A ref is a correlated NOT EXISTS, unless listed names its column: then it
// is a NOT IN over the column's values, which SQLite reads once per
// statement into a temporary b-tree (in memory, not the database). A dry
// run on SQLite lists the referencing columns without an index, which the
// real run indexes for the time of its transaction (a write): a correlated
// NOT EXISTS on them scans the table once per row. A NULL key is unused
// either way (nothing equals it).
func (s *sweep) unused(dry bool, listed map[column]bool) string {
	parts := make([]string, len(s.refs))
	for i, r := range s.refs {
		key := s.table + "." + r.key
		col := r.table + "." + r.column
		var also string
		if dry && r.removedBy != nil {
			also = " AND NOT (" + r.removedBy.unused(dry, listed) + ")"
		}
		if listed[column{r.table, r.column}] {
			parts[i] = fmt.Sprintf("(%s IS NULL OR %s NOT IN (SELECT %s FROM %s WHERE %s IS NOT NULL%s))", key, key, col, r.table, col, also)
		} else {
			parts[i] = fmt.Sprintf("NOT EXISTS (SELECT 1 FROM %s WHERE %s = %s%s)", r.table, col, key, also)
		}
	}
	return strings.Join(parts, " AND ")
}

// dryRunPlan makes up, in a dry run, for the helper indexes the real run
// builds (see sweep.unused): it returns the columns to list on SQLite; on
// PostgreSQL, when a referencing column has no index, it turns nested loops
// off for the transaction (the planner would otherwise probe the column's
// table once per row when the batch's LIMIT promises an early end), so
// that each statement hashes the referencing table once.
func (t *tx) dryRunPlan(s *sweep) (map[column]bool, error) {
	if !t.r.dry {
		return nil, nil
	}
	unindexed, err := t.unindexedRefs(s)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(slices.Collect(maps.Values(unindexed)), true) {
		return nil, nil
	}
	if t.r.sql.listUnindexed {
		return unindexed, nil
	}
	if _, err := t.exec(t.r.sql.hashUnindexed); err != nil {
		return nil, fmt.Errorf("turn nested loops off: %w", err)
	}
	return nil, nil
}

// unindexedRefs are the referencing columns of s's condition in a dry run
// (those of the sweeps it looks through included) that no index starts
// with.
func (t *tx) unindexedRefs(s *sweep) (map[column]bool, error) {
	out := map[column]bool{}
	for _, r := range s.refs {
		c := column{r.table, r.column}
		has, err := t.hasLeadingIndex(c)
		if err != nil {
			return nil, fmt.Errorf("look for an index on %s.%s: %w", c.table, c.name, err)
		}
		out[c] = !has
		if r.removedBy != nil {
			more, err := t.unindexedRefs(r.removedBy)
			if err != nil {
				return nil, err
			}
			maps.Copy(out, more)
		}
	}
	return out, nil
}

// run deletes every row of s.table that s.unused holds for, in batches of
// the runner's batch size. It returns what it deleted and what the cascades
// took, by key; the caller adds them to the result once its transaction
// committed. In a dry run it deletes nothing and builds no helper index
// (both are writes): it counts the same batches, the rows each DELETE
// would take, and what the cascades would take with them.
func (s *sweep) run(t *tx) (map[string]int64, error) {
	dry := t.r.dry
	got := map[string]int64{s.key: 0}
	for _, c := range s.cascades {
		got[c.key] = 0
	}
	listed, err := t.dryRunPlan(s)
	if err != nil {
		return got, err
	}
	unused := s.unused(dry, listed)
	var (
		last    any
		started bool
		helpers []string // the temporary indexes built
		built   bool
	)
	build := func() error {
		built = true
		var err error
		helpers, err = t.helperIndexes(s.helpers)
		return err
	}
	if !s.lazyHelpers && !dry {
		if err := build(); err != nil {
			return got, err
		}
	}
	for {
		if err := t.ctx.Err(); err != nil {
			return got, err
		}
		keys, err := s.next(t, last, started, unused)
		if err != nil {
			return got, fmt.Errorf("select unused %s: %w", s.table, err)
		}
		if len(keys) == 0 {
			break
		}
		if !built && !dry {
			if err := build(); err != nil {
				return got, err
			}
		}
		in := placeholders(len(keys))
		for _, c := range s.cascades {
			var n int64
			q := fmt.Sprintf("SELECT count(*) FROM %s WHERE %s IN (%s)", c.table, c.column, in)
			if err := t.queryRow(q, keys...).Scan(&n); err != nil {
				return got, fmt.Errorf("count %s rows of unused %s: %w", c.table, s.table, err)
			}
			got[c.key] += n
		}
		// The keys were selected by the same condition in the same
		// transaction, which a dry run holds read-only: the DELETE would
		// take exactly them.
		n := int64(len(keys))
		if !dry {
			q := fmt.Sprintf("DELETE FROM %s WHERE %s IN (%s) AND %s", s.table, s.column, in, unused)
			if n, err = t.exec(q, keys...); err != nil {
				return got, fmt.Errorf("delete unused %s: %w", s.table, err)
			}
		}
		got[s.key] += n
		if len(keys) < t.r.batch {
			break
		}
		last, started = keys[len(keys)-1], true
	}
	for _, name := range helpers {
		if _, err := t.exec("DROP INDEX " + quoteIdent(name)); err != nil {
			return got, fmt.Errorf("drop temporary index %s: %w", name, err)
		}
	}
	return got, nil
}

// next selects the next batch of keys after last (from the start when
// !started) that the condition unused holds for, in key order. Only the
// keys are held, so memory is bounded by the batch size.
func (s *sweep) next(t *tx, last any, started bool, unused string) ([]any, error) {
	where := unused
	args := []any{}
	if started {
		where = fmt.Sprintf("%s > ? AND %s", s.column, where)
		args = append(args, last)
	}
	args = append(args, t.r.batch)
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT ?", s.column, s.table, where, s.column)
	rows, err := t.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	keys := make([]any, 0, t.r.batch)
	for rows.Next() {
		if s.text {
			var k string
			if err := rows.Scan(&k); err != nil {
				return nil, err
			}
			keys = append(keys, k)
		} else {
			var k int64
			if err := rows.Scan(&k); err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
	}
	return keys, rows.Err()
}

// helperIndexes makes sure each column is the leading column of some index,
// creating the missing ones inside the open transaction; it returns the
// names it created, for the caller to drop before the commit. Nothing of
// it outlives the transaction, so the schema stays CodeChecker's. When an
// index cannot be created (on PostgreSQL, a user who does not own the
// table), it logs a warning and the sweep goes on without: correct, only
// slower.
func (t *tx) helperIndexes(cols []column) ([]string, error) {
	var created []string
	for _, c := range cols {
		has, err := t.hasLeadingIndex(c)
		if err != nil {
			return created, fmt.Errorf("look for an index on %s.%s: %w", c.table, c.name, err)
		}
		if has {
			continue
		}
		name := "tmp_cleanup_" + c.table + "_" + c.name
		create := fmt.Sprintf("CREATE INDEX %s ON %s (%s)", quoteIdent(name), c.table, quoteIdent(c.name))
		if t.r.sql.guardDDL {
			// A failed statement aborts a PostgreSQL transaction; the
			// savepoint lets us go on without the index.
			if _, err := t.exec("SAVEPOINT cleanup_helper_index"); err != nil {
				return created, fmt.Errorf("savepoint: %w", err)
			}
			if _, err := t.exec(create); err != nil {
				if _, rerr := t.exec("ROLLBACK TO SAVEPOINT cleanup_helper_index"); rerr != nil {
					return created, fmt.Errorf("create temporary index on %s.%s: %w (roll back to savepoint: %v)", c.table, c.name, err, rerr)
				}
				t.r.log.Warn("cannot create a temporary index for the delete; going on without it, which may be slow",
					"table", c.table, "column", c.name, "error", err)
				continue
			}
			if _, err := t.exec("RELEASE SAVEPOINT cleanup_helper_index"); err != nil {
				return created, fmt.Errorf("release savepoint: %w", err)
			}
		} else if _, err := t.exec(create); err != nil {
			return created, fmt.Errorf("create temporary index on %s.%s: %w", c.table, c.name, err)
		}
		t.r.log.Debug("created a temporary index for the delete; it is dropped before the commit",
			"index", name, "table", c.table, "column", c.name)
		created = append(created, name)
	}
	return created, nil
}

// hasLeadingIndex says whether some index of c.table starts with c.name.
func (t *tx) hasLeadingIndex(c column) (bool, error) {
	var has bool
	err := t.queryRow(t.r.sql.hasLeadingIndex, c.table, c.name).Scan(&has)
	return has, err
}
