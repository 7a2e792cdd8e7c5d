package cli

import (
	"context"
	"runtime"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"supervisor/internal/command"
	"supervisor/internal/dbconn"
	"supervisor/internal/pass"
	"supervisor/internal/report"
)

// poolFlags are the options of every command that runs workers.
type poolFlags struct {
	jobs               int
	selected, excluded []string
	shard              pass.Shard
	timeout            time.Duration
	failFast           bool
	lockTimeout        time.Duration
	connectTimeout     time.Duration
	noProgress         bool
	runID              string // --run-id: join a cooperative run
	// out says where the result goes (--json, --report).
	out resultFlags
}

func (p *poolFlags) register(fs *pflag.FlagSet) {
	fs.IntVarP(&p.jobs, "jobs", "j", runtime.NumCPU(), "run `N` worker processes at a time")
	fs.StringArrayVar(&p.selected, "product", nil, "work on the products matching `GLOB` only (an endpoint, or *, ?, [a-z]; repeatable; never widens to all)")
	fs.StringArrayVar(&p.excluded, "exclude", nil, "leave out the products matching `GLOB` (repeatable; wins over --product)")
	fs.Var(&p.shard, "shard", pass.ShardUsage)
	fs.DurationVar(&p.timeout, "timeout", 0, "stop a worker that runs longer than `DUR` (SIGTERM, then SIGKILL); 0 = no limit")
	fs.BoolVar(&p.failFast, "fail-fast", false, "after the first failure start no new product; running ones finish")
	fs.DurationVar(&p.lockTimeout, "lock-timeout", dbconn.DefaultLockTimeout, "give up waiting for a product's lock after `DUR`")
	fs.DurationVar(&p.connectTimeout, "connect-timeout", dbconn.DefaultConnectTimeout, "give up connecting to a PostgreSQL server after `DUR`")
	fs.BoolVar(&p.noProgress, "no-progress", false, "no live progress display on a terminal: plain log lines only")
	fs.StringVar(&p.runID, "run-id", "", "join the cooperative run `ID` of several hosts (PostgreSQL config database; README: Running a fleet from several hosts)")
	p.out.register(fs)
}

// check validates what pass.Open does not see (pass.CheckWorkers: -j and
// the timeouts).
func (p *poolFlags) check() error { return p.out.check() }

// check validates the options of migrate and up before anything is read or
// written (pass.BackupDir).
func (f *migrateFlags) check() (err error) {
	if err = f.pool.check(); err != nil {
		return err
	}
	f.backupDir, err = pass.BackupDir(f.backupDir)
	return err
}

type migrateFlags struct {
	pool                poolFlags
	yes                 bool
	dryRun              bool
	sql                 bool
	backupDir, baseline string
	rollout             pass.Rollout
}

func migrateCmd(inv *invocation) *cobra.Command {
	var f migrateFlags
	cmd := command.New("migrate", "upgrade product databases to the packaged schema", command.NoArgs(""),
		func(ctx context.Context, _ []string) error { return runMigrate(ctx, inv, f) },
		"supervisor migrate --dry-run", "supervisor migrate -y -j 4 --backup-dir /var/backups/codechecker",
		"supervisor migrate --product Default --sql", "supervisor migrate -y --canary Default --max-failures 2", "supervisor migrate -y --to 001 --stages stages.json")
	cmd.Long = `migrate asks before each product it would upgrade or initialise (every question
first, in endpoint order), then runs one worker process per product, N at a time.`
	fs := cmd.Flags()
	f.register(fs)
	fs.BoolVar(&f.dryRun, "dry-run", false, "list the pending files per product; touch nothing, ask nothing")
	fs.BoolVar(&f.sql, "sql", false, "print the SQL of the pending files per product; touch nothing")
	fs.StringVar(&f.baseline, "baseline", "", "record the revisions up to `VERSION` without executing them, for a product whose schema is that version's (checked)")
	fs.StringVar(&f.rollout.ToVersion, "to", "", "stop at the packaged `VERSION` (a product at or past it is left alone)")
	fs.StringSliceVar(&f.rollout.Canary, "canary", nil, "migrate the products `E1,E2` first; the rest only if each of them is ok")
	fs.IntVar(&f.rollout.CanaryCount, "canary-count", 0, "migrate the first `K` products to upgrade first; the rest only if each of them is ok")
	fs.Var(f.rollout.MaxFailures(), "max-failures", "start no new product after more than N failures (0: the first; default: no limit)")
	fs.StringVar(&f.rollout.StagesFile, "stages", "", "roll out in the stages of the JSON `FILE` (README: Partial targets and staged rollouts)")
	return cmd
}

