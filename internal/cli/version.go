package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"supervisor/internal/buildinfo"
	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/schema"
)

func versionCmd(inv *invocation) *cobra.Command {
	return newCommand("version", "print the version and the packaged schema versions", noArgs(""),
		func(context.Context, []string) error { return runVersion(inv) }, "supervisor version")
}

func runVersion(inv *invocation) error {
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
