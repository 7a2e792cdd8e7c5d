package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/internal/registry"
	"supervisor/internal/status"
	"supervisor/schema"
)

// configForms are the --config-db forms, for its error messages.
const configForms = "use sqlite:PATH, a path ending in .sqlite, or postgres://user@host:port/db"

// configLocation resolves where the config database is: --config-db, else
// <workspace>/config.sqlite. baseDir resolves relative SQLite product paths.
// No error repeats the URL: it may hold a password.
func (g *globals) configLocation() (t dbconn.Target, baseDir string, err error) {
	raw := g.configDB
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
		return sqliteAt(filepath.Join(g.workspace, "config.sqlite"))
	case strings.HasPrefix(raw, "sqlite:") && !isURL:
		if raw == "sqlite:" {
			return dbconn.Target{}, "", usagef("--config-db sqlite: needs a PATH (e.g. sqlite:workspace/config.sqlite)")
		}
		return sqliteAt(strings.TrimPrefix(raw, "sqlite:"))
	case !isURL && strings.HasSuffix(raw, ".sqlite"):
		return sqliteAt(raw)
	case !isURL:
		return dbconn.Target{}, "", usagef("--config-db: not a config database location; %s", configForms)
	}
	backend, _, _ := strings.Cut(scheme, "+")
	switch backend {
	case "sqlite", "postgres", "postgresql":
	default:
		return dbconn.Target{}, "", usagef("--config-db: unsupported database type %q; %s", scheme, configForms)
	}
	base, _ := filepath.Abs(g.workspace)
	t, err = registry.ParseConnection(raw, base)
	if err != nil {
		return dbconn.Target{}, "", usagef("--config-db: %v; %s", err, configForms)
	}
	if t.Password != "" {
		// Our argv is readable by every user of the machine (ps).
		return dbconn.Target{}, "", usagef("--config-db: the URL holds a password, which would show in the process list; " +
			"leave it out and give it in PGPASSWORD or a password file (~/.pgpass or PGPASSFILE)")
	}
	if t.Dialect == dbconn.SQLite {
		base = filepath.Dir(t.Path)
	}
	return t, base, nil
}

// configDB is the open config database and where it stands.
type configDB struct {
	db       *sql.DB
	target   dbconn.Target
	baseDir  string
	state    migrate.State
	location string
}

func (c *configDB) Close() error { return c.db.Close() }

// writeError is err, from a write to the config database, with what was
// being done. A database that cannot be written at all (a read-only file,
// directory or file system, a read-only PostgreSQL transaction) is bad
// configuration, exit 2: the write failed as a whole, nothing was changed.
func (c *configDB) writeError(what string, err error) error {
	if readOnly(err, c.target) {
		return usagef("%s: the config database %s is read-only: %v", what, c.location, err)
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

func (c *configDB) registry() *registry.Registry {
	return registry.New(c.db, c.target.Dialect, c.baseDir)
}

// openConfig opens the config database. create allows making a missing
// SQLite file (init); otherwise a missing one is a usage error that says
// to run init.
func (g *globals) openConfig(ctx context.Context, create bool) (*configDB, error) {
	t, base, err := g.configLocation()
	if err != nil {
		return nil, err
	}
	if t.Dialect == dbconn.Postgres {
		pw, err := g.password(registry.Product{Endpoint: "config database", Target: t})
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
	return &configDB{db: db, target: t, baseDir: base, state: st, location: loc}, nil
}

// configSeen is what readProducts saw of the config database it has closed
// again: where it is and the state of its schema.
type configSeen struct {
	location string
	state    migrate.State
}

// readProducts reads the selected products (all if none selected) in endpoint
// order and closes the config database before returning: product work must
// never hold it open (a long migration used to time CodeChecker's out).
func (g *globals) readProducts(ctx context.Context, selected []string) ([]registry.Product, configSeen, error) {
	cfg, err := g.openConfig(ctx, false)
	if err != nil {
		return nil, configSeen{}, err
	}
	defer cfg.Close()
	seen := configSeen{location: cfg.location, state: cfg.state}
	switch cfg.state.Status {
	case status.OK, status.SchemaMismatchOK:
	default:
		return nil, seen, usagef("config database %s: %s %s", cfg.location, cfg.state.Status.Message(), cfg.state.Reason)
	}
	all, err := cfg.registry().List(ctx)
	if err != nil {
		return nil, seen, fmt.Errorf("config database %s: %w", cfg.location, err)
	}
	g.registered = all
	products, err := selectProducts(all, selected)
	return products, seen, err
}

// selectProducts keeps the products named by --product, in endpoint order.
// Naming an unknown product is a usage error; it never widens to all.
func selectProducts(all []registry.Product, selected []string) ([]registry.Product, error) {
	if len(selected) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, e := range selected {
		want[e] = true
	}
	var out []registry.Product
	for _, p := range all {
		if want[p.Endpoint] {
			out = append(out, p)
			delete(want, p.Endpoint)
		}
	}
	for _, e := range selected {
		if want[e] {
			return nil, usagef("unknown product %q (see 'supervisor products list')", e)
		}
	}
	return out, nil
}
