package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/sqlclient"
	"ariga.io/atlas/sql/sqlite"
	"github.com/hashicorp/go-hclog"

	"supervisor/internal/status"
	"supervisor/schema"
)

// Options tune an upgrade.
type Options struct {
	// LockTimeout bounds the wait for the database's migration lock (default 30s).
	LockTimeout time.Duration
	// BackupDir, when set, receives a consistent copy of a SQLite database
	// (VACUUM INTO) before its first pending file is applied.
	BackupDir string
	// BackupName prefixes the backup file name (the product endpoint).
	BackupName string
	// Operator is recorded as the operator version of each applied file.
	Operator string
	// ToVersion stops after this version ("" = the latest packaged one). Tests,
	// the demo and the fleet generator use it to make databases at older versions.
	ToVersion string
	// Logger receives one line per event; nil discards.
	Logger hclog.Logger
}

// Result says what an upgrade did.
type Result struct {
	From, To string
	// Applied lists the versions executed (a baseline is not counted).
	Applied []string
	// Adopted is set when a CodeChecker database was adopted as version 001.
	Adopted bool
	// Backup is the backup file written, if any.
	Backup string
}

// ErrNotUpgradable is returned for a database whose state rules an upgrade out.
var ErrNotUpgradable = errors.New("not possible to upgrade")

// ErrLockTimeout is returned when another process holds the migration lock too long.
var ErrLockTimeout = errors.New("timed out waiting for the migration lock")

// FileError says which file and statement failed.
type FileError struct {
	Version, Description string
	Statement            string
	Err                  error
}

func (e *FileError) Error() string {
	msg := fmt.Sprintf("version %s (%s)", e.Version, e.Description)
	if e.Statement != "" {
		msg += ": statement " + oneLine(e.Statement, 120)
	}
	return msg + ": " + e.Err.Error()
}

func (e *FileError) Unwrap() error { return e.Err }

// Upgrade applies every pending packaged file to db, one transaction per file
// (on SQLite through atlas's sqlite.OpenTx, which turns foreign keys off before
// BEGIN and checks them before COMMIT, so a table rebuild does not cascade-delete
// child rows). Whether a file is still pending is decided again inside its own
// transaction, under the database's write lock, so two supervisors never apply a
// file twice. On SQLite db must be opened with one connection and immediate
// transactions (dbconn does both).
func Upgrade(ctx context.Context, db *sql.DB, dialect string, kind schema.Kind, opts Options) (Result, error) {
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 30 * time.Second
	}
	if dialect == "postgres" {
		unlock, err := lockPostgres(ctx, db, "supervisor:"+string(kind), opts.LockTimeout)
		if err != nil {
			return Result{}, err
		}
		// Unlock even when ctx was cancelled: the lock must not outlive us.
		defer unlock(context.WithoutCancel(ctx))
	}
	st, err := Inspect(ctx, db, dialect, kind)
	if err != nil {
		return Result{}, err
	}
	res := Result{From: st.DBVersion, To: st.DBVersion}
	if !st.Status.Upgradable() {
		if st.Status == status.OK {
			return res, nil
		}
		return res, fmt.Errorf("%w: %s", ErrNotUpgradable, st.Reason)
	}
	dir, err := Dir(kind, dialect)
	if err != nil {
		return res, err
	}
	if len(st.Pending) > 0 && opts.BackupDir != "" && dialect == "sqlite" && st.Status != status.SchemaMissing {
		if res.Backup, err = backup(ctx, db, opts, st.DBVersion); err != nil {
			return res, err
		}
		log.Info("backup written", "path", res.Backup)
	}
	if st.Adopt {
		if err := adopt(ctx, db, dialect, dir); err != nil {
			return res, err
		}
		res.Adopted, res.To = true, "001"
		log.Info("adopted CodeChecker database as version 001", "alembic_revision", kind.CodeCheckerHead())
	}
	for _, f := range st.Pending {
		if opts.ToVersion != "" && f.Version() > opts.ToVersion {
			break
		}
		applied, err := applyFile(ctx, db, dialect, dir, f, opts, log)
		if err != nil {
			return res, err
		}
		if applied {
			res.Applied = append(res.Applied, f.Version())
		}
		res.To = f.Version()
	}
	return res, nil
}

// adopt records version 001 as a baseline for a CodeChecker database at its head.
func adopt(ctx context.Context, db *sql.DB, dialect string, dir *migrate.MemDir) error {
	files, err := dir.Files()
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("adopt: %w", err)
	}
	defer tx.Rollback()
	rrw := newRevisions(tx, dialect)
	if err := rrw.create(ctx); err != nil {
		return err
	}
	if _, err := rrw.ReadRevision(ctx, files[0].Version()); err == nil {
		return nil // another supervisor adopted it meanwhile
	}
	if err := rrw.WriteRevision(ctx, &migrate.Revision{
		Version: files[0].Version(), Description: files[0].Desc(),
		Type: migrate.RevisionTypeBaseline, ExecutedAt: time.Now(),
	}); err != nil {
		return err
	}
	return tx.Commit()
}

