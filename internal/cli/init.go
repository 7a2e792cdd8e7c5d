package cli

import (
	"context"
	"path/filepath"

	"github.com/spf13/cobra"

	"supervisor/internal/command"
	"supervisor/internal/pass"
)

func initCmd(inv *invocation) *cobra.Command {
	var noDefault bool
	cmd := command.New("init", "create the workspace and its config database", command.NoArgs(""),
		func(ctx context.Context, _ []string) error { return runInit(ctx, inv, noDefault) },
		"supervisor -w /srv/codechecker init", "supervisor init --no-default")
	cmd.Flags().BoolVar(&noDefault, "no-default", false, "do not register the product \"Default\" (SQLite <workspace>/Default.sqlite)")
	return cmd
}

func runInit(ctx context.Context, inv *invocation, noDefault bool) error {
	opts, err := inv.passOptions(nil, nil, 1)
	if err != nil {
		return err
	}
	defaultPath := ""
	if !noDefault {
		if defaultPath, err = filepath.Abs(filepath.Join(inv.workspace, "Default.sqlite")); err != nil {
			return err
		}
	}
	return pass.Init(ctx, opts, defaultPath)
}
