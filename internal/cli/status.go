package cli

import (
	"context"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"supervisor/internal/command"
	"supervisor/internal/dbconn"
	"supervisor/internal/pass"
	"supervisor/internal/report"
	"supervisor/internal/status"
)

type statusFlags struct {
	jobs                 int
	selected, excluded   []string
	shard                pass.Shard
	asJSON, drift        bool
	timeout, lockTimeout time.Duration
	runID                string
}

func statusCmd(inv *invocation) *cobra.Command {
	var f statusFlags
	cmd := command.New("status", "show where every product database stands", command.NoArgs(" (to check one product: --product ENDPOINT)"),
		func(ctx context.Context, _ []string) error { return runStatus(ctx, inv, f) },
		"supervisor status", "supervisor status --product Default --json", "supervisor -w /srv/codechecker status -j 8")
	cmd.Long = "status reads every selected product database, changes none, and prints one row per\n" +
		"product by endpoint. Exit 0 when every one is ok, else 1.\n\nDatabase status words:\n" + status.Glossary()
	fs := cmd.Flags()
	fs.IntVarP(&f.jobs, "jobs", "j", runtime.NumCPU(), "check `N` products at a time")
	fs.StringArrayVar(&f.selected, "product", nil, "check the products matching `GLOB` only (an endpoint, or *, ?, [a-z]; repeatable; never widens to all)")
	fs.StringArrayVar(&f.excluded, "exclude", nil, "leave out the products matching `GLOB` (repeatable; wins over --product)")
	fs.Var(&f.shard, "shard", pass.ShardUsage)
	fs.BoolVar(&f.asJSON, "json", false, "print the table as JSON")
	fs.StringVar(&f.runID, "run-id", "", "show the cooperative run `ID` across its hosts instead: pending, running (by host), done, failed")
	fs.BoolVar(&f.drift, "drift", false, "also compare each schema with the packaged one at its version (status drift)")
	fs.DurationVar(&f.timeout, "connect-timeout", dbconn.DefaultConnectTimeout, "give up connecting to a PostgreSQL server after `DUR`")
	fs.DurationVar(&f.lockTimeout, "lock-timeout", 10*time.Second, "give up waiting for a SQLite product another process has locked after `DUR`")
	return cmd
}

func runStatus(ctx context.Context, inv *invocation, f statusFlags) error {
	if f.jobs < 1 {
		return usagef("status: -j must be at least 1")
	}
	opts, err := inv.passOptions(f.selected, f.excluded, f.jobs)
	if err != nil {
		return err
	}
	opts.Drift, opts.Shard = f.drift, f.shard
	if f.runID != "" {
		p, err := pass.RunProgress(ctx, opts, f.runID)
		if err != nil {
			return err
		} else if err := report.RunStatus(inv.env.Stdout, p, f.asJSON); err != nil || p.Complete() {
			return err
		}
		return errFailed
	}
	fleet, err := pass.Open(ctx, opts, pass.Setup{AdviseUpgrade: true})
	if err != nil {
		return err
	}
	states := fleet.Inspect(ctx, pass.Timeouts{Connect: f.timeout, Lock: f.lockTimeout})
	if f.asJSON {
		if err := report.JSON(inv.env.Stdout, states); err != nil {
			return err
		}
	} else {
		report.Status(inv.env.Stdout, states)
	}
	if !pass.AllUpToDate(states) {
		return errFailed
	}
	return nil
}

// historyCmd lists the files each product's revisions record (pass.ShowHistory).
func historyCmd(inv *invocation) *cobra.Command {
	var f statusFlags
	cmd := command.New("history", "list the migration files recorded in each product database", command.NoArgs(""),
		func(ctx context.Context, _ []string) error {
			opts, err := inv.passOptions(f.selected, nil, 4)
			if err != nil {
				return err
			}
			return pass.ShowHistory(ctx, opts, func(hs []pass.History) error { return report.History(inv.env.Stdout, hs, f.asJSON) })
		}, "supervisor history", "supervisor history --product Default --json")
	cmd.Flags().StringArrayVar(&f.selected, "product", nil, "show the products matching `GLOB` only (repeatable)")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print the history as JSON")
	return cmd
}
