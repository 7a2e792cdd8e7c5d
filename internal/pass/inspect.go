package pass

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	amigrate "ariga.io/atlas/sql/migrate"

	"supervisor/internal/cleanup"
	"supervisor/internal/dbconn"
	"supervisor/internal/logging"
	"supervisor/internal/migrate"
	"supervisor/internal/registry"
	"supervisor/internal/status"
	"supervisor/schema"
)

// State is where one product database stands: a row of the status table,
// and what `status --json` prints.
type State struct {
	Endpoint       string        `json:"endpoint"`
	Status         status.Status `json:"status"`
	Message        string        `json:"message"`
	Location       string        `json:"location"`
	DBVersion      string        `json:"db_version"`
	PackageVersion string        `json:"package_version"`
	UpToDate       bool          `json:"up_to_date"`
	Reason         string        `json:"reason,omitempty"`
	// Drift is how the live schema differs from the packaged one at
	// DBVersion, one line each, when Options.Drift checked it: empty for a
	// product that does not differ, absent (nil) for one not checked.
	Drift []string `json:"drift,omitzero"`

	inspected migrate.State // what an upgrade would do
	// garbage is what the garbage check found (Options.CheckGarbage).
	garbage garbage
	// connectErr is why the database could not be read (failed_to_connect):
	// products add tells a server asking for a password by it.
	connectErr error
}

// pending is what an upgrade of the product would run (--dry-run, --sql).
func (s State) pending() ([]migrate.PlannedFile, error) {
	return migrate.Plan(s.inspected)
}

// Timeouts bound one product's inspection: connecting to a PostgreSQL
// server, and waiting for a SQLite database another process has locked.
type Timeouts struct{ Connect, Lock time.Duration }

// Inspect reads where every selected product stands, in-process, Jobs at a
// time (read-only and fast; migrate and cleanup use worker processes). The
// states are in the order of f.Products.
func (f *Fleet) Inspect(ctx context.Context, timeout Timeouts) []State {
	return f.inspect(ctx, timeout, nil)
}

// inspect is Inspect, with the states of known (by endpoint) taken as they
// are instead of read.
func (f *Fleet) inspect(ctx context.Context, timeout Timeouts, known map[string]State) []State {
	out := make([]State, len(f.Products))
	f.eachProduct(func(i int, p registry.Product) {
		if st, ok := known[p.Endpoint]; ok {
			out[i] = st
			return
		}
		out[i] = f.inspectProduct(ctx, p, timeout)
		if out[i].Reason != "" && out[i].Status != status.OK {
			f.warn(p.Endpoint, out[i].Status.Message()+" "+out[i].Reason)
		}
	})
	return out
}

// eachProduct calls read for every selected product, Jobs at a time, and
// returns once every call has: the supervisor's own in-process reads
// (status, history), which must stay fast and need no worker.
func (f *Fleet) eachProduct(read func(i int, p registry.Product)) {
	sem := make(chan struct{}, f.opts.Jobs)
	var wg sync.WaitGroup
	for i, p := range f.Products {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			read(i, p)
		}()
	}
	wg.Wait()
}

func (f *Fleet) inspectProduct(ctx context.Context, p registry.Product, timeout Timeouts) State {
	st := State{Endpoint: p.Endpoint, Location: registry.Location(p.Target)}
	if v, err := migrate.LatestVersion(schema.Product, p.Target.Dialect); err == nil {
		st.PackageVersion = v
	}
	set := func(s status.Status, reason string) State {
		st.Status, st.Message, st.Reason = s, s.Message(), reason
		st.UpToDate = s == status.OK
		return st
	}
	if p.Err != nil {
		// An unreadable registry row, or a database an earlier product uses:
		// this product fails, the others go on.
		if !p.Target.Dialect.Valid() {
			st.Location = p.Connection
		}
		return set(status.FailedToConnect, p.Err.Error())
	}
	t := p.Target
	pw, err := f.password(p)
	if err != nil {
		return set(status.FailedToConnect, err.Error())
	}
	t.Password = pw.Value
	// LockTimeout bounds, on PostgreSQL, a catalog read waiting behind
	// another session's DDL as BusyTimeout bounds a wait for SQLite's lock.
	ms, err := f.read(ctx, t, dbconn.Options{ReadOnly: true, ConnectTimeout: timeout.Connect, BusyTimeout: timeout.Lock, LockTimeout: timeout.Lock, FailIfLocked: t.Dialect == dbconn.SQLite}, &st)
	if dbconn.IsLocked(err) {
		// Another process (a supervisor migrating or cleaning it, CodeChecker's
		// server writing) holds the file: say so before waiting for it, as
		// long as the lock timeout, not forever.
		f.opts.Logs.Product(p.Endpoint).Info("the database is locked by another process; waiting for it", "lock_timeout", timeout.Lock.String())
		start := time.Now()
		ms, err = f.read(ctx, t, dbconn.Options{ReadOnly: true, ConnectTimeout: timeout.Connect, BusyTimeout: timeout.Lock}, &st)
		if dbconn.IsLocked(err) {
			return set(status.FailedToConnect, fmt.Sprintf("the database is locked by another process (waited %s)", time.Since(start).Round(100*time.Millisecond)))
		}
	}
	if errors.Is(err, dbconn.ErrMissing) {
		// migrate creates the file and applies every packaged file.
		st.inspected.Pending, _ = allFiles(t.Dialect)
		return set(status.Missing, "")
	}
	if err != nil {
		st.connectErr = err
		return set(status.FailedToConnect, withPasswordHint(logging.OneLine(dbconn.Explain(err, timeout.Lock).Error()), pw))
	}
	st.DBVersion, st.inspected = ms.DBVersion, ms
	return set(ms.Status, ms.Reason)
}

