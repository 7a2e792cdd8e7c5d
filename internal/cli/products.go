package cli

import (
	"context"
	"path/filepath"

	"github.com/spf13/cobra"

	"supervisor/internal/command"
	"supervisor/internal/dbconn"
	"supervisor/internal/pass"
	"supervisor/internal/registry"
	"supervisor/internal/report"
)

func productsCmd(inv *invocation) *cobra.Command {
	cmd := command.New("products", "add, list or remove products", nil, nil, "supervisor products add web --sqlite /srv/codechecker/web.sqlite",
		"supervisor products list --json", "supervisor products remove web")
	cmd.RunE = command.Group
	cmd.Long = `products edits the registry of products in the config database:
  supervisor products add ENDPOINT (--sqlite PATH | --postgresql [--db-host H] [--db-port P]
      [--db-username U] [--db-name N] [--db-password-env VAR]) [--display-name S] [--description S]
  supervisor products list [--json]
  supervisor products remove ENDPOINT   (never deletes the database)`
	cmd.AddCommand(productsAddCmd(inv), productsListCmd(inv), productsRemoveCmd(inv))
	return cmd
}

type addFlags struct {
	sqlitePath, host, user, name, pwEnv, display, desc string
	pg                                                 bool
	port                                               int
}

func productsAddCmd(inv *invocation) *cobra.Command {
	var f addFlags
	cmd := command.New("add ENDPOINT", "register a product and where its database is", command.OneEndpoint,
		func(ctx context.Context, args []string) error { return productsAdd(ctx, inv, f, args[0]) },
		"supervisor products add web --sqlite /srv/codechecker/web.sqlite",
		"supervisor products add tenant1 --postgresql --db-host db.example.com --db-name cc_tenant1 --db-password-env TENANT1_PW")
	fs := cmd.Flags()
	fs.StringVar(&f.sqlitePath, "sqlite", "", "the product's SQLite database `FILE`")
	fs.BoolVar(&f.pg, "postgresql", false, "the product database is on a PostgreSQL server")
	fs.StringVar(&f.host, "db-host", "localhost", "PostgreSQL server `HOST`")
	fs.IntVar(&f.port, "db-port", dbconn.DefaultPort, "PostgreSQL server `PORT`")
	fs.StringVar(&f.user, "db-username", "codechecker", "PostgreSQL `USER`")
	fs.StringVar(&f.name, "db-name", "", "PostgreSQL database `NAME` (default: the endpoint)")
	fs.StringVar(&f.pwEnv, "db-password-env", "", "environment `VARIABLE` holding the PostgreSQL password (never stored; when it is unset: the URL's password, PGPASSWORD, ~/.pgpass)")
	fs.StringVar(&f.display, "display-name", "", "`NAME` shown in the web UI (default: the endpoint)")
	fs.StringVar(&f.desc, "description", "", "free-text `TEXT`")
	return cmd
}

func productsAdd(ctx context.Context, inv *invocation, f addFlags, endpoint string) error {
	if err := registry.ValidateEndpoint(endpoint); err != nil {
		return usagef("%v", err)
	}
	p := registry.Product{Endpoint: endpoint, DisplayName: f.display, Description: f.desc, PasswordEnv: f.pwEnv}
	switch {
	case f.sqlitePath != "" && f.pg:
		return usagef("products add: give either --sqlite PATH or --postgresql, not both")
	case f.sqlitePath != "":
		if f.pwEnv != "" {
			return usagef("products add: --db-password-env applies to --postgresql products only")
		}
		path, err := filepath.Abs(f.sqlitePath)
		if err != nil {
			return err
		}
		p.Target = dbconn.Target{Dialect: dbconn.SQLite, Path: path}
	case f.pg:
		if f.name == "" {
			f.name = endpoint
		}
		p.Target = dbconn.Target{Dialect: dbconn.Postgres, Host: f.host, Port: f.port, User: f.user, Database: f.name}
	default:
		return usagef("products add: say where the database is: --sqlite PATH or --postgresql --db-host ... (see --help)")
	}
	if p.DisplayName == "" {
		p.DisplayName = endpoint
	}
	opts, err := inv.passOptions(nil, nil, 1)
	if err != nil {
		return err
	}
	return pass.AddProduct(ctx, opts, p)
}

func productsListCmd(inv *invocation) *cobra.Command {
	var asJSON bool
	cmd := command.New("list", "list the registered products, by endpoint", command.NoArgs(""),
		func(ctx context.Context, _ []string) error { return productsList(ctx, inv, asJSON) },
		"supervisor products list", "supervisor -w /srv/codechecker products list --json")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func productsList(ctx context.Context, inv *invocation, asJSON bool) error {
	opts, err := inv.passOptions(nil, nil, 1)
	if err != nil {
		return err
	}
	fleet, err := pass.Open(ctx, opts, pass.Setup{})
	if err != nil {
		return err
	}
	return report.Products(inv.env.Stdout, fleet.Products, asJSON)
}

func productsRemoveCmd(inv *invocation) *cobra.Command {
	cmd := command.New("remove ENDPOINT", "remove a product from the registry; its database stays", command.OneEndpoint,
		func(ctx context.Context, args []string) error { return productsRemove(ctx, inv, args[0]) },
		"supervisor products remove web")
	cmd.ValidArgsFunction = func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) != 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return inv.completeEndpoints(c, args, toComplete)
	}
	return cmd
}

func productsRemove(ctx context.Context, inv *invocation, endpoint string) error {
	opts, err := inv.passOptions(nil, nil, 1)
	if err != nil {
		return err
	}
	return pass.RemoveProduct(ctx, opts, endpoint)
}
