package cli

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"supervisor/internal/status"
)

const upUsage = "up [-j N] [-y] [--product E]... [--skip-cleanup] [--checker-labels DIR] [--timeout DUR] [--backup-dir DIR]"

// runUp is the server start-up sequence of the seed in one command: config
// database check/upgrade, status table, questions, migrate, status table,
// cleanup, closing summary. Exit 0 only when every product is up to date and
// cleaned.
func runUp(ctx context.Context, g *globals, args []string) error {
	var (
		f           migrateFlags
		cf          cleanupFlags
		skipCleanup bool
	)
	fs := pflag.NewFlagSet("up", pflag.ContinueOnError)
	f.register(fs)
	cf.register(fs, g.env)
	fs.BoolVar(&skipCleanup, "skip-cleanup", false, "only migrate, no garbage collection")
	if err := g.parse("up", upUsage, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("up: unexpected arguments %v", fs.Args())
	}
	if err := f.check(); err != nil {
		return err
	}
	if err := cf.check(g); err != nil {
		return err
	}
	products, prompts, err := configThenProducts(ctx, g, f)
	if err != nil {
		return err
	}
	migrated := migrateProducts(ctx, g, f, prompts, products)
	if migrated.interrupted != 0 || skipCleanup {
		return migrated.err()
	}
	if err := cleanConfig(ctx, g, cf); err != nil {
		return err
	}
	states := checkProducts(ctx, g, products, f.pool.jobs, f.pool.connectTimeout)
	cleaned := cleanupProducts(ctx, g, f.pool, cf, products, states, migrated.stopped)
	if cleaned.interrupted != 0 {
		return cleaned.err()
	}
	ok := 0
	for _, st := range states {
		if st.Status == status.OK {
			ok++
		}
	}
	failed := migrated.failed || cleaned.failed
	verdict := "every product is up to date and cleaned"
	if failed {
		verdict = "some products need attention (see above)"
	}
	fmt.Fprintf(g.env.Stdout, "Start-up sequence done: %d of %d products up to date; %s.\n", ok, len(products), verdict)
	if failed {
		return errFailed
	}
	return nil
}
