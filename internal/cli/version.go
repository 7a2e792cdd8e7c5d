package cli

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"supervisor/internal/buildinfo"
	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/schema"
)

func runVersion(ctx context.Context, inv *invocation, args []string) error {
	fs := pflag.NewFlagSet("version", pflag.ContinueOnError)
	if err := inv.parse("version", "version", fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("version: unexpected arguments %v", fs.Args())
	}
	fmt.Fprintf(inv.env.Stdout, "supervisor %s\n", buildinfo.Version)
	for _, kind := range []schema.Kind{schema.Config, schema.Product} {
		for _, d := range dbconn.Dialects {
			v, err := migrate.LatestVersion(kind, d)
			if err != nil {
				return err
			}
			fmt.Fprintf(inv.env.Stdout, "%s schema (%s): %s (CodeChecker %s = 001)\n", kind, d, v, kind.CodeCheckerHead())
		}
	}
	return nil
}
