package cleanup

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/hashicorp/go-hclog"
)

// Pending says, reading only, whether Run would remove or change anything
// in db, or log a warning (a checker without a name, an invalid stored
// severity, conflicting or unknown label severities): what lets the
// supervisor start no worker for a product with nothing to do. what names
// the first thing found ("" when nothing is).
//
// It asks the dry run's questions (sweep.unused, with the rows an earlier
// routine would remove not counted as users, and the dry run's plan for
// unindexed columns) with LIMIT 1, in Run's order, and stops at the first
// yes, all in one read-only transaction (one snapshot). Two answers are
// more eager than Run, so that the answer does not depend on the clock:
// any run lock at all counts (Run removes only the expired ones; a live
// lock is held only while a store runs), and so does any checker decision
// Run would log above debug level. opts.Now, BatchSize, Logger and DryRun
// are not used.
//
// Pending holds no lock and writes nothing, so what it says is true of the
// snapshot it read: the caller runs Run when it says yes, or when it fails
// (a locked database, an error: Run then reports the real reason).
func Pending(ctx context.Context, db *sql.DB, opts Options) (what string, err error) {
	if db == nil {
		return "", errors.New("cleanup check: nil database")
	}
	if !opts.Dialect.Valid() {
		return "", fmt.Errorf("cleanup check: unknown dialect %q", opts.Dialect)
	}
	r := &runner{
		dialect: opts.Dialect, sql: sqlOf(opts.Dialect), labels: opts.Labels,
		batch: 1, log: hclog.NewNullLogger(), dry: true, counts: map[string]int64{},
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", fmt.Errorf("cleanup check: get connection: %w", err)
	}
	r.conn = conn
	// Not r.release: it would turn a PRAGMA query_only off that Pending
	// never turned on.
	defer func() {
		if r.broken {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = conn.Close()
	}()
	err = r.inTx(ctx, func(t *tx) error {
		what, err = t.pending()
		return err
	})
	if err != nil {
		return "", fmt.Errorf("cleanup check: %w", err)
	}
	return what, nil
}

// checkedSweeps are the sweeps of Run, in its order, with the routine each
// belongs to.
var checkedSweeps = []struct {
	s    *sweep
	what string
}{
	{&filesSweep, "unused files"},
	{&fileContentsSweep, "unused file contents"},
	{&commentsSweep, "unused comments"},
	{&analysisInfoSweep, "unused analysis info"},
	{&checkerSetSweep, "unused checker sets"},
}

// pending is Pending's work in the open read-only transaction.
func (t *tx) pending() (string, error) {
	var locks bool
	if err := t.queryRow("SELECT EXISTS (SELECT 1 FROM run_locks)").Scan(&locks); err != nil {
		return "", fmt.Errorf("look for run locks: %w", err)
	}
	if locks {
		return "run locks", nil
	}
	for _, c := range checkedSweeps {
		listed, err := t.dryRunPlan(c.s)
		if err != nil {
			return "", err
		}
		keys, err := c.s.next(t, nil, false, c.s.unused(true, listed))
		if err != nil {
			return "", fmt.Errorf("look for %s: %w", c.what, err)
		}
		if len(keys) > 0 {
			return c.what, nil
		}
	}
	if t.r.labels == nil {
		return "", nil
	}
	for _, analyzer := range t.r.labels.Analyzers() {
		checkers, err := t.checkersOf(analyzer)
		if err != nil {
			return "", err
		}
		for _, c := range checkers {
			if !c.name.Valid {
				return "a checker without a name", nil
			}
			d := decideSeverity(t.r.labels, analyzer, c.name.String, c.severity, false)
			if d.Update || d.Conflict != nil || d.BadLabel != "" || c.severity.Valid && !d.OldValid {
				return "checker severities", nil
			}
		}
	}
	return "", nil
}
