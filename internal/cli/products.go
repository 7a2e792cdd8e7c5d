package cli

import (
	"context"
	"runtime"

	"github.com/spf13/cobra"

	"supervisor/internal/command"
	"supervisor/internal/dbconn"
	"supervisor/internal/pass"
	"supervisor/internal/report"
)

func productsCmd(inv *invocation) *cobra.Command {
	cmd := command.New("products", "add, import, list or remove products", nil, nil, "supervisor products add web --sqlite /srv/codechecker/web.sqlite",
		"supervisor products list --json", "supervisor products remove web")
	cmd.RunE = command.Group
	cmd.Long = `products edits the registry of products in the config database:
  supervisor products add ENDPOINT (--sqlite PATH | --postgresql [--db-host H] [--db-port P]
      [--db-username U] [--db-name N] [--db-password-env VAR]) [--display-name S] [--description S] [--no-check]
  supervisor products import --from URL   (the products of another config database)
  supervisor products list [--status] [--json]
  supervisor products remove ENDPOINT   (never deletes the database)`
	cmd.AddCommand(productsAddCmd(inv), productsImportCmd(inv), productsListCmd(inv), productsRemoveCmd(inv))
	return cmd
}

func productsAddCmd(inv *invocation) *cobra.Command {
	var f pass.ProductSpec
	cmd := command.New("add ENDPOINT", "register a product and where its database is", command.OneEndpoint,
		func(ctx context.Context, args []string) error {
			opts, err := inv.passOptions(nil, nil, 1)
			if err != nil {
				return err
			}
			return pass.AddProduct(ctx, opts, args[0], f)
		},
		"supervisor products add web --sqlite /srv/codechecker/web.sqlite",
		"supervisor products add tenant1 --postgresql --db-host db.example.com --db-name cc_tenant1 --db-password-env TENANT1_PW")
	fs := cmd.Flags()
	fs.StringVar(&f.SQLite, "sqlite", "", "the product's SQLite database `FILE`")
	fs.BoolVar(&f.Postgres, "postgresql", false, "the product database is on a PostgreSQL server")
	fs.StringVar(&f.Host, "db-host", "localhost", "PostgreSQL server `HOST`")
	fs.IntVar(&f.Port, "db-port", dbconn.DefaultPort, "PostgreSQL server `PORT`")
	fs.StringVar(&f.User, "db-username", "codechecker", "PostgreSQL `USER`")
	fs.StringVar(&f.Database, "db-name", "", "PostgreSQL database `NAME` (default: the endpoint)")
	fs.StringVar(&f.PasswordEnv, "db-password-env", "", "environment `VARIABLE` holding the PostgreSQL password (never stored; when it is unset: the URL's password, PGPASSWORD, ~/.pgpass)")
	fs.StringVar(&f.DisplayName, "display-name", "", "`NAME` shown in the web UI (default: the endpoint)")
	fs.StringVar(&f.Description, "description", "", "free-text `TEXT`")
	fs.BoolVar(&f.NoCheck, "no-check", false, "register the product without reading its database first")
	return cmd
}

func productsImportCmd(inv *invocation) *cobra.Command {
	var from string
	cmd := command.New("import", "copy the products of another config database; endpoints taken already are skipped", command.NoArgs(" (say --from URL)"),
		func(ctx context.Context, _ []string) error {
			opts, err := inv.passOptions(nil, nil, 1)
			if err != nil {
				return err
			}
			return pass.ImportProducts(ctx, opts, from)
		}, "supervisor products import --from /srv/codechecker/workspace/config.sqlite")
	cmd.Flags().StringVar(&from, "from", "", "the config database `URL` to copy from: sqlite:PATH, a path ending in .sqlite, or postgres://user@host:port/db")
	return cmd
}

func productsListCmd(inv *invocation) *cobra.Command {
	var asJSON, withStatus bool
	jobs := runtime.NumCPU()
	cmd := command.New("list", "list the registered products, by endpoint", command.NoArgs(""),
		func(ctx context.Context, _ []string) error {
			opts, err := inv.passOptions(nil, nil, jobs)
			if err != nil {
				return err
			}
			products, states, err := pass.ListProducts(ctx, opts, withStatus)
			if err != nil {
				return err
			}
			return report.Products(inv.env.Stdout, products, states, asJSON)
		}, "supervisor products list", "supervisor -w /srv/codechecker products list --status --json")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&withStatus, "status", false, "add each product's database status (as 'status' reads it)")
	cmd.Flags().IntVarP(&jobs, "jobs", "j", jobs, "with --status: check `N` products at a time")
	return cmd
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
