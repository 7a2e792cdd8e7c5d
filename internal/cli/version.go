package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"supervisor/internal/buildinfo"
	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/schema"
)

func versionCmd(inv *invocation) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "print the version and the packaged schema versions",
		Example: "  supervisor version",
		Args:    noArgs(""),
		RunE:    func(*cobra.Command, []string) error { return runVersion(inv) },
	}
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
