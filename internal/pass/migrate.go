package pass

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/job"
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
	// Current is where every product stands afterwards, as read: the
	// states Cleanup starts from.
	Current []State
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
		ff    = failFast{on: f.opts.FailFast}
	)
	rep.Before = before
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
		spec.Options.BackupDir, spec.Options.Baseline = f.opts.BackupDir, f.opts.Baseline
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
	outcomes, interrupted, events := f.run(ctx, specs)
	rep.Interrupted = interrupted
	ff.after(outcomes)
	rep.Stopped = ff.hit
	// Read again only when a worker ran: nothing else here changes a product.
	rep.Current = slices.Clone(before)
	if len(specs) > 0 {
		rep.Current = f.Inspect(ctx, Timeouts{Connect: f.opts.ConnectTimeout, Lock: f.opts.ConnectTimeout})
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
		if st.Status != status.OK && f.opts.Baseline == "" {
			rep.Failed = true
		}
	}
	return rep
}

// turn says what Migrate does with a product in state st: the question to
// ask before its worker runs, or why it fails without one; neither when
// there is nothing to do.
func (f *Fleet) turn(st State) (question, refusal string) {
	if f.opts.Baseline != "" {
		return baselineTurn(st, f.opts.Baseline)
	}
	switch {
	case st.Status == status.OK:
		return "", ""
	case !st.Status.Upgradable():
		return "", strings.TrimSpace(st.Status.Message() + " " + st.Reason)
	case st.Status == status.Missing || st.Status == status.SchemaMissing:
		return fmt.Sprintf("Do you want to initialize a new schema for '%s'?", st.Endpoint), ""
	}
	return fmt.Sprintf("Do you want to upgrade '%s' to new schema?", st.Endpoint), ""
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
