package cli

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"supervisor/internal/pass"
	"supervisor/internal/report"
)

const upUsage = "up [-j N] [-y] [--product E]... [--skip-cleanup] [--checker-labels DIR] [--timeout DUR] [--backup-dir DIR]"

// runUp is the server start-up sequence of the seed in one command: config
// database check/upgrade, status table, questions, migrate, status table,
// cleanup, closing summary. Exit 0 only when every product is up to date and
// cleaned.
func runUp(ctx context.Context, inv *invocation, args []string) error {
	var (
		f           migrateFlags
		cf          cleanupFlags
		skipCleanup bool
	)
	fs := pflag.NewFlagSet("up", pflag.ContinueOnError)
	f.register(fs)
	cf.register(fs, inv.env)
	fs.BoolVar(&skipCleanup, "skip-cleanup", false, "only migrate, no garbage collection")
	if err := inv.parse("up", upUsage, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("up: unexpected arguments %v", fs.Args())
	}
	if err := f.check(); err != nil {
		return err
	}
	if err := cf.check(inv); err != nil {
		return err
	}
	opts, err := f.options(inv, newPrompter(inv.env.Stdin, f.pool.out.questions(inv), f.yes))
	if err != nil {
		return err
	}
	cf.apply(&opts)
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
		return out.finishWith(inv, run)
	}
	cleaned := cleanupProducts(ctx, inv, fleet, f.pool, migrated.Current, migrated.Stopped)
	run.Cleanup = &cleaned
	if cleaned.Interrupted != 0 {
		run.ExitCode = cleaned.Interrupted
		return out.finishWith(inv, run)
	}
	failed := migrated.Failed || cleaned.Failed
	verdict := "every product is up to date and cleaned"
	if failed {
		verdict = "some products need attention (see above)"
		run.ExitCode = ExitFailed
	}
	fmt.Fprintf(out.text(inv), "Start-up sequence done: %d of %d products up to date; %s.\n", migrated.UpToDate(), len(fleet.Products), verdict)
	return out.finishWith(inv, run)
}
