// Package pass runs one pass over the selected products of a fleet: it opens
// the config database once per command (Open: checks the selection, upgrades
// the config schema after asking, removes expired login sessions, reads the
// products, and closes it again before any product work), inspects each
// product in-process (Inspect), and runs migrate and cleanup workers through
// supervise, asking per product through a callback (Migrate, Cleanup). It
// returns typed outcomes; the command line (package cli) keeps the flags,
// the prompts, the tables and the exit codes.
package pass

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/dbconn"
	"supervisor/internal/event"
	"supervisor/internal/labels"
	"supervisor/internal/logging"
	"supervisor/internal/registry"
	"supervisor/internal/status"
	"supervisor/internal/supervise"
	"supervisor/internal/usage"
)

// Options say how a pass runs.
type Options struct {
	// Config is where the config database is (password not yet resolved),
	// BaseDir what resolves relative SQLite product paths.
	Config  dbconn.Target
	BaseDir string
	// Selected are the endpoint globs to work on (--product; path.Match
	// syntax), empty meaning all; Excluded the globs left out of those
	// (--exclude). See selectProducts.
	Selected, Excluded []string
	// Shard, when set, keeps of those only the products of one shard
	// (--shard i/n; see Shard).
	Shard Shard
	// Jobs is how many products are inspected, or workers run, at a time.
	Jobs int
	// Timeout bounds each worker (0: none); LockTimeout and ConnectTimeout
	// bound a worker's wait for its product's lock and server.
	Timeout, LockTimeout, ConnectTimeout time.Duration
	// Drift makes Inspect compare each product at a version of ours with the
	// packaged schema at that version (status --drift; see checkDrift).
	Drift bool
	// FailFast starts no new product after the first failure.
	FailFast bool
	// Rollout are migrate's --to, staging and --max-failures.
	Rollout
	// BackupDir receives a copy of each SQLite product before its first
	// pending file ("" = none).
	BackupDir string
	// CheckerLabels is the label directory for the severity upgrade ("" =
	// that routine is skipped); LabelsFoundVia says how it was found when no
	// option named it.
	CheckerLabels, LabelsFoundVia string
	// CheckGarbage makes Inspect ask every up-to-date product, in the same
	// read, whether a cleanup would remove, change or warn about anything
	// (cleanup.Pending); Cleanup then starts no worker for one that has
	// nothing (see Cleanup). Set for cleanup and up.
	CheckGarbage bool
	// DryRun makes Cleanup count what it would remove, writing nothing:
	// the workers' cleanup runs read-only and the config database's
	// expired login sessions are counted, not removed.
	DryRun bool
	// Baseline makes Migrate record the revisions up to this packaged
	// version instead of upgrading (migrate --baseline; see baselineTurn).
	Baseline string
	// Ask asks the operator a question and says whether the answer was
	// yes; nil answers yes.
	Ask func(Question) bool
	// Events receives what the workers report as it happens; nil drops it.
	Events func(endpoint string, e event.Event)
	// Progress, when set, follows each stage's workers (a live display).
	Progress Progress
	// Executable is the binary re-executed as a worker ("" = this one);
	// Environ the environment its allowed variables are taken from (nil =
	// the process's).
	Executable string
	Environ    []string
	// Getenv resolves password variables (nil = none is set).
	Getenv func(string) string
	// Logs receives the pass's own lines and the workers'.
	Logs *logging.Logs
}

// usagef is bad usage or configuration, found before anything was touched.
var usagef = usage.Errorf

// Setup says what Open does in the config database besides reading the
// products.
type Setup struct {
	// UpgradeConfig upgrades an outdated config schema (after asking);
	// AdviseUpgrade, for a command that does not, warns that it is outdated
	// and that migrate upgrades it (status).
	UpgradeConfig, AdviseUpgrade bool
	// SessionLifetime > 0 removes the login sessions unused for that long;
	// LifetimeFrom says where the value came from, for the log.
	SessionLifetime time.Duration
	LifetimeFrom    string
}

