// Package workspace builds supervisor workspaces for tests, the demo and
// benchmarks: a config database with registered products, and product
// databases at a chosen schema version with generated content.
package workspace

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"supervisor/integration/fleet"
	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/internal/registry"
	"supervisor/schema"
)

// Workspace is an open config database of a workspace directory.
type Workspace struct {
	Dir string
	db  *sql.DB
	reg *registry.Registry
}

// Create makes dir and its config database (config.sqlite) at the latest
// packaged version, or opens it if it exists.
func Create(ctx context.Context, dir string) (*Workspace, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "config.sqlite")
	db, err := dbconn.Open(ctx, dbconn.Target{Dialect: "sqlite", Path: path}, dbconn.Options{Create: true, ImmediateTx: true})
	if err != nil {
		return nil, err
	}
	if _, err := migrate.Upgrade(ctx, db, "sqlite", schema.Config, migrate.Options{}); err != nil {
		db.Close()
		return nil, fmt.Errorf("config database: %w", err)
	}
	return &Workspace{Dir: dir, db: db, reg: registry.New(db, "sqlite", dir)}, nil
}

// Close closes the config database.
func (w *Workspace) Close() error { return w.db.Close() }

// Add registers a product.
func (w *Workspace) Add(ctx context.Context, endpoint string, t dbconn.Target, passwordEnv string) error {
	return w.reg.Add(ctx, registry.Product{Endpoint: endpoint, DisplayName: endpoint, Target: t, PasswordEnv: passwordEnv})
}

// MakeProduct creates the product database t at version ("" = none: an
// empty database; "latest" = the newest packaged one) and fills it with
// opts.Reports reports of generated content. A SQLite file must not exist; a
// PostgreSQL database must exist and be empty.
func MakeProduct(ctx context.Context, t dbconn.Target, version string, opts fleet.Options) (fleet.Garbage, error) {
	db, err := dbconn.Open(ctx, t, dbconn.Options{Create: true, ImmediateTx: true})
	if err != nil {
		return fleet.Garbage{}, err
	}
	defer db.Close()
	if version == "" {
		return fleet.Garbage{}, nil
	}
	if version == "latest" {
		version = ""
	}
	if _, err := migrate.Upgrade(ctx, db, t.Dialect, schema.Product, migrate.Options{ToVersion: version}); err != nil {
		return fleet.Garbage{}, err
	}
	if opts.Reports == 0 {
		return fleet.Garbage{}, nil
	}
	opts.Dialect = t.Dialect.String()
	return fleet.Fill(ctx, db, opts)
}

// CopyProducts makes n SQLite products from one generated template, which is
// much faster than generating each: files dir/<prefix>NNN.sqlite, registered
// as endpoints <prefix>NNN.
func (w *Workspace) CopyProducts(ctx context.Context, dir, prefix string, n int, version string, opts fleet.Options) (fleet.Garbage, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fleet.Garbage{}, err
	}
	template := filepath.Join(dir, ".template-"+prefix+".sqlite")
	os.Remove(template)
	g, err := MakeProduct(ctx, dbconn.Target{Dialect: "sqlite", Path: template}, version, opts)
	if err != nil {
		return g, err
	}
	defer os.Remove(template)
	for i := 0; i < n; i++ {
		endpoint := fmt.Sprintf("%s%03d", prefix, i)
		path := filepath.Join(dir, endpoint+".sqlite")
		if err := fleet.CopySQLite(template, path); err != nil {
			return g, err
		}
		if err := w.Add(ctx, endpoint, dbconn.Target{Dialect: "sqlite", Path: path}, ""); err != nil {
			return g, err
		}
	}
	return g, nil
}

// CopyFile copies a file (a CodeChecker fixture, say) to dst.
func CopyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// CreatePostgresDatabase creates database name on the server t points at
// (t.Database is ignored; the maintenance database "postgres" is used),
// dropping an existing one first when replace is set.
func CreatePostgresDatabase(ctx context.Context, t dbconn.Target, name string, replace bool) error {
	admin := t
	admin.Database = "postgres"
	db, err := dbconn.Open(ctx, admin, dbconn.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	quoted := `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
	if replace {
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoted+" WITH (FORCE)"); err != nil {
			return err
		}
	}
	_, err = db.ExecContext(ctx, "CREATE DATABASE "+quoted)
	return err
}
