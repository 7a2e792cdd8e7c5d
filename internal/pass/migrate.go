package pass

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/job"
	"supervisor/internal/migrate"
	"supervisor/internal/status"
	"supervisor/internal/supervise"
)

// Stage is what one stage (migrate or cleanup) over the products came to.
type Stage struct {
	// Failed is set when at least one product was not done.
	Failed bool
	// Interrupted is the exit code a signal that stopped the stage calls for.
	Interrupted int
	// Stopped is set when --fail-fast saw a product fail: a later stage
	// (up's cleanup) starts nothing either.
	Stopped bool
}

// MigrateRow is what became of one product that needed an upgrade.
type MigrateRow struct {
	Endpoint string
	From, To string
	Applied  int
	// Files are the files its worker reported committed, in order, with
	// their durations (its file_applied events).
	Files    []FileApplied
	Duration time.Duration
	// Outcome is the word for it; Reason says why it is not OK ("" when it
	// is): the failure, "not upgraded: the answer was no", or why it was
	// never started (fail-fast, interrupted).
	Outcome Outcome
	Reason  string
	// PeakRSS is its worker's peak resident set size in bytes (0: no worker
	// ran, or unknown); LastOutput the last stderr lines of a worker that
	// failed, for the failure report.
	PeakRSS    int64
	LastOutput []string
}

// MigrateReport is what Migrate did.
type MigrateReport struct {
	Stage
	// Rows are the products that needed an upgrade, in endpoint order.
	Rows []MigrateRow
	// Before is the status table before the run (Migrate's before).
	Before []State
	// After is the status table after the run, in the order of Products: a
	// product whose worker failed reads "Schema upgrade failed." there, as
	// in CodeChecker.
	After []State
	// Current is where every product stands afterwards, as read (or as
	// its worker's result said: see reported): the states Cleanup starts
	// from.
	Current []State
	// ToVersion is the version the run stopped at (--to; "": the latest).
	ToVersion string
	// Stages are the stages of a staged rollout (--canary, --canary-count,
	// --stages), in order; nil for a plain run.
	Stages []StageResult
}

// AllUpToDate says whether every product of states is up to date.
func AllUpToDate(states []State) bool {
	for _, s := range states {
		if s.Status != status.OK {
			return false
		}
	}
	return true
}

// UpToDate counts the products up to date after the run.
func (r MigrateReport) UpToDate() int {
	n := 0
	for _, st := range r.Current {
		if st.Status == status.OK {
			n++
		}
	}
	return n
}

// Migrate upgrades every product of before (Inspect's states) that needs
// it, after asking: every question is asked, in endpoint order, before any
// work starts, and none about a product --fail-fast leaves out. Then it
// inspects the products again.
func (f *Fleet) Migrate(ctx context.Context, before []State) MigrateReport {
	var (
		rep   MigrateReport
		specs []job.Spec
		rows  = map[string]MigrateRow{}
		ff    = newFailFast(f.opts)
	)
	rep.Before, rep.ToVersion = before, f.opts.ToVersion
	for i, st := range before {
		p := f.Products[i]
		row := MigrateRow{Endpoint: p.Endpoint, From: st.DBVersion, To: st.DBVersion, Outcome: Failed}
		question, refusal := f.turn(st)
		switch {
		case question == "" && refusal == "":
			continue
		case refusal != "":
			ff.fail()
			row.Reason = refusal
			rows[p.Endpoint] = row
			continue
		case ff.skip():
			row.Outcome, row.Reason = Skipped, errFailFast.Error()
			rows[p.Endpoint] = row
			continue
		}
		if !f.ask(Question{Text: question, Fleet: true}) {
			row.Outcome, row.Reason = Declined, reasonDeclined
			rows[p.Endpoint] = row
			continue
		}
		action := job.ActionMigrate
		if f.opts.Baseline != "" {
			action = job.ActionBaseline
		}
		spec, err := f.spec(p, action)
		if err != nil {
			ff.fail()
			row.To, row.Reason = "", err.Error()
			rows[p.Endpoint] = row
			continue
		}
		spec.Options.BackupDir, spec.Options.Baseline, spec.Options.ToVersion = f.opts.BackupDir, f.opts.Baseline, f.opts.ToVersion
		specs = append(specs, spec)
	}
	if f.opts.BackupDir != "" {
		for _, s := range specs {
			if s.Target.Dialect == dbconn.Postgres {
				f.log.Warn("--backup-dir copies SQLite products only: back up PostgreSQL products yourself (pg_dump)")
				break
			}
		}
	}
	events := newCollector(f.opts.Events)
	var failedBefore []string
	for _, p := range f.Products {
		if r, ok := rows[p.Endpoint]; ok && r.Outcome == Failed {
			failedBefore = append(failedBefore, p.Endpoint)
		}
	}
	outcomes := f.rollout(ctx, f.plan(specs, failedBefore), events, &ff, &rep)
	rep.Stopped = ff.skip()
	// Read again only when a worker ran: nothing else here changes a product.
	rep.Current = slices.Clone(before)
	if len(specs) > 0 {
		rep.Current = f.inspect(ctx, Timeouts{Connect: f.opts.ConnectTimeout, Lock: f.opts.ConnectTimeout}, f.reported(before, outcomes))
	}
	rep.After = slices.Clone(rep.Current)
	for _, o := range outcomes {
		row := MigrateRow{Endpoint: o.Spec.Endpoint, Duration: o.Duration, Outcome: workerOutcome(o),
			Files: events.Files(o.Spec.Endpoint), PeakRSS: o.PeakRSS}
		if o.Result != nil {
			row.From, row.To, row.Applied = o.Result.FromVersion, o.Result.ToVersion, o.Result.Applied
		}
		if !o.OK() {
			row.Reason, row.LastOutput = f.reason(o), o.LastOutput
		}
		versionsFromStates(&row, before, rep.After)
		rows[o.Spec.Endpoint] = row
	}
	if f.opts.Baseline == "" {
		markFailedUpgrades(rep.After, before, outcomes)
	}
	for _, p := range f.Products {
		if r, ok := rows[p.Endpoint]; ok {
			rep.Rows = append(rep.Rows, r)
			rep.Failed = rep.Failed || r.Outcome != OK
		}
	}
	// A baseline is done when it is recorded: a product at an older version
	// is not up to date afterwards, and need not be.
	for _, st := range rep.After {
		if !f.reached(st) && f.opts.Baseline == "" {
			rep.Failed = true
		}
	}
	return rep
}

