package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/spf13/pflag"

	"supervisor/internal/dbconn"
	"supervisor/internal/pass"
	"supervisor/internal/registry"
	"supervisor/internal/report"
)

const productsUsage = `products add ENDPOINT (--sqlite PATH | --postgresql --db-host H --db-port P --db-username U --db-name N [--db-password-env VAR]) [--display-name S] [--description S]
  supervisor products list [--json]
  supervisor products remove ENDPOINT`

func runProducts(ctx context.Context, inv *invocation, args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(inv.env.Stderr, "Usage:\n  supervisor %s\n", productsUsage)
		return usagef("products: say add, list or remove")
	}
	if args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(inv.env.Stdout, "Usage:\n  supervisor %s\n", productsUsage)
		return nil
	}
	switch args[0] {
	case "add":
		return productsAdd(ctx, inv, args[1:])
	case "list":
		return productsList(ctx, inv, args[1:])
	case "remove":
		return productsRemove(ctx, inv, args[1:])
	}
	return usagef("products: unknown subcommand %q (want add, list or remove)", args[0])
}

func productsAdd(ctx context.Context, inv *invocation, args []string) error {
	fs := pflag.NewFlagSet("products add", pflag.ContinueOnError)
	sqlitePath := fs.String("sqlite", "", "the product's SQLite database `FILE`")
	pg := fs.Bool("postgresql", false, "the product database is on a PostgreSQL server")
	host := fs.String("db-host", "localhost", "PostgreSQL server `HOST`")
	port := fs.Int("db-port", dbconn.DefaultPort, "PostgreSQL server `PORT`")
	user := fs.String("db-username", "codechecker", "PostgreSQL `USER`")
	name := fs.String("db-name", "", "PostgreSQL database `NAME` (default: the endpoint)")
	pwEnv := fs.String("db-password-env", "", "environment `VARIABLE` holding the PostgreSQL password (never stored; when it is unset: the URL's password, PGPASSWORD, ~/.pgpass)")
	display := fs.String("display-name", "", "`NAME` shown in the web UI (default: the endpoint)")
	desc := fs.String("description", "", "free-text `TEXT`")
	if err := inv.parse("products add", productsUsage, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("products add: want exactly one ENDPOINT, got %d arguments", fs.NArg())
	}
	endpoint := fs.Arg(0)
	if err := registry.ValidateEndpoint(endpoint); err != nil {
		return usagef("%v", err)
	}
	p := registry.Product{Endpoint: endpoint, DisplayName: *display, Description: *desc, PasswordEnv: *pwEnv}
	switch {
	case *sqlitePath != "" && *pg:
		return usagef("products add: give either --sqlite PATH or --postgresql, not both")
	case *sqlitePath != "":
		if *pwEnv != "" {
			return usagef("products add: --db-password-env applies to --postgresql products only")
		}
		path, err := filepath.Abs(*sqlitePath)
		if err != nil {
			return err
		}
		p.Target = dbconn.Target{Dialect: dbconn.SQLite, Path: path}
	case *pg:
		if *name == "" {
			*name = endpoint
		}
		p.Target = dbconn.Target{Dialect: dbconn.Postgres, Host: *host, Port: *port, User: *user, Database: *name}
	default:
		return usagef("products add: say where the database is: --sqlite PATH or --postgresql --db-host ... (see --help)")
	}
	if p.DisplayName == "" {
		p.DisplayName = endpoint
	}
	cfg, err := inv.openConfig(ctx, false)
	if err != nil {
		return err
	}
	defer cfg.Close()
	if err := cfg.Registry().Add(ctx, p); err != nil {
		if registry.IsInputError(err) {
			return usagef("products add: %v", err)
		}
		return cfg.WriteError("products add", err)
	}
	inv.logs.Product(endpoint).Info("product added", "location", registry.Location(p.Target))
	return nil
}

func productsList(ctx context.Context, inv *invocation, args []string) error {
	fs := pflag.NewFlagSet("products list", pflag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := inv.parse("products list", productsUsage, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("products list: unexpected arguments %v", fs.Args())
	}
	opts, err := inv.passOptions(nil, 1)
	if err != nil {
		return err
	}
	fleet, err := pass.Open(ctx, opts, pass.Setup{})
	if err != nil {
		return err
	}
	return report.Products(inv.env.Stdout, fleet.Products, *asJSON)
}

func productsRemove(ctx context.Context, inv *invocation, args []string) error {
	fs := pflag.NewFlagSet("products remove", pflag.ContinueOnError)
	if err := inv.parse("products remove", productsUsage, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("products remove: want exactly one ENDPOINT, got %d arguments", fs.NArg())
	}
	cfg, err := inv.openConfig(ctx, false)
	if err != nil {
		return err
	}
	defer cfg.Close()
	if err := cfg.Registry().Remove(ctx, fs.Arg(0)); err != nil {
		if registry.IsInputError(err) {
			return usagef("products remove: %v", err)
		}
		return cfg.WriteError("products remove", err)
	}
	inv.logs.Product(fs.Arg(0)).Info("product removed from the registry; its database was not touched")
	return nil
}
