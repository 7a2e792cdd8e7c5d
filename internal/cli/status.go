package cli

import (
	"context"
	"runtime"
	"time"

	"github.com/spf13/pflag"

	"supervisor/internal/dbconn"
	"supervisor/internal/pass"
	"supervisor/internal/report"
	"supervisor/internal/status"
)

func runStatus(ctx context.Context, inv *invocation, args []string) error {
	fs := pflag.NewFlagSet("status", pflag.ContinueOnError)
	jobs := fs.IntP("jobs", "j", runtime.NumCPU(), "check `N` products at a time")
	var selected []string
	fs.StringArrayVar(&selected, "product", nil, "check product `ENDPOINT` only (repeatable; never widens to all)")
	asJSON := fs.Bool("json", false, "print the table as JSON")
	timeout := fs.Duration("connect-timeout", dbconn.DefaultConnectTimeout, "give up connecting to a PostgreSQL server after `DUR`")
	lockTimeout := fs.Duration("lock-timeout", 10*time.Second, "give up waiting for a SQLite product another process has locked after `DUR`")
	if err := inv.parse("status", "status [-j N] [--product E]... [--json] [--connect-timeout DUR] [--lock-timeout DUR]", fs, args); err != nil {
		return err
	}
	if *jobs < 1 {
		return usagef("status: -j must be at least 1")
	}
	if fs.NArg() != 0 {
		return usagef("status: unexpected arguments %v (to check one product: --product ENDPOINT)", fs.Args())
	}
	opts, err := inv.passOptions(selected, *jobs)
	if err != nil {
		return err
	}
	fleet, err := pass.Open(ctx, opts, pass.Setup{})
	if err != nil {
		return err
	}
	if cfg := fleet.Config; cfg.State.Status != status.OK {
		inv.log.Warn("config database schema mismatch! Possible to upgrade: run 'supervisor migrate'", "location", cfg.Location,
			"database_version", cfg.State.DBVersion, "package_version", cfg.State.PackageVersion)
	}
	states := fleet.Inspect(ctx, pass.Timeouts{Connect: *timeout, Lock: *lockTimeout})
	if *asJSON {
		if err := report.JSON(inv.env.Stdout, states); err != nil {
			return err
		}
	} else {
		report.Status(inv.env.Stdout, states)
	}
	for _, s := range states {
		if s.Status != status.OK {
			return errFailed
		}
	}
	return nil
}
