package pass

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5/pgconn"
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"supervisor/internal/buildinfo"
	"supervisor/internal/dbconn"
	"supervisor/internal/logging"
	"supervisor/internal/migrate"
	"supervisor/internal/registry"
	"supervisor/schema"
)

// configForms are the --config-db forms, for its error messages.
const configForms = "use sqlite:PATH, a path ending in .sqlite, or postgres://user@host:port/db"

// ConfigLocation resolves where the config database is: raw (--config-db),
// else <workspace>/config.sqlite. baseDir resolves relative SQLite product
// paths. Its errors are usage errors, and none repeats the URL: it may hold
// a password.
func ConfigLocation(raw, workspace string) (t dbconn.Target, baseDir string, err error) {
	return configLocation("--config-db", raw, workspace)
}

// configLocation is ConfigLocation for the option flag (--config-db,
// products import's --from), which its errors name.
func configLocation(flag, raw, workspace string) (t dbconn.Target, baseDir string, err error) {
	sqliteAt := func(path string) (dbconn.Target, string, error) {
		abs, err := filepath.Abs(path)
		if err != nil {
			return dbconn.Target{}, "", err
		}
		return dbconn.Target{Dialect: dbconn.SQLite, Path: abs}, filepath.Dir(abs), nil
	}
	scheme, _, isURL := strings.Cut(raw, "://")
	switch {
	case raw == "":
		return sqliteAt(filepath.Join(workspace, "config.sqlite"))
	case strings.HasPrefix(raw, "sqlite:") && !isURL:
		if raw == "sqlite:" {
			return dbconn.Target{}, "", usagef("%s sqlite: needs a PATH (e.g. sqlite:workspace/config.sqlite)", flag)
		}
		return sqliteAt(strings.TrimPrefix(raw, "sqlite:"))
	case !isURL && strings.HasSuffix(raw, ".sqlite"):
		return sqliteAt(raw)
	case !isURL:
		return dbconn.Target{}, "", usagef("%s: not a config database location; %s", flag, configForms)
	}
	backend, _, _ := strings.Cut(scheme, "+")
	if _, ok := dbconn.ParseDialect(backend); !ok {
		return dbconn.Target{}, "", usagef("%s: unsupported database type %q; %s", flag, scheme, configForms)
	}
	base, _ := filepath.Abs(workspace)
	t, err = registry.ParseConnection(raw, base)
	if err != nil {
		return dbconn.Target{}, "", usagef("%s: %v; %s", flag, err, configForms)
	}
	if t.Password != "" {
		// Our argv is readable by every user of the machine (ps).
		return dbconn.Target{}, "", usagef("%s: the URL holds a password, which would show in the process list; "+
			"leave it out and give it in PGPASSWORD or a password file (~/.pgpass or PGPASSFILE)", flag)
	}
	if t.Dialect == dbconn.SQLite {
		base = filepath.Dir(t.Path)
	}
	return t, base, nil
}

// ConfigDB is one open session with the config database and where its
// schema stands.
type ConfigDB struct {
	db       *sql.DB
	target   dbconn.Target
	baseDir  string
	State    migrate.State
	Location string
}

// Close closes the session.
func (c *ConfigDB) Close() error { return c.db.Close() }

// Registry is the product registry in the config database.
func (c *ConfigDB) Registry() *registry.Registry {
	return registry.New(c.db, c.target.Dialect, c.baseDir)
}

// Upgrade brings the config schema to the packaged one.
func (c *ConfigDB) Upgrade(ctx context.Context, log hclog.Logger) (migrate.Result, error) {
	return migrate.Upgrade(ctx, c.db, c.target.Dialect, schema.Config, migrate.Options{Logger: log, Operator: buildinfo.Operator()})
}

// OpenConfig opens the config database t (its PostgreSQL password resolved
// through getenv) and reads where its schema stands. create allows making a
// missing SQLite file and its directory (init); otherwise a missing one is
// a usage error that says to run init.
func OpenConfig(ctx context.Context, t dbconn.Target, baseDir string, create bool, getenv func(string) string, logs *logging.Logs) (*ConfigDB, error) {
	if t.Dialect == dbconn.Postgres {
		pw, err := Password(registry.Product{Endpoint: "config database", Target: t}, getenv, logs)
		if err != nil {
			return nil, usagef("%v", err)
		}
		t.Password = pw.Value
	}
	loc := registry.Location(t)
	if create && t.Dialect == dbconn.SQLite {
		// A directory that cannot be made (a file in the way, no permission,
		// a read-only file system) is the operator's to fix: exit 2.
		dir := filepath.Dir(t.Path)
		if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
			return nil, usagef("workspace %s is a file, not a directory", dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, usagef("create workspace: %v", err)
		}
	}
	db, err := dbconn.Open(ctx, t, dbconn.Options{Create: create, ImmediateTx: true, ConnectTimeout: dbconn.DefaultConnectTimeout})
	if errors.Is(err, dbconn.ErrMissing) {
		return nil, usagef("no config database at %s: run 'supervisor init' first (or point --config-db at one)", loc)
	}
	if err != nil {
		return nil, usagef("config database %s: %v", loc, err)
	}
	st, err := migrate.Inspect(ctx, db, t.Dialect, schema.Config)
	if err != nil {
		db.Close()
		return nil, usagef("config database %s: %v", loc, err)
	}
	return &ConfigDB{db: db, target: t, baseDir: baseDir, State: st, Location: loc}, nil
}

// WriteError is err, from a write to the config database, with what was
// being done. A database that cannot be written at all (a read-only file,
// directory or file system, a read-only PostgreSQL transaction) is bad
// configuration, exit 2: the write failed as a whole, nothing was changed.
func (c *ConfigDB) WriteError(what string, err error) error {
	if readOnly(err, c.target) {
		return usagef("%s: the config database %s is read-only: %v", what, c.Location, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// wOK is access(2)'s W_OK, the same on every Unix.
const wOK = 0x2

// readOnly reports whether err says that the database t cannot be written
// at all, rather than that this one write failed. It holds for root too: a
// root process ignores file modes, but not a read-only file system or an
// immutable file, and SQLite reports those the same way.
func readOnly(err error, t dbconn.Target) bool {
	var se *sqlitedrv.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_READONLY:
			return true
		case sqlite3.SQLITE_CANTOPEN:
			// The journal beside the file could not be made.
			return syscall.Access(filepath.Dir(t.Path), wOK) != nil
		}
		return false
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "25006" // read_only_sql_transaction
}

// BackupDir is --backup-dir made absolute ("" stays ""), checked before
// anything is read or written: a directory that cannot be made must not
// surface per product, after the questions and the config database upgrade.
func BackupDir(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	abs, err := CanMakeDir(dir)
	if err != nil {
		return "", usagef("--backup-dir: %v", err)
	}
	return abs, nil
}

// CanMakeDir is dir made absolute, or why the directory can neither be
// used nor made, without making it: the nearest existing ancestor must be a
// directory this process may write (access(2) knows read-only file systems
// and immutable directories, which even root cannot write).
func CanMakeDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for p := abs; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) && filepath.Dir(p) != p:
			continue
		case err != nil:
			return "", err
		case !fi.IsDir():
			return "", fmt.Errorf("%s is not a directory", p)
		}
		if err := syscall.Access(p, wOK); err != nil {
			return "", fmt.Errorf("%s is not writable: %w", p, err)
		}
		return abs, nil
	}
}