// applyFile applies one file in its own transaction. It reports false when
// another process applied it first.
func applyFile(ctx context.Context, db *sql.DB, dialect string, dir *migrate.MemDir, f migrate.File, opts Options, log hclog.Logger) (bool, error) {
	start := time.Now()
	fileErr := func(err error) error {
		var se *migrate.StmtExecError
		if errors.As(err, &se) {
			return &FileError{Version: f.Version(), Description: f.Desc(), Statement: se.Stmt.Text, Err: se.Err}
		}
		return &FileError{Version: f.Version(), Description: f.Desc(), Err: err}
	}
	if lf, ok := f.(*migrate.LocalFile); ok && len(lf.Directive("txmode")) > 0 && lf.Directive("txmode")[0] == "none" {
		return applyWith(ctx, db, db, dialect, dir, f, opts, log, start, fileErr)
	}
	var (
		tx  *sqlclient.Tx
		err error
	)
	if dialect == "sqlite" {
		tx, err = sqlite.OpenTx(ctx, db, nil)
	} else {
		var t *sql.Tx
		if t, err = db.BeginTx(ctx, nil); err == nil {
			tx = &sqlclient.Tx{Tx: t}
		}
	}
	if err != nil {
		return false, fileErr(fmt.Errorf("begin: %w", err))
	}
	done := false
	defer func() {
		if !done {
			tx.Rollback()
		}
	}()
	applied, err := applyWith(ctx, tx, db, dialect, dir, f, opts, log, start, fileErr)
	if err != nil || !applied {
		return false, err
	}
	done = true
	if err := tx.Commit(); err != nil {
		return false, fileErr(fmt.Errorf("commit: %w", err))
	}
	log.Info("applied migration file", "version", f.Version(), "description", f.Desc(), "duration", time.Since(start).Round(time.Millisecond).String())
	return true, nil
}

// execQuerier is a *sql.DB or a transaction.
type execQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func applyWith(ctx context.Context, conn execQuerier, db *sql.DB, dialect string, dir *migrate.MemDir, f migrate.File, opts Options, log hclog.Logger, start time.Time, fileErr func(error) error) (bool, error) {
	rrw := newRevisions(conn, dialect)
	if err := rrw.create(ctx); err != nil {
		return false, fileErr(err)
	}
	// Decided under the lock: on SQLite the transaction is BEGIN IMMEDIATE,
	// on PostgreSQL the advisory lock is held.
	if _, err := rrw.ReadRevision(ctx, f.Version()); err == nil {
		log.Info("migration file already applied by another process", "version", f.Version())
		return false, nil
	} else if !errors.Is(err, migrate.ErrRevisionNotExist) {
		return false, fileErr(err)
	}
	var (
		drv migrate.Driver
		err error
	)
	if dialect == "sqlite" {
		drv, err = sqlite.Open(conn)
	} else {
		drv, err = postgres.Open(conn)
	}
	if err != nil {
		return false, fileErr(err)
	}
	ex, err := migrate.NewExecutor(drv, dir, rrw, migrate.WithLogger(atlasLogger{log}), migrate.WithOperatorVersion(opts.Operator))
	if err != nil {
		return false, fileErr(err)
	}
	log.Info("applying migration file", "version", f.Version(), "description", f.Desc())
	if err := ex.Execute(ctx, f); err != nil {
		return false, fileErr(err)
	}
	return true, nil
}

// lockPostgres takes a session advisory lock on its own connection, waiting at
// most timeout, and returns its release.
func lockPostgres(ctx context.Context, db *sql.DB, name string, timeout time.Duration) (func(context.Context), error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	key := int64(h.Sum64())
	deadline := time.Now().Add(timeout)
	for {
		var got bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
			conn.Close()
			return nil, fmt.Errorf("lock: %w", err)
		}
		if got {
			break
		}
		if time.Now().After(deadline) {
			conn.Close()
			return nil, fmt.Errorf("%w (%s): another supervisor is migrating this database", ErrLockTimeout, timeout)
		}
		select {
		case <-ctx.Done():
			conn.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return func(ctx context.Context) {
		conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", key)
		conn.Close()
	}, nil
}

// backup copies a SQLite database consistently with VACUUM INTO.
func backup(ctx context.Context, db *sql.DB, opts Options, version string) (string, error) {
	if err := os.MkdirAll(opts.BackupDir, 0o755); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	name := opts.BackupName
	if name == "" {
		name = "database"
	}
	v := strings.Fields(version)
	if len(v) == 0 {
		v = []string{"none"}
	}
	path := filepath.Join(opts.BackupDir, fmt.Sprintf("%s-v%s-%s.sqlite", name, v[0], time.Now().UTC().Format("20060102T150405.000Z")))
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return "", fmt.Errorf("backup to %s: %w", path, err)
	}
	return path, nil
}

// atlasLogger maps atlas's typed log events onto hclog key/value lines.
type atlasLogger struct{ log hclog.Logger }

func (l atlasLogger) Log(e migrate.LogEntry) {
	switch e := e.(type) {
	case migrate.LogStmt:
		l.log.Debug("executing statement", "sql", oneLine(e.SQL, 200))
	case migrate.LogError:
		if e.SQL != "" {
			l.log.Error("statement failed", "sql", oneLine(e.SQL, 200), "error", e.Error)
		}
	}
}

// oneLine squeezes whitespace and cuts s to n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
