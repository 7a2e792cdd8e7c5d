package cli

import (
	"context"

	"github.com/spf13/cobra"

	"supervisor/internal/command"
	"supervisor/internal/report"
)

func versionCmd(inv *invocation) *cobra.Command {
	return command.New("version", "print the version and the packaged schema versions", command.NoArgs(""),
		func(context.Context, []string) error { return runVersion(inv) }, "supervisor version")
}

func runVersion(inv *invocation) error { return report.Version(inv.env.Stdout) }