// reported are the states after the run that the workers' results say
// already, so that they need not be read again: a product whose worker
// succeeded, and said that its database is up to date at the packaged
// version (the result is read from the database under the worker's lock,
// after its last commit). Reading such a product again costs an open (on
// SQLite, parsing its whole schema) and an inspection per product, about a
// millisecond of CPU, a tenth of initialising it. Nothing is taken from the
// results when the pass checks for garbage (up): that check needs the
// read (see checkGarbage), which is cheaper than the cleanup worker it may
// save.
func (f *Fleet) reported(before []State, outcomes []supervise.Outcome) map[string]State {
	if f.opts.CheckGarbage || f.opts.Baseline != "" {
		return nil
	}
	known := map[string]State{}
	for _, o := range outcomes {
		if !o.OK() || o.Result == nil || o.Result.Status != status.OK {
			continue
		}
		for _, st := range before {
			if st.Endpoint != o.Spec.Endpoint || st.PackageVersion == "" || o.Result.ToVersion != st.PackageVersion {
				continue
			}
			known[st.Endpoint] = State{
				Endpoint: st.Endpoint, Status: status.OK, Message: status.OK.Message(), Location: st.Location,
				DBVersion: o.Result.ToVersion, PackageVersion: st.PackageVersion, UpToDate: true,
				inspected: migrate.State{Status: status.OK, DBVersion: o.Result.ToVersion, PackageVersion: st.PackageVersion},
			}
		}
	}
	return known
}

// turn says what Migrate does with a product in state st: the question to
// ask before its worker runs, or why it fails without one; neither when
// there is nothing to do.
func (f *Fleet) turn(st State) (question, refusal string) {
	if f.opts.Baseline != "" {
		return baselineTurn(st, f.opts.Baseline)
	}
	switch {
	case f.reached(st):
		if f.opts.ToVersion != "" && st.DBVersion != f.opts.ToVersion {
			f.opts.Logs.Product(st.Endpoint).Info("the database is past --to: left alone", "version", st.DBVersion, "to", f.opts.ToVersion)
		}
		return "", ""
	case !st.Status.Upgradable():
		return "", strings.TrimSpace(st.Status.Message() + " " + st.Reason)
	case st.Status == status.Missing || st.Status == status.SchemaMissing:
		return fmt.Sprintf("Do you want to initialize a new schema for '%s'?", st.Endpoint), ""
	}
	return fmt.Sprintf("Do you want to upgrade '%s' to new schema?", st.Endpoint), ""
}

// reached says whether a product in state st is where this run takes it:
// up to date, or with --to at or past that version and upgradable still.
func (f *Fleet) reached(st State) bool {
	to := f.opts.ToVersion
	return st.Status == status.OK || to != "" && st.Status == status.SchemaMismatchOK && job.AtOrPast(st.DBVersion, to)
}

