package cli

import (
	"context"

	"github.com/spf13/cobra"

	"supervisor/internal/command"
	"supervisor/internal/pass"
	"supervisor/internal/report"
)

func upCmd(inv *invocation) *cobra.Command {
	var (
		f           migrateFlags
		cf          cleanupFlags
		skipCleanup bool
	)
	cmd := command.New("up", "the server start-up sequence: migrate, then cleanup", command.NoArgs(""),
		func(ctx context.Context, _ []string) error { return runUp(ctx, inv, f, cf, skipCleanup) },
		"supervisor up -y", "supervisor up -y -j 8 --skip-cleanup")
	cmd.Long = `up is the server start-up sequence: config database check and upgrade, status,
questions, migrate, cleanup, summary. Exit 0 only when every product is up to date and cleaned.`
	fs := cmd.Flags()
	f.register(fs)
	cf.register(fs, inv.env)
	fs.BoolVar(&skipCleanup, "skip-cleanup", false, "only migrate, no garbage collection")
	return cmd
}

// runUp is the server start-up sequence of the seed in one command.
func runUp(ctx context.Context, inv *invocation, f migrateFlags, cf cleanupFlags, skipCleanup bool) error {
	if err := f.check(); err != nil {
		return err
	}
	if err := cf.check(inv); err != nil {
		return err
	}
	if f.pool.runID != "" {
		action, setup := "up", cf.setup()
		if skipCleanup {
			action, setup = "migrate", pass.Setup{}
		}
		setup.UpgradeConfig = true
		return runCoop(ctx, inv, action, f, setup, cf.apply)
	}
	opts, err := f.options(inv, pass.NewPrompter(inv.env.Stdin, f.pool.out.output(inv).Questions(), f.yes))
	if err != nil {
		return err
	}
	cf.apply(&opts)
	opts.CheckGarbage = !skipCleanup
	// One session with the config database, before any product work: the
	// expired login sessions go in it too, unless there is no cleanup.
	setup := pass.Setup{UpgradeConfig: true}
	if !skipCleanup {
		setup = cf.setup()
		setup.UpgradeConfig = true
	}
	fleet, err := pass.Open(ctx, opts, setup)
	if err != nil {
		return err
	}
	out := f.pool.out
	migrated := migrateProducts(ctx, inv, fleet, f.pool, true)
	run := report.Run{Command: "up", States: migrated.Before, Migrate: &migrated, ExitCode: stageExit(migrated.Stage)}
	if migrated.Interrupted != 0 || skipCleanup {
		return out.finish(inv, run)
	}
	cleaned := cleanupProducts(ctx, inv, fleet, f.pool, migrated.Current, migrated.Stopped)
	run.Cleanup = &cleaned
	if cleaned.Interrupted != 0 {
		run.ExitCode = cleaned.Interrupted
		return out.finish(inv, run)
	}
	if migrated.Failed || cleaned.Failed {
		run.ExitCode = ExitFailed
	}
	report.UpDone(out.output(inv).Text(), migrated.UpToDate(), len(fleet.Products), run.ExitCode != ExitOK)
	return out.finish(inv, run)
}
