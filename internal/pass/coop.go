package pass

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"supervisor/internal/coop"
	"supervisor/internal/dbconn"
	"supervisor/internal/registry"
	"supervisor/internal/supervise"
)

// RunReport is what a host of a cooperative run (--run-id) saw: the run as
// the config database has it when the host ended, and the host's name in it.
type RunReport struct {
	// Host is this host's name (hostname/pid), as the run's jobs name it.
	Host string
	coop.Progress
	// ExitCode is the host's: 0 every product of the run ok, 1 one
	// failed, 130/143 this host was interrupted (its running products went
	// back to the run).
	ExitCode int
}

// runIDForm is what a run id may be: it names the run in the config
// database and in logs.
var runIDForm = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$`)

// CheckRun refuses, as bad usage and before anything is touched, a
// cooperative run that cannot be one: the run id's form, a config database
// that is not PostgreSQL (the hosts share the run there), no -y (no host
// asks), and the options of a run of one host (refused: the names of the
// other options the command line set).
func (o Options) CheckRun(runID string, yes bool, refused ...string) error {
	if !runIDForm.MatchString(runID) {
		return usagef("--run-id %q: use up to 100 letters, digits and ._:- (starting with a letter or digit)", runID)
	}
	if o.Config.Dialect != dbconn.Postgres {
		return usagef("--run-id needs a PostgreSQL config database (--config-db postgres://...): the hosts of a run share it")
	}
	if !yes {
		return usagef("--run-id needs -y: a cooperative run asks no questions (its hosts run unattended)")
	}
	r := o.Rollout
	refused = slices.DeleteFunc(refused, func(s string) bool { return s == "" })
	for _, c := range []struct {
		set  bool
		name string
	}{{o.FailFast, "--fail-fast"}, {r.StopAfter > 0, "--max-failures"}, {len(r.Canary) > 0, "--canary"},
		{r.CanaryCount > 0, "--canary-count"}, {r.StagesFile != "", "--stages"}, {r.ToVersion != "", "--to"},
		{o.DryRun, "--dry-run"}} {
		if c.set {
			refused = append(refused, c.name)
		}
	}
	if len(refused) > 0 {
		return usagef("--run-id does not go with %s: a cooperative run upgrades and cleans every product of the run, once, in endpoint order", refused[0])
	}
	return nil
}

// InstallRiver installs or upgrades River's tables in the PostgreSQL
// config database (init; every cooperative run does it on first use too).
func InstallRiver(ctx context.Context, opts Options) error {
	db, err := openRiver(ctx, opts, true)
	if err != nil {
		return err
	}
	db.Close()
	return nil
}

// openRiver connects to the config database for River, its password
// resolved as for every session with it; install installs or upgrades
// River's tables.
func openRiver(ctx context.Context, opts Options, install bool) (*coop.DB, error) {
	f := newFleet(opts)
	t := opts.Config
	pw, err := Password(registry.Product{Endpoint: "config database", Target: t}, f.opts.Getenv, f.opts.Logs)
	if err != nil {
		return nil, usagef("%v", err)
	}
	t.Password = pw.Value
	db, err := coop.Open(ctx, t, f.log, install)
	if err != nil {
		return nil, fmt.Errorf("config database %s: %w", registry.Location(t), err)
	}
	return db, nil
}

// RunProgress reads run runID across its hosts (status --run-id).
func RunProgress(ctx context.Context, opts Options, runID string) (coop.Progress, error) {
	if opts.Config.Dialect != dbconn.Postgres {
		return coop.Progress{}, usagef("--run-id needs a PostgreSQL config database (--config-db postgres://...): the hosts of a run share it")
	}
	db, err := openRiver(ctx, opts, false)
	if err != nil {
		return coop.Progress{}, err
	}
	defer db.Close()
	p, err := db.Progress(ctx, runID)
	if err == nil && len(p.Jobs) == 0 {
		return p, usagef("no run %q in the config database", runID)
	}
	return p, err
}

// Run is a cooperative run this host is about to join (JoinRun).
type Run struct {
	db         *coop.DB
	id, action string
}

// Close ends the host's session with the run's database.
func (r *Run) Close() { r.db.Close() }

// JoinRun opens the cooperative run runID of action ("migrate", "cleanup"
// or "up") in the PostgreSQL config database, installing or upgrading
// River's tables on first use. A run of another command is bad usage,
// found before the fleet's config session (Open) changes anything.
func JoinRun(ctx context.Context, opts Options, runID, action string) (*Run, error) {
	db, err := openRiver(ctx, opts, true)
	if err != nil {
		return nil, err
	}
	if got, err := db.RunAction(ctx, runID); err != nil || got != "" && got != action {
		db.Close()
		if err != nil {
			return nil, err
		}
		return nil, usagef("--run-id: run %s is a %s run, not %s", runID, got, action)
	}
	return &Run{db: db, id: runID, action: action}, nil
}

// Cooperate joins run as one of its hosts: the fleet's products become
// jobs of the run, and this host works the run's jobs, f's Jobs at a time,
// each in its own worker process, until none is pending or running.
func (f *Fleet) Cooperate(ctx context.Context, run *Run) (RunReport, error) {
	db, runID, action := run.db, run.id, run.action
	sig := &signals{}
	var stop func()
	sig.ctx, sig.kill, sig.received, stop = supervise.NotifySignals(ctx, f.log)
	defer stop()
	f.signals = sig
	if action != "migrate" {
		f.sayLabels()
		f.labels.said = true
		f.cleanupLabels() // once for the host; runOne's fleets share it
	}
	endpoints := make([]string, len(f.Products))
	for i, p := range f.Products {
		endpoints[i] = p.Endpoint
	}
	host, err := db.Run(sig.ctx, coop.Host{
		RunID: runID, Action: action, Endpoints: endpoints, Jobs: f.opts.Jobs, Lease: coop.Lease(f.opts.Timeout),
		Work: func(ctx context.Context, a coop.Args) coop.Result { return f.runOne(ctx, a) },
		Log:  f.log,
	})
	var rep RunReport
	rep.Host = host
	if s := sig.received(); s != nil {
		rep.ExitCode = supervise.ExitCode(s)
	} else if err != nil {
		if errors.Is(err, coop.ErrOtherAction) {
			return rep, usagef("--run-id: %v", err)
		}
		return rep, err
	}
	// The summary is read on a context of its own: an interrupted host
	// still says where the run stands.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if rep.Progress, err = db.Progress(rctx, runID); err != nil {
		return rep, err
	}
	if rep.ExitCode == 0 && (rep.Failed > 0 || rep.Pending > 0 || rep.Running > 0) {
		rep.ExitCode = 1
	}
	return rep, nil
}

// runOne runs one product of the run, as a run of one host would (its
// inspection, its worker, its inspection again), in a fleet of that
// product alone, and says what became of it.
func (f *Fleet) runOne(ctx context.Context, a coop.Args) (res coop.Result) {
	res = coop.Result{Host: coop.HostName(), Outcome: string(Failed)}
	start := time.Now()
	defer func() { res.DurationMS = time.Since(start).Milliseconds() }()
	p, ok := f.product(a.Endpoint)
	if !ok {
		res.Reason = "no product " + a.Endpoint + " in this host's config database selection"
		return res
	}
	opts := f.opts
	opts.Progress, opts.Ask = nil, nil
	// The worker stops on the host's signal, as in every run, and when the
	// job's lease is over (River ends ctx then); the supervisor's own reads
	// of the product still run.
	sig := &signals{kill: f.signals.kill, received: f.signals.received}
	var cancel context.CancelFunc
	sig.ctx, cancel = context.WithCancel(f.signals.ctx)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	ctx = context.WithoutCancel(ctx)
	one := &Fleet{opts: opts, log: f.log, Config: f.Config, Products: []registry.Product{p},
		allProducts: f.allProducts, signals: sig}
	one.shareLabels(f)
	timeouts := Timeouts{Connect: f.opts.ConnectTimeout, Lock: f.opts.ConnectTimeout}
	states := one.Inspect(ctx, timeouts)
	res.From, res.To = states[0].DBVersion, states[0].DBVersion
	if a.Action == "migrate" || a.Action == "up" {
		rep := one.Migrate(ctx, states)
		res.Interrupted = rep.Interrupted != 0
		res.Outcome, states = string(OK), rep.Current
		res.To = states[0].DBVersion
		if len(rep.Rows) > 0 {
			r := rep.Rows[0]
			res.Outcome, res.Reason, res.Applied = string(r.Outcome), r.Reason, r.Applied
		} else if rep.Failed {
			res.Outcome, res.Reason = string(Failed), states[0].Status.Message()+" "+states[0].Reason
		}
		if a.Action == "migrate" || res.Outcome != string(OK) || res.Interrupted {
			return res
		}
	}
	rep := one.Cleanup(ctx, states, false)
	res.Interrupted = res.Interrupted || rep.Interrupted != 0
	r := rep.Rows[0]
	res.Outcome, res.Reason = string(r.Outcome), r.Reason
	return res
}

// product is the registered product endpoint: a job another host inserted
// may name one this host did not select.
func (f *Fleet) product(endpoint string) (registry.Product, bool) {
	for _, ps := range [][]registry.Product{f.Products, f.allProducts} {
		for _, p := range ps {
			if p.Endpoint == endpoint {
				return p, true
			}
		}
	}
	return registry.Product{}, false
}