// read opens the product database t with o and reads where it stands; with
// Options.Drift it also checks the schema for drift (into st.Drift), on the
// same connection.
func (f *Fleet) read(ctx context.Context, t dbconn.Target, o dbconn.Options, st *State) (migrate.State, error) {
	db, err := dbconn.Open(ctx, t, o)
	if err != nil {
		return migrate.State{}, err
	}
	defer db.Close()
	ms, err := migrate.Inspect(ctx, db, t.Dialect, schema.Product)
	if err != nil {
		return ms, err
	}
	if f.opts.Drift {
		ms = checkDrift(ctx, db, t.Dialect, ms, st)
	}
	if ms.Status == status.OK {
		st.garbage = f.checkGarbage(ctx, db, t.Dialect, st.Endpoint)
	}
	return ms, nil
}

// garbage is what the garbage check said of a product.
type garbage int

const (
	garbageUnknown garbage = iota // not checked, or the check failed
	garbageNone                   // nothing to remove, change or warn about
	garbageFound
)

// checkGarbage asks an up-to-date product, on the connection Inspect read
// it with, whether a cleanup would do anything (cleanup.Pending), when the
// pass cleans up (Options.CheckGarbage). It costs a few indexed reads with
// LIMIT 1 on the open connection, against a worker process per product
// (exec, package inits, open, lock, ten transactions): a product the check
// clears needs none. The answer is that of one snapshot, read before the
// workers start; a cleanup is a point-in-time operation anyway, and
// anything added after the check is the next run's. Without a label view
// while labels were asked for (a directory that does not load) nothing is
// checked: the workers report that error.
func (f *Fleet) checkGarbage(ctx context.Context, db *sql.DB, dialect dbconn.Dialect, endpoint string) garbage {
	if !f.opts.CheckGarbage {
		return garbageUnknown
	}
	_, view := f.cleanupLabels()
	if view == nil && f.opts.CheckerLabels != "" {
		return garbageUnknown
	}
	what, err := cleanup.Pending(ctx, db, cleanup.Options{Dialect: dialect, Labels: view})
	log := f.opts.Logs.Product(endpoint)
	switch {
	case err != nil:
		log.Debug("garbage check failed; the cleanup worker will tell", "error", err)
		return garbageUnknown
	case what != "":
		log.Trace("garbage check: something to do", "first", what)
		return garbageFound
	}
	return garbageNone
}

// checkDrift compares a product at a version of ours (its revisions table
// records one the package has) with the packaged schema at that version,
// through migrate.Compare and its one list of tolerated differences, the
// list adoption uses too. It runs here, in-process, in the inspection's -j
// goroutines rather than in worker processes: status is read-only and
// in-process already, the comparison only reads the product (its scratch
// schema is in memory on SQLite, and in a transaction rolled back on
// PostgreSQL), and a worker would add a process per product for no
// isolation gained. A CodeChecker database about to be adopted was compared
// with 001 by Inspect already, and other states have no version of ours to
// compare with: those are left as they are.
func checkDrift(ctx context.Context, db *sql.DB, dialect dbconn.Dialect, ms migrate.State, st *State) migrate.State {
	if ms.Status != status.OK && ms.Status != status.SchemaMismatchOK || ms.Adopt || ms.DBVersion == "" {
		return ms
	}
	diffs, err := migrate.Compare(ctx, db, dialect, schema.Product, ms.DBVersion)
	if err != nil {
		// Not knowing is not up to date: the product fails, and says why
		// (on PostgreSQL most likely a role that may not create a schema).
		ms.Status, ms.Reason = status.FailedToConnect, fmt.Sprintf("cannot check for drift: %s", logging.OneLine(err.Error()))
		return ms
	}
	st.Drift = append([]string{}, diffs...)
	if len(diffs) > 0 {
		ms.Status = status.Drift
		ms.Reason = fmt.Sprintf("the schema differs from the packaged schema at %s in %d place(s)", ms.DBVersion, len(diffs))
	}
	return ms
}

// allFiles are the packaged product files, for a database that does not exist yet.
func allFiles(dialect dbconn.Dialect) ([]amigrate.File, error) {
	dir, err := migrate.Dir(schema.Product, dialect)
	if err != nil {
		return nil, err
	}
	return dir.Files()
}

// Plan is what migrating one product would run.
type Plan struct {
	Product registry.Product
	State   State
	Files   []migrate.PlannedFile
}

// Plans are the pending files of every selected product (states are
// Inspect's), for migrate --dry-run and --sql; failed is set when a
// product cannot be upgraded at all. With sql, a step that is Go code, not
// SQL, is refused before anything is printed (a usage error).
func (f *Fleet) Plans(states []State, sql bool) (plans []Plan, failed bool, err error) {
	for i, st := range states {
		pl := Plan{Product: f.Products[i], State: st}
		if !st.Status.Upgradable() {
			failed = failed || st.Status != status.OK
		} else if pl.Files, err = st.pending(); err != nil {
			return nil, false, fmt.Errorf("%s: %w", pl.Product.Endpoint, err)
		}
		for _, pf := range pl.Files {
			if sql && pf.GoStep != "" {
				return nil, false, usagef("Offline migration is not possible: product %q needs step %s (%s), which is Go code, not SQL", pl.Product.Endpoint, pf.Version, pf.GoStep)
			}
		}
		plans = append(plans, pl)
	}
	return plans, failed, nil
}
