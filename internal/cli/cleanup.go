package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"supervisor/internal/command"
	"supervisor/internal/labels"
	"supervisor/internal/pass"
	"supervisor/internal/report"
)

type cleanupFlags struct {
	checkerLabels string
	// labelsFoundVia says how check found checkerLabels when no flag or
	// variable named it ("" when one did).
	labelsFoundVia  string
	sessionLifetime time.Duration
	// lifetime is the session lifetime in force and lifetimeFrom where it
	// came from, both set by check.
	lifetime     time.Duration
	lifetimeFrom string
	dryRun       bool // cleanup --dry-run (not up's)
}

func (c *cleanupFlags) register(fs *pflag.FlagSet, env Env) {
	fs.StringVar(&c.checkerLabels, "checker-labels", env.Getenv("SUPERVISOR_CHECKER_LABELS"),
		"CodeChecker checker label `DIR` (analyzers/*.json) for the severity upgrade (env SUPERVISOR_CHECKER_LABELS; default: $CC_DATA_FILES_DIR/config/labels, else the labels of the CodeChecker on PATH); without one that step is skipped")
	fs.DurationVar(&c.sessionLifetime, "session-lifetime", 0,
		"remove config-database login sessions unused for `DUR` (default: session_lifetime of <workspace>/server_config.json, else 5m as in CodeChecker)")
}

// check finds the label directory of a CodeChecker installation when none
// was named, and validates it and the session lifetime up front: a typo must
// not surface as one failure per product, nor after the first write.
func (c *cleanupFlags) check(inv *invocation) error {
	_, base, err := inv.configLocation()
	if err != nil {
		return err
	}
	if c.lifetime, c.lifetimeFrom, err = pass.SessionLifetime(c.sessionLifetime, base); err != nil {
		return usagef("%v", err)
	}
	f, err := labels.Resolve(c.checkerLabels, inv.env.Getenv)
	if err != nil {
		return usagef("--checker-labels: %v", err)
	}
	c.checkerLabels, c.labelsFoundVia = f.Dir, f.Via
	return nil
}

func cleanupCmd(inv *invocation) *cobra.Command {
	var (
		pool poolFlags
		cf   cleanupFlags
	)
	cmd := command.New("cleanup", "garbage-collect product databases", command.NoArgs(""),
		func(ctx context.Context, _ []string) error { return runCleanup(ctx, inv, pool, cf) },
		"supervisor cleanup --dry-run", "supervisor cleanup -j 4 --product Default --checker-labels /opt/codechecker/config/labels")
	cmd.Long = `cleanup garbage-collects every selected product that is up to date, one worker
process per product, and removes the config database's expired login sessions.`
	fs := cmd.Flags()
	pool.register(fs)
	cf.register(fs, inv.env)
	fs.BoolVar(&cf.dryRun, "dry-run", false, "count per product and routine what would be removed; write nothing")
	return cmd
}

func runCleanup(ctx context.Context, inv *invocation, pool poolFlags, cf cleanupFlags) error {
	if err := pool.check(); err != nil {
		return err
	}
	if err := cf.check(inv); err != nil {
		return err
	}
	if pool.runID != "" { // cleanup asks nothing: no -y to give
		return runCoop(ctx, inv, "cleanup", migrateFlags{pool: pool, yes: true}, cf.setup(), cf.apply)
	}
	opts, err := pool.options(inv)
	if err != nil {
		return err
	}
	cf.apply(&opts)
	// Every input is checked (the selection too) before the first write:
	// exit 2 promises that nothing was touched.
	fleet, err := pass.Open(ctx, opts, cf.setup())
	if err != nil {
		return err
	}
	states := fleet.Inspect(ctx, pool.inspectTimeouts())
	rep := cleanupProducts(ctx, inv, fleet, pool, states, false)
	return pool.out.finish(inv, report.Run{Command: "cleanup", States: states, Cleanup: &rep, ExitCode: stageExit(rep.Stage)})
}

// apply sets the cleanup options of a pass.
func (c *cleanupFlags) apply(o *pass.Options) {
	o.CheckerLabels, o.LabelsFoundVia, o.DryRun, o.CheckGarbage = c.checkerLabels, c.labelsFoundVia, c.dryRun, true
}

// setup is the config database work of a pass that cleans up.
func (c *cleanupFlags) setup() pass.Setup {
	return pass.Setup{SessionLifetime: c.lifetime, LifetimeFrom: c.lifetimeFrom}
}

// cleanupProducts garbage-collects every product whose database is up to
// date and prints what was removed (on stdout, unless --json); stopped says
// that --fail-fast already saw a product fail (in up's migrate stage).
func cleanupProducts(ctx context.Context, inv *invocation, fleet *pass.Fleet, pool poolFlags, states []pass.State, stopped bool) pass.CleanupReport {
	rep := fleet.Cleanup(ctx, states, stopped)
	report.CleanupSummary(pool.out.output(inv).Text(), rep)
	return rep
}
