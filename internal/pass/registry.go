package pass

import (
	"context"
	"errors"
	"strings"

	"supervisor/internal/dbconn"
	"supervisor/internal/logging"
	"supervisor/internal/registry"
	"supervisor/internal/status"
)

// Init creates the config database opts.Config (its directory too, for
// SQLite) with the packaged schema, or finds it made already, and
// registers the product "Default" at the SQLite file defaultPath unless
// that is "". A config database of another state is bad usage: init never
// upgrades (migrate does).
func Init(ctx context.Context, opts Options, defaultPath string) error {
	logs := opts.logs()
	cfg, err := OpenConfig(ctx, opts.Config, opts.BaseDir, true, opts.Getenv, logs)
	if err != nil {
		return err
	}
	defer cfg.Close()
	log := logs.Logger()
	switch cfg.State.Status {
	case status.SchemaMissing:
		res, err := cfg.Upgrade(ctx, log)
		if err != nil {
			return cfg.WriteError("initialise config database "+cfg.Location, err)
		}
		log.Info("config database created", "location", cfg.Location, "version", res.To)
	case status.OK:
		log.Info("config database already initialised", "location", cfg.Location, "version", cfg.State.DBVersion)
	default:
		return usagef("config database %s already exists: %s %s (use 'supervisor migrate' to upgrade it)",
			cfg.Location, cfg.State.Status.Message(), cfg.State.Reason)
	}
	// A PostgreSQL config database can hold cooperative runs (--run-id):
	// River's tables, in a schema of their own, are made now.
	if opts.Config.Dialect == dbconn.Postgres {
		if err := InstallRiver(ctx, opts); err != nil {
			return err
		}
	}
	if defaultPath == "" {
		return nil
	}
	p := registry.Product{Endpoint: "Default", DisplayName: "Default", Description: "Default product",
		Target: sqliteTarget(defaultPath)}
	switch err := cfg.Registry().Add(ctx, p); {
	case errors.Is(err, registry.ErrExists):
	case err != nil:
		return cfg.WriteError("add product Default", err)
	default:
		logs.Product("Default").Info("product added", "location", defaultPath)
	}
	return nil
}

// RemoveProduct removes the product endpoint from the registry; its
// database is not touched.
func RemoveProduct(ctx context.Context, opts Options, endpoint string) error {
	return editRegistry(ctx, opts, "products remove", func(r *registry.Registry) error { return r.Remove(ctx, endpoint) },
		func() {
			opts.logs().Product(endpoint).Info("product removed from the registry; its database was not touched")
		})
}

// editRegistry runs edit on the registry of the config database, in one
// session, and done once it succeeded.
func editRegistry(ctx context.Context, opts Options, what string, edit func(*registry.Registry) error, done func()) error {
	cfg, err := OpenConfig(ctx, opts.Config, opts.BaseDir, false, opts.Getenv, opts.logs())
	if err != nil {
		return err
	}
	defer cfg.Close()
	if err := edit(cfg.Registry()); err != nil {
		return registryError(cfg, what, err)
	}
	done()
	return nil
}

// registryError is err, from an edit of cfg's registry, with what was being
// done: what the registry refused is bad usage, and so is a config
// database that cannot be written (ConfigDB.WriteError).
func registryError(cfg *ConfigDB, what string, err error) error {
	if registry.IsInputError(err) {
		return usagef("%s: %v", what, err)
	}
	return cfg.WriteError(what, err)
}

// logs are the Logs of the options, or none.
func (o Options) logs() *logging.Logs {
	if o.Logs == nil {
		return logging.Discard()
	}
	return o.Logs
}

func sqliteTarget(path string) dbconn.Target {
	return dbconn.Target{Dialect: dbconn.SQLite, Path: path}
}

// Endpoints are the registered products whose endpoint starts with prefix,
// read as status reads them; any error gives none (shell completion).
func Endpoints(ctx context.Context, opts Options, prefix string) []registry.Product {
	fleet, err := Open(ctx, opts, Setup{})
	if err != nil {
		return nil
	}
	var out []registry.Product
	for _, p := range fleet.Products {
		if strings.HasPrefix(p.Endpoint, prefix) {
			out = append(out, p)
		}
	}
	return out
}