func runMigrate(ctx context.Context, inv *invocation, f migrateFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	if f.pool.runID != "" {
		return runCoop(ctx, inv, "migrate", f, pass.Setup{UpgradeConfig: true}, nil, flagIf(f.dryRun, "--dry-run"), flagIf(f.sql, "--sql"), flagIf(f.baseline != "", "--baseline"))
	}
	if f.dryRun || f.sql {
		if f.pool.out.json || f.pool.out.report != "" || f.baseline != "" {
			return usagef("migrate: --json, --report and --baseline are for a run, not for --dry-run or --sql")
		}
		return migrateOffline(ctx, inv, f)
	}
	opts, err := f.options(inv, pass.NewPrompter(inv.env.Stdin, f.pool.out.output(inv).Questions(), f.yes))
	if err != nil {
		return err
	}
	fleet, err := pass.Open(ctx, opts, pass.Setup{UpgradeConfig: true})
	if err != nil {
		return err
	}
	rep := migrateProducts(ctx, inv, fleet, f.pool, false)
	return f.pool.out.finish(inv, report.Run{Command: "migrate", States: rep.Before, Migrate: &rep, ExitCode: stageExit(rep.Stage)})
}

// runCoop joins the cooperative run --run-id as one of its hosts
// (pass.Cooperate) and prints the run's summary; apply adds a command's
// options, refused names options a cooperative run does not take.
func runCoop(ctx context.Context, inv *invocation, action string, f migrateFlags, setup pass.Setup, apply func(*pass.Options), refused ...string) error {
	f.pool.noProgress = true // a host's log is of the run's products, no bars
	opts, err := f.options(inv, pass.NewPrompter(inv.env.Stdin, inv.env.Stderr, f.yes))
	if apply != nil {
		apply(&opts)
	}
	if err != nil {
		return err
	} else if err := opts.CheckRun(f.pool.runID, f.yes, refused...); err != nil {
		return err
	}
	run, err := pass.JoinRun(ctx, opts, f.pool.runID, action)
	if err != nil {
		return err
	}
	defer run.Close()
	fleet, err := pass.Open(ctx, opts, setup)
	if err != nil {
		return err
	}
	rep, err := fleet.Cooperate(ctx, run)
	if err != nil {
		return err
	}
	report.RunSummary(f.pool.out.output(inv).Text(), rep.Host, rep.Progress)
	return f.pool.out.finish(inv, report.Run{Command: action, Coop: &rep, ExitCode: rep.ExitCode})
}

// flagIf is name when set, else "".
func flagIf(set bool, name string) string {
	if set {
		return name
	}
	return ""
}

// register adds the options migrate and up share.
func (f *migrateFlags) register(fs *pflag.FlagSet) {
	f.pool.register(fs)
	fs.BoolVarP(&f.yes, "yes", "y", false, "answer yes to every question")
	fs.StringVar(&f.backupDir, "backup-dir", "", "copy each SQLite product into `DIR` (VACUUM INTO) before its first pending file")
}

// options are the pass options of migrate and up.
func (f *migrateFlags) options(inv *invocation, prompts *pass.Prompter) (pass.Options, error) {
	o, err := f.pool.options(inv)
	o.BackupDir, o.Ask, o.Baseline, o.Rollout = f.backupDir, prompts.Ask, f.baseline, f.rollout
	return o, err
}

// options are the pass options of a command that runs workers, the live
// progress display included.
func (p *poolFlags) options(inv *invocation) (pass.Options, error) {
	o, err := inv.passOptions(p.selected, p.excluded, p.jobs)
	if err != nil {
		return o, err
	}
	o.Timeout, o.LockTimeout, o.ConnectTimeout, o.FailFast, o.Shard = p.timeout, p.lockTimeout, p.connectTimeout, p.failFast, p.shard
	if err := o.CheckWorkers(); err != nil {
		return o, err
	}
	inv.useProgress(&o, p.noProgress)
	return o, nil
}

// inspectTimeouts bound the supervisor's own reading of a product: as long
// for a lock as for a connection.
func (p *poolFlags) inspectTimeouts() pass.Timeouts {
	return pass.Timeouts{Connect: p.connectTimeout, Lock: p.connectTimeout}
}

// migrateProducts is the product half of migrate (and of up): status table,
// questions, workers, status table again, summary (on stdout, unless
// --json). In up (once), a status table after the work that reads as the
// one before it is not printed again.
func migrateProducts(ctx context.Context, inv *invocation, fleet *pass.Fleet, pool poolFlags, once bool) pass.MigrateReport {
	w := pool.out.output(inv).Text()
	before := fleet.Inspect(ctx, pool.inspectTimeouts())
	report.Status(w, before)
	rep := fleet.Migrate(ctx, before)
	report.StatusAfter(w, before, rep.After, once)
	report.MigrateSummary(w, rep.Rows)
	return rep
}

// migrateOffline answers --dry-run and --sql: per product, what would run.
// Nothing is touched and nothing is asked.
func migrateOffline(ctx context.Context, inv *invocation, f migrateFlags) error {
	opts, err := f.pool.options(inv)
	if err != nil {
		return err
	}
	fleet, err := pass.Open(ctx, opts, pass.Setup{})
	if err != nil {
		return err
	}
	plans, failed, err := fleet.Plans(fleet.Inspect(ctx, f.pool.inspectTimeouts()), f.sql)
	if err != nil {
		return err
	}
	report.Plans(inv.env.Stdout, plans, f.sql)
	if failed {
		return errFailed
	}
	return nil
}
