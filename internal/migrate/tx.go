package migrate

import (
	"context"
	"database/sql"
	"fmt"

	"ariga.io/atlas/sql/sqlclient"
	"ariga.io/atlas/sql/sqlite"
)

// beginDetached begins a transaction on db whose BEGIN runs under ctx (on
// SQLite, BEGIN IMMEDIATE waits for the write lock, and a cancellation must
// end that wait) but whose life is not bound to ctx. database/sql rolls back
// a transaction whose context is cancelled by itself, in a goroutine of its
// own, and the caller's Rollback then returns at once (sql.ErrTxDone): a
// worker cancelled by SIGTERM or by its supervisor's death went on to exit
// while that rollback was still running, and left a hot journal behind.
// Statements in the transaction still run under ctx, so a cancellation
// interrupts the running one; the rollback is then the caller's own, done
// before it returns. release must be called once the transaction is over.
func beginDetached(ctx context.Context, db *sql.DB) (tx *sql.Tx, release func(), err error) {
	txCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	tx, err = db.BeginTx(txCtx, nil)
	if !stop() {
		// ctx was cancelled while BEGIN ran, and so is txCtx: database/sql
		// may be rolling tx back already. Nothing was written in it.
		if err == nil {
			tx.Rollback()
			err = context.Cause(ctx)
		}
	}
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return tx, cancel, nil
}

// openSQLiteTx is atlas's sqlite.OpenTx (foreign keys off before BEGIN,
// PRAGMA foreign_key_check before COMMIT, foreign keys back on after either)
// on a transaction from beginDetached, so that a cancelled migration is
// rolled back before applyFile returns. Also unlike OpenTx, a failed BEGIN
// or first foreign key check turns foreign keys back on and leaves no
// transaction open.
func openSQLiteTx(ctx context.Context, db *sql.DB) (*sqlclient.Tx, func(), error) {
	detached := context.WithoutCancel(ctx)
	var on sql.NullBool
	if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil {
		return nil, nil, fmt.Errorf("read foreign_keys: %w", err)
	}
	restore := func() {
		if on.Bool {
			db.ExecContext(detached, "PRAGMA foreign_keys = on")
		}
	}
	if on.Bool {
		if _, err := db.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
			return nil, nil, fmt.Errorf("set foreign_keys off: %w", err)
		}
	}
	tx, release, err := beginDetached(ctx, db)
	if err != nil {
		restore()
		return nil, nil, err
	}
	// The foreign key checks run under ctx: on a big database they take a
	// while, and a cancellation must not wait for them. Turning foreign keys
	// back on after the COMMIT does not: a cancellation that arrives while
	// COMMIT runs (it cannot stop it) must not make a committed file look
	// failed, so that statement runs detached.
	commit, err := commitFunc(ctx, db, tx, on.Bool)
	if err != nil {
		tx.Rollback()
		release()
		restore()
		return nil, nil, err
	}
	return &sqlclient.Tx{
		Tx: tx,
		CommitFn: func() error {
			err := commit()
			if err != nil {
				restore() // commit turns them on under ctx, which may be cancelled
			}
			return err
		},
		RollbackFn: sqlite.RollbackFunc(detached, db, tx, on.Bool),
	}, release, nil
}

// commitFunc is atlas's sqlite.CommitFunc with the statement after the
// COMMIT (foreign keys back on) detached from ctx.
func commitFunc(ctx context.Context, db *sql.DB, tx sqlite.Tx, on bool) (func() error, error) {
	return sqlite.CommitFunc(ctx, detachedExec{db: db, ctx: context.WithoutCancel(ctx)}, tx, on)
}

// detachedExec runs db's statements under ctx, whatever context the caller
// passes: for the statements that must run even after a cancellation.
type detachedExec struct {
	db  *sql.DB
	ctx context.Context
}

func (d detachedExec) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	return d.db.ExecContext(d.ctx, query, args...)
}

func (d detachedExec) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.db.QueryContext(d.ctx, query, args...)
}
