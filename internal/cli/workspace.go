package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/job"
	"supervisor/internal/migrate"
	"supervisor/internal/registry"
	"supervisor/internal/status"
	"supervisor/schema"
)

// configLocation resolves where the config database is: --config-db, else
// <workspace>/config.sqlite. baseDir resolves relative SQLite product paths.
func (g *globals) configLocation() (t job.Target, baseDir string, err error) {
	raw := g.configDB
	if raw == "" {
		path, err := filepath.Abs(filepath.Join(g.workspace, "config.sqlite"))
		if err != nil {
			return job.Target{}, "", err
		}
		return job.Target{Dialect: "sqlite", Path: path}, filepath.Dir(path), nil
	}
	switch {
	case strings.HasPrefix(raw, "sqlite:") && !strings.HasPrefix(raw, "sqlite://"):
		if raw == "sqlite:" {
			return job.Target{}, "", usagef("--config-db sqlite: needs a PATH (e.g. sqlite:workspace/config.sqlite)")
		}
		path, err := filepath.Abs(strings.TrimPrefix(raw, "sqlite:"))
		if err != nil {
			return job.Target{}, "", err
		}
		return job.Target{Dialect: "sqlite", Path: path}, filepath.Dir(path), nil
	default:
		base, _ := filepath.Abs(g.workspace)
		t, err := registry.ParseConnection(raw, base)
		if err != nil {
			return job.Target{}, "", usagef("--config-db: %v (want sqlite:PATH or postgres://user@host:port/db)", err)
		}
		if t.Dialect == "sqlite" {
			base = filepath.Dir(t.Path)
		}
		return t, base, nil
	}
}

// configDB is the open config database and where it stands.
type configDB struct {
	db       *sql.DB
	target   job.Target
	baseDir  string
	state    migrate.State
	location string
}

func (c *configDB) Close() error { return c.db.Close() }

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
	if t.Dialect == "postgres" {
		pw, err := registry.ResolvePassword(registry.Product{Endpoint: "config database", Target: t}, g.env.Getenv)
		if err != nil {
			return nil, usagef("%v", err)
		}
		t.Password = pw
	}
	loc := registry.Location(t)
	if create && t.Dialect == "sqlite" {
		if err := os.MkdirAll(filepath.Dir(t.Path), 0o755); err != nil {
			return nil, fmt.Errorf("create workspace: %w", err)
		}
	}
	db, err := dbconn.Open(ctx, t, dbconn.Options{Create: create, ImmediateTx: true, ConnectTimeout: 10 * time.Second})
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

// readProducts reads the selected products (all if none selected) in endpoint
// order and closes the config database before returning: product work must
// never hold it open (a long migration used to time CodeChecker's out).
func (g *globals) readProducts(ctx context.Context, selected []string) ([]registry.Product, *configDB, error) {
	cfg, err := g.openConfig(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	defer cfg.Close()
	switch cfg.state.Status {
	case status.OK, status.SchemaMismatchOK:
	default:
		return nil, nil, usagef("config database %s: %s %s", cfg.location, cfg.state.Status.Message(), cfg.state.Reason)
	}
	all, err := cfg.registry().List(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("config database %s: %w", cfg.location, err)
	}
	g.registered = all
	products, err := selectProducts(all, selected)
	return products, cfg, err
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
