package cli

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/spf13/cobra"

	"supervisor/internal/dbconn"
	"supervisor/internal/registry"
	"supervisor/internal/status"
)

func initCmd(inv *invocation) *cobra.Command {
	var noDefault bool
	cmd := newCommand("init", "create the workspace and its config database", noArgs(""),
		func(ctx context.Context, _ []string) error { return runInit(ctx, inv, noDefault) },
		"supervisor -w /srv/codechecker init", "supervisor init --no-default")
	cmd.Flags().BoolVar(&noDefault, "no-default", false, "do not register the product \"Default\" (SQLite <workspace>/Default.sqlite)")
	return cmd
}

func runInit(ctx context.Context, inv *invocation, noDefault bool) error {
	cfg, err := inv.openConfig(ctx, true)
	if err != nil {
		return err
	}
	defer cfg.Close()
	switch cfg.State.Status {
	case status.SchemaMissing:
		res, err := cfg.Upgrade(ctx, inv.log)
		if err != nil {
			return cfg.WriteError("initialise config database "+cfg.Location, err)
		}
		inv.log.Info("config database created", "location", cfg.Location, "version", res.To)
	case status.OK:
		inv.log.Info("config database already initialised", "location", cfg.Location, "version", cfg.State.DBVersion)
	default:
		return usagef("config database %s already exists: %s %s (use 'supervisor migrate' to upgrade it)",
			cfg.Location, cfg.State.Status.Message(), cfg.State.Reason)
	}
	if noDefault {
		return nil
	}
	path, err := filepath.Abs(filepath.Join(inv.workspace, "Default.sqlite"))
	if err != nil {
		return err
	}
	p := registry.Product{Endpoint: "Default", DisplayName: "Default", Description: "Default product",
		Target: dbconn.Target{Dialect: dbconn.SQLite, Path: path}}
	switch err := cfg.Registry().Add(ctx, p); {
	case errors.Is(err, registry.ErrExists):
	case err != nil:
		return cfg.WriteError("add product Default", err)
	default:
		inv.logs.Product("Default").Info("product added", "location", path)
	}
	return nil
}
