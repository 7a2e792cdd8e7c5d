package cli

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/spf13/pflag"

	"supervisor/internal/buildinfo"
	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/internal/registry"
	"supervisor/internal/status"
	"supervisor/schema"
)

func runInit(ctx context.Context, g *globals, args []string) error {
	fs := pflag.NewFlagSet("init", pflag.ContinueOnError)
	noDefault := fs.Bool("no-default", false, "do not register the product \"Default\"")
	if err := g.parse("init", "init [--no-default]", fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("init: unexpected arguments %v", fs.Args())
	}
	cfg, err := g.openConfig(ctx, true)
	if err != nil {
		return err
	}
	defer cfg.Close()
	switch cfg.state.Status {
	case status.SchemaMissing:
		res, err := migrate.Upgrade(ctx, cfg.db, cfg.target.Dialect, schema.Config, migrate.Options{Logger: g.log, Operator: buildinfo.Operator()})
		if err != nil {
			return cfg.writeError("initialise config database "+cfg.location, err)
		}
		g.log.Info("config database created", "location", cfg.location, "version", res.To)
	case status.OK:
		g.log.Info("config database already initialised", "location", cfg.location, "version", cfg.state.DBVersion)
	default:
		return usagef("config database %s already exists: %s %s (use 'supervisor migrate' to upgrade it)",
			cfg.location, cfg.state.Status.Message(), cfg.state.Reason)
	}
	if *noDefault {
		return nil
	}
	path, err := filepath.Abs(filepath.Join(g.workspace, "Default.sqlite"))
	if err != nil {
		return err
	}
	p := registry.Product{Endpoint: "Default", DisplayName: "Default", Description: "Default product",
		Target: dbconn.Target{Dialect: dbconn.SQLite, Path: path}}
	switch err := cfg.registry().Add(ctx, p); {
	case errors.Is(err, registry.ErrExists):
	case err != nil:
		return cfg.writeError("add product Default", err)
	default:
		g.logs.Product("Default").Info("product added", "location", path)
	}
	return nil
}