// Fleet is what one session with the config database found: the config
// schema's state and the selected products, in endpoint order.
type Fleet struct {
	opts Options
	log  hclog.Logger
	// Config is where the config database is and where its schema stood
	// (before an upgrade Open made).
	Config Config
	// Products are the selected products, in endpoint order.
	Products []registry.Product
	// allProducts is every product of the registry: a worker's environment
	// loses the password variables of all of them, not only of the selected.
	allProducts []registry.Product
	// hints are the products whose own password variable was unset when
	// their job was built, for the reason of a failure to authenticate.
	hints map[string]registry.Password
	// signals, when set, are the controls every run uses (a staged
	// rollout's); nil: each run has its own.
	signals *signals
	// stages are the --stages file's, read by Open.
	stages []StageSpec
	// warnings says each product's trouble once per command (warn).
	warnings warnings
	// labels are the checker labels of the pass, loaded once (see
	// cleanupLabels); said: the log said where they come from, once for a
	// cooperative run's host rather than once per product.
	labels struct {
		once   sync.Once
		digest labels.Digest
		view   *labels.Labels
		said   bool
	}
}

// Config is what a pass knows of the config database.
type Config struct {
	Location string
	State    ConfigState
}

// ConfigState is where the config schema stands.
type ConfigState struct {
	Status                    status.Status
	DBVersion, PackageVersion string
	Reason                    string
}

// CheckWorkers refuses, as bad usage, worker options no run can use: -j
// below 1, a negative timeout.
func (o Options) CheckWorkers() error {
	if o.Jobs < 1 {
		return usagef("-j must be at least 1")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--timeout", o.Timeout}, {"--lock-timeout", o.LockTimeout}, {"--connect-timeout", o.ConnectTimeout}} {
		if d.v < 0 {
			return usagef("%s must not be negative", d.name)
		}
	}
	return nil
}

// Open opens the config database once: it checks its schema and the
// selection (an unknown --product is bad usage, and exit 2 promises that
// nothing was touched, the config database included), then does what setup
// says, reads the products and closes the database: product work must
// never hold it open (a long migration used to time CodeChecker's out).
func Open(ctx context.Context, opts Options, setup Setup) (*Fleet, error) {
	f := newFleet(opts)
	opts = f.opts
	if err := checkBaseline(opts.Baseline, opts.Rollout); err != nil {
		return nil, err
	}
	// -j past what the file-descriptor limit allows fails products with
	// EMFILE: capped once here, for the inspection and the workers.
	f.opts.Jobs = supervise.LimitParallel(max(opts.Jobs, 1), f.log)
	cfg, err := OpenConfig(ctx, opts.Config, opts.BaseDir, false, opts.Getenv, opts.Logs)
	if err != nil {
		return nil, err
	}
	defer cfg.Close()
	st := cfg.State
	f.Config = Config{Location: cfg.Location, State: ConfigState{Status: st.Status, DBVersion: st.DBVersion, PackageVersion: st.PackageVersion, Reason: st.Reason}}
	switch st.Status {
	case status.OK, status.SchemaMismatchOK:
	default:
		return nil, usagef("config database %s: %s %s", cfg.Location, st.Status.Message(), st.Reason)
	}
	all, err := cfg.Registry().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("config database %s: %w", cfg.Location, err)
	}
	sel, err := selectProducts(all, opts.Selected, opts.Excluded)
	if err != nil {
		return nil, err
	}
	for _, e := range sel.unused {
		f.log.Debug("--exclude matches no product", "pattern", e)
	}
	f.Products, f.allProducts = opts.Shard.take(sel.products), all
	if err := f.checkRollout(); err != nil {
		return nil, err
	}
	if setup.UpgradeConfig && st.Status == status.SchemaMismatchOK {
		upgraded, err := f.upgradeConfig(ctx, cfg)
		if err != nil {
			return nil, err
		}
		if upgraded {
			// A newer config schema may read the products differently.
			if all, err = cfg.Registry().List(ctx); err != nil {
				return nil, fmt.Errorf("config database %s: %w", cfg.Location, err)
			}
			if sel, err = selectProducts(all, opts.Selected, opts.Excluded); err != nil {
				return nil, err
			}
			f.Products, f.allProducts = opts.Shard.take(sel.products), all
		}
	}
	f.logShard(len(sel.products))
	if setup.SessionLifetime > 0 {
		if err := f.removeExpiredSessions(ctx, cfg, setup); err != nil {
			return nil, err
		}
	}
	if setup.AdviseUpgrade && st.Status != status.OK {
		f.log.Warn("config database schema mismatch! Possible to upgrade: run 'supervisor migrate'", "location", cfg.Location,
			"database_version", st.DBVersion, "package_version", st.PackageVersion)
	}
	return f, nil
}