// rollout runs specs stage by stage (plan), each stage's jobs at its own -j;
// ff counts the failures of every stage. A stage whose policy stops it
// starts no new product after a failure; one that stops the rollout leaves
// the later stages unstarted, as does an interrupt. rep gets the stages'
// results (a staged rollout only) and the interrupt's exit code.
func (f *Fleet) rollout(ctx context.Context, stages []plannedStage, events *collector, ff *failFast, rep *MigrateReport) []supervise.Outcome {
	var (
		outcomes []supervise.Outcome
		stop     error // why the later stages do not start
		// workerFailures counts the failed workers of the stages so far.
		workerFailures int
	)
	if len(stages) > 1 {
		sig := &signals{}
		var stopSignals func()
		sig.ctx, sig.kill, sig.received, stopSignals = supervise.NotifySignals(ctx, f.log)
		f.signals, ctx = sig, sig.ctx
		defer func() {
			if s := sig.received(); s != nil {
				rep.Interrupted = supervise.ExitCode(s)
			}
			stopSignals()
			f.signals = nil
		}()
	}
	for _, st := range stages {
		res := StageResult{Name: st.Name, Products: slices.Clone(st.failedBefore), Failed: len(st.failedBefore)}
		for _, s := range st.specs {
			res.Products = append(res.Products, s.Endpoint)
		}
		slices.Sort(res.Products)
		if res.Products == nil {
			res.Products = []string{}
		}
		var outs []supervise.Outcome
		switch {
		case stop == nil && ctx.Err() != nil:
			stop = fmt.Errorf("%w: %w", supervise.ErrSkipped, supervise.ErrInterrupted)
		case stop == nil && workerFailures > 0 && ff.skip():
			// Only a worker's failure stops a later stage: the jobs
			// built before a failure the supervisor found come before it
			// in endpoint order, and run.
			stop = errFailFast
		}
		if stop != nil {
			for _, s := range st.specs {
				outs = append(outs, supervise.Outcome{Spec: s, Skipped: true, Err: stop,
					Interrupted: errors.Is(stop, supervise.ErrInterrupted)})
			}
		} else {
			stageFF := stageRule(*ff, st.OnError)
			var code int
			outs, code = f.run(ctx, st.specs, events, st.Jobs, &stageFF)
			// A product of the stage found failing before any worker
			// counts as the stage's failure once its workers are done.
			failed := len(st.failedBefore)
			for i, o := range outs {
				if !o.OK() && !o.Skipped {
					failed++
					workerFailures++
					ff.fail()
				}
				if o.Skipped && !o.Interrupted && st.OnError != Continue {
					outs[i].Err = f.stageReason(st)
				}
			}
			switch {
			case code != 0:
				rep.Interrupted = code
				stop = fmt.Errorf("%w: %w", supervise.ErrSkipped, supervise.ErrInterrupted)
			case failed > 0 && st.OnError == StopRollout:
				stop, res.StoppedRollout = f.stageReason(st), true
			}
		}
		for _, o := range outs {
			switch {
			case o.OK():
				res.OK++
			case o.Skipped:
				res.Skipped++
			default:
				res.Failed++
			}
		}
		if f.staged() {
			rep.Stages = append(rep.Stages, res)
			if len(res.Products) > 0 {
				f.log.Info("stage done", "stage", res.Name, "products", len(res.Products), "ok", res.OK, "failed", res.Failed, "skipped", res.Skipped)
			}
			if res.StoppedRollout {
				f.log.Warn(strings.TrimPrefix(stop.Error(), supervise.ErrSkipped.Error()+": ")+": the rollout stops, no later product starts", "stage", res.Name)
			}
		}
		outcomes = append(outcomes, outs...)
	}
	return outcomes
}

// stageRule is the fail-fast rule of one stage's run: what the run's rule
// (ff) still tolerates, and nothing for a stage that stops on error.
func stageRule(ff failFast, policy Policy) failFast {
	rule := failFast{limit: -1}
	if ff.limit >= 0 {
		rule.limit = max(ff.limit-ff.n, 0)
	}
	if policy != Continue {
		rule.limit = 0
	}
	return rule
}

// stageReason is why a stage's failure left a product unstarted.
func (f *Fleet) stageReason(st plannedStage) error {
	if st.Name == canaryStage {
		return errors.New(reasonCanary)
	}
	return fmt.Errorf("%w: a product of stage %q failed (%s)", supervise.ErrSkipped, st.Name, st.OnError)
}

// versionsFromStates sets the From and To of a worker's row to the versions
// of the status tables before and after the run, as the tables show them: a
// worker killed, or failed, after it changed the database (adopted it as
// 001, applied a file) recorded nothing, or less than the database holds. A
// product whose state could not be read after the run keeps what its worker
// said.
func versionsFromStates(row *MigrateRow, before, after []State) {
	for i, st := range before {
		if st.Endpoint != row.Endpoint {
			continue
		}
		row.From = st.DBVersion
		if after[i].Status != status.FailedToConnect {
			row.To = after[i].DBVersion
		}
		return
	}
}

// markFailedUpgrades shows, as CodeChecker does, "Schema upgrade failed." (or
// "Schema initialization error." for a new database) for a product whose
// worker failed and whose database is still not up to date but readable.
func markFailedUpgrades(after, before []State, outcomes []supervise.Outcome) {
	failed := map[string]supervise.Outcome{}
	for _, o := range outcomes {
		// A product never started did not fail an upgrade.
		if !o.OK() && !o.Skipped {
			failed[o.Spec.Endpoint] = o
		}
	}
	for i := range after {
		o, ok := failed[after[i].Endpoint]
		if !ok || !after[i].Status.Upgradable() {
			continue
		}
		s := status.SchemaUpgradeFailed
		if before[i].Status == status.Missing || before[i].Status == status.SchemaMissing {
			s = status.SchemaInitError
		}
		after[i].Status, after[i].Message, after[i].Reason = s, s.Message(), outcomeReason(o)
	}
}