// newFleet is a Fleet of no products yet, with opts' Logs and Getenv set
// when they are nil.
func newFleet(opts Options) *Fleet {
	if opts.Logs == nil {
		opts.Logs = logging.Discard()
	}
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	return &Fleet{opts: opts, log: opts.Logs.Logger()}
}

// upgradeConfig upgrades the config database (in-process: it is small)
// after asking, as CodeChecker does before it looks at the products.
func (f *Fleet) upgradeConfig(ctx context.Context, cfg *ConfigDB) (bool, error) {
	st := cfg.State
	f.log.Warn("config database schema mismatch! Possible to upgrade", "location", cfg.Location,
		"database_version", st.DBVersion, "package_version", st.PackageVersion)
	if !f.ask(Question{Text: "Do you want to upgrade the config database to new schema?"}) {
		f.log.Warn("config database not upgraded; going on with the products")
		return false, nil
	}
	res, err := cfg.Upgrade(ctx, f.log)
	if err != nil {
		return false, cfg.WriteError("upgrade config database "+cfg.Location, err)
	}
	f.log.Info("config database upgraded", "from", res.From, "to", res.To)
	return true, nil
}

// removeExpiredSessions removes login sessions that expired for good.
// CodeChecker only does this at login, so an idle server keeps them
// forever. Their OAuth tokens go with them (ON DELETE CASCADE). A dry run
// counts them.
func (f *Fleet) removeExpiredSessions(ctx context.Context, cfg *ConfigDB, setup Setup) error {
	cutoff := time.Now().Add(-setup.SessionLifetime)
	if f.opts.DryRun {
		n, err := cfg.Registry().CountExpiredSessions(ctx, cutoff)
		if err != nil {
			return fmt.Errorf("config database %s: %w", cfg.Location, err)
		}
		f.log.Info("dry run: would remove expired login sessions from the config database", "sessions", n,
			"session_lifetime", setup.SessionLifetime.String(), "from", setup.LifetimeFrom)
		return nil
	}
	n, err := cfg.Registry().RemoveExpiredSessions(ctx, cutoff)
	if err != nil {
		return cfg.WriteError("config database "+cfg.Location, err)
	}
	f.log.Info("removed expired login sessions from the config database", "sessions", n,
		"session_lifetime", setup.SessionLifetime.String(), "from", setup.LifetimeFrom)
	return nil
}

func (f *Fleet) ask(q Question) bool {
	if f.opts.Ask == nil {
		return true
	}
	return f.opts.Ask(q)
}

// password resolves p's PostgreSQL password (registry.ResolvePassword's
// order) and says in the log when the variable the product names is unset:
// the next source is used instead, which is a warning, not an error.
func (f *Fleet) password(p registry.Product) (registry.Password, error) {
	return Password(p, f.opts.Getenv, f.opts.Logs)
}

// Password is registry.ResolvePassword, with a warning in logs when the
// variable p names is unset and the next source is used instead.
func Password(p registry.Product, getenv func(string) string, logs *logging.Logs) (registry.Password, error) {
	pw, err := registry.ResolvePassword(p, getenv)
	if err != nil {
		return pw, err
	}
	if pw.UnsetEnv != "" {
		source := pw.Source
		if source == "" {
			source = "none"
		}
		logs.Product(p.Endpoint).Warn("the product's password variable is not set or empty; using the next source",
			"variable", pw.UnsetEnv, "source", source)
	}
	return pw, nil
}
