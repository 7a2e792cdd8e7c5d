package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"supervisor/internal/buildinfo"
	"supervisor/internal/dbconn"
	"supervisor/internal/job"
	"supervisor/internal/logging"
	"supervisor/internal/migrate"
	"supervisor/internal/registry"
	"supervisor/internal/status"
	"supervisor/internal/supervise"
	"supervisor/internal/worker"
	"supervisor/schema"
)

const migrateUsage = "migrate [-j N] [-y] [--product E]... [--dry-run] [--sql] [--timeout DUR] [--fail-fast] [--backup-dir DIR] [--lock-timeout DUR]"

// poolFlags are the options of every command that runs workers.
type poolFlags struct {
	jobs           int
	selected       []string
	timeout        time.Duration
	failFast       bool
	lockTimeout    time.Duration
	connectTimeout time.Duration
}

func (p *poolFlags) register(fs *pflag.FlagSet) {
	fs.IntVarP(&p.jobs, "jobs", "j", runtime.NumCPU(), "run `N` worker processes at a time")
	fs.StringArrayVar(&p.selected, "product", nil, "work on product `ENDPOINT` only (repeatable; never widens to all)")
	fs.DurationVar(&p.timeout, "timeout", 0, "stop a worker that runs longer than `DUR` (SIGTERM, then SIGKILL); 0 = no limit")
	fs.BoolVar(&p.failFast, "fail-fast", false, "after the first failure start no new product; running ones finish")
	fs.DurationVar(&p.lockTimeout, "lock-timeout", dbconn.DefaultLockTimeout, "give up waiting for a product's lock after `DUR`")
	fs.DurationVar(&p.connectTimeout, "connect-timeout", dbconn.DefaultConnectTimeout, "give up connecting to a PostgreSQL server after `DUR`")
}

func (p *poolFlags) check() error {
	if p.jobs < 1 {
		return usagef("-j must be at least 1")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--timeout", p.timeout}, {"--lock-timeout", p.lockTimeout}, {"--connect-timeout", p.connectTimeout}} {
		if d.v < 0 {
			return usagef("%s must not be negative", d.name)
		}
	}
	return nil
}

// check validates the options of migrate and up before anything is read or
// written: a --backup-dir that cannot be made must not surface per product,
// after the questions and the config database upgrade.
func (f *migrateFlags) check() error {
	if err := f.pool.check(); err != nil {
		return err
	}
	if f.backupDir == "" {
		return nil
	}
	abs, err := filepath.Abs(f.backupDir)
	if err != nil {
		return usagef("--backup-dir: %v", err)
	}
	f.backupDir = abs
	if err := canMakeDir(abs); err != nil {
		return usagef("--backup-dir: %v", err)
	}
	return nil
}

// canMakeDir reports why the directory dir can neither be used nor made,
// without making it: the nearest existing ancestor must be a directory this
// process may write (access(2) knows read-only file systems and immutable
// directories, which even root cannot write).
func canMakeDir(dir string) error {
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) && filepath.Dir(p) != p:
			continue
		case err != nil:
			return err
		case !fi.IsDir():
			return fmt.Errorf("%s is not a directory", p)
		}
		if err := syscall.Access(p, wOK); err != nil {
			return fmt.Errorf("%s is not writable: %w", p, err)
		}
		return nil
	}
}

type migrateFlags struct {
	pool      poolFlags
	yes       bool
	dryRun    bool
	sql       bool
	backupDir string
}

func runMigrate(ctx context.Context, g *globals, args []string) error {
	var f migrateFlags
	fs := pflag.NewFlagSet("migrate", pflag.ContinueOnError)
	f.register(fs)
	fs.BoolVar(&f.dryRun, "dry-run", false, "list the pending files per product; touch nothing, ask nothing")
	fs.BoolVar(&f.sql, "sql", false, "print the SQL of the pending files per product; touch nothing")
	if err := g.parse("migrate", migrateUsage, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("migrate: unexpected arguments %v", fs.Args())
	}
	if err := f.check(); err != nil {
		return err
	}
	if f.dryRun || f.sql {
		return migrateOffline(ctx, g, f)
	}
	products, prompts, err := configThenProducts(ctx, g, f)
	if err != nil {
		return err
	}
	return migrateProducts(ctx, g, f, prompts, products).err()
}

// register adds the options migrate and up share.
func (f *migrateFlags) register(fs *pflag.FlagSet) {
	f.pool.register(fs)
	fs.BoolVarP(&f.yes, "yes", "y", false, "answer yes to every question")
	fs.StringVar(&f.backupDir, "backup-dir", "", "copy each SQLite product into `DIR` (VACUUM INTO) before its first pending file")
}

// configThenProducts is the start of migrate and up: the config database is
// checked (and upgraded after asking), then the selected products are read.
// The selection is checked first: an unknown --product is bad usage, and exit
// 2 promises that nothing was touched, the config database included.
func configThenProducts(ctx context.Context, g *globals, f migrateFlags) ([]registry.Product, *prompter, error) {
	if _, _, err := g.readProducts(ctx, f.pool.selected); err != nil {
		return nil, nil, err
	}
	prompts := newPrompter(g.env.Stdin, g.env.Stdout, f.yes)
	if err := upgradeConfig(ctx, g, prompts); err != nil {
		return nil, nil, err
	}
	products, _, err := g.readProducts(ctx, f.pool.selected)
	return products, prompts, err
}

// upgradeConfig checks the config database first, as CodeChecker does, and
// upgrades it (in-process: it is small) after asking.
func upgradeConfig(ctx context.Context, g *globals, prompts *prompter) error {
	cfg, err := g.openConfig(ctx, false)
	if err != nil {
		return err
	}
	defer cfg.Close()
	switch cfg.state.Status {
	case status.OK:
		return nil
	case status.SchemaMismatchOK:
	default:
		return usagef("config database %s: %s %s", cfg.location, cfg.state.Status.Message(), cfg.state.Reason)
	}
	g.log.Warn("config database schema mismatch! Possible to upgrade", "location", cfg.location,
		"database_version", cfg.state.DBVersion, "package_version", cfg.state.PackageVersion)
	if !prompts.ask("Do you want to upgrade the config database to new schema?") {
		g.log.Warn("config database not upgraded; going on with the products")
		return nil
	}
	res, err := migrate.Upgrade(ctx, cfg.db, cfg.target.Dialect, schema.Config, migrate.Options{Logger: g.log, Operator: buildinfo.Operator()})
	if err != nil {
		return cfg.writeError("upgrade config database "+cfg.location, err)
	}
	g.log.Info("config database upgraded", "from", res.From, "to", res.To)
	return nil
}

// runResult is what a worker run over the products came to.
type runResult struct {
	failed      bool
	interrupted int // exit code when a signal stopped the run
	// stopped is set when --fail-fast saw a product fail: a later stage
	// (up's cleanup) starts nothing either.
	stopped bool
}

// errFailFast is why --fail-fast left a product out; the same words as
// supervise's for the products it did not start.
var errFailFast = fmt.Errorf("%w: an earlier product failed (fail-fast)", supervise.ErrSkipped)

// failFast applies --fail-fast's one rule to the failures found before any
// worker ran (the supervisor's own inspection, a job that cannot be built):
// products are taken in endpoint order, and the first failure of any kind
// stops new starts, as a worker's failure does in supervise.Run.
type failFast struct {
	on  bool
	hit bool
}

// fail records a failure found before the workers ran.
func (f *failFast) fail() { f.hit = f.on }

// skip reports whether the product at hand, which would run, is left out.
func (f *failFast) skip() bool { return f.hit }

// after records what the workers came to.
func (f *failFast) after(outcomes []supervise.Outcome) {
	for _, o := range outcomes {
		if !o.OK() && !o.Interrupted {
			f.fail()
		}
	}
}

func (r runResult) err() error {
	switch {
	case r.interrupted != 0:
		return &interruptedError{code: r.interrupted}
	case r.failed:
		return errFailed
	}
	return nil
}

// migrateProducts is the product half of migrate (and of up): status table,
// prompts, workers, status table again, summary.
func migrateProducts(ctx context.Context, g *globals, f migrateFlags, prompts *prompter, products []registry.Product) runResult {
	states := checkProducts(ctx, g, products, f.pool.jobs, f.pool.connectTimeout)
	printStatusTable(g.env.Stdout, states)

	var (
		specs   []job.Spec
		result  runResult
		summary []summaryRow
		ff      = failFast{on: f.pool.failFast}
	)
	// Every question is asked, in endpoint order, before any work starts;
	// none about a product --fail-fast leaves out.
	for i, st := range states {
		p := products[i]
		switch {
		case st.Status == status.OK:
			continue
		case !st.Status.Upgradable():
			result.failed = true
			ff.fail()
			summary = append(summary, summaryRow{endpoint: p.Endpoint, from: st.DBVersion, to: st.DBVersion, err: st.Status.Message() + " " + st.Reason})
			continue
		case ff.skip():
			result.failed = true
			summary = append(summary, summaryRow{endpoint: p.Endpoint, from: st.DBVersion, to: st.DBVersion, err: errFailFast.Error(), skipped: true})
			continue
		}
		question := fmt.Sprintf("Do you want to upgrade '%s' to new schema?", p.Endpoint)
		if st.Status == status.Missing || st.Status == status.SchemaMissing {
			question = fmt.Sprintf("Do you want to initialize a new schema for '%s'?", p.Endpoint)
		}
		if !prompts.ask(question) {
			result.failed = true
			summary = append(summary, summaryRow{endpoint: p.Endpoint, from: st.DBVersion, to: st.DBVersion, err: "not upgraded: the answer was no"})
			continue
		}
		spec, err := g.spec(p, job.ActionMigrate, f.pool)
		if err != nil {
			result.failed = true
			ff.fail()
			summary = append(summary, summaryRow{endpoint: p.Endpoint, from: st.DBVersion, err: err.Error()})
			continue
		}
		spec.Options.BackupDir = f.backupDir
		specs = append(specs, spec)
	}
	if f.backupDir != "" {
		for _, s := range specs {
			if s.Target.Dialect == dbconn.Postgres {
				g.log.Warn("--backup-dir copies SQLite products only: back up PostgreSQL products yourself (pg_dump)")
				break
			}
		}
	}
	outcomes, interrupted := g.runWorkers(ctx, f.pool, products, specs)
	result.interrupted = interrupted
	ff.after(outcomes)
	result.stopped = ff.hit
	for _, o := range outcomes {
		row := summaryRow{endpoint: o.Spec.Endpoint, duration: o.Duration, skipped: o.Skipped}
		if o.Result != nil {
			row.from, row.to, row.applied = o.Result.FromVersion, o.Result.ToVersion, o.Result.Applied
		}
		if !o.OK() {
			result.failed = true
			row.err = g.reason(o)
		}
		summary = append(summary, row)
	}
	after := checkProducts(ctx, g, products, f.pool.jobs, f.pool.connectTimeout)
	versionsFromStates(summary[len(summary)-len(outcomes):], states, after)
	markFailedUpgrades(after, states, outcomes)
	printStatusTable(g.env.Stdout, after)
	printSummary(g.env.Stdout, products, summary)
	for _, st := range after {
		if st.Status != status.OK {
			result.failed = true
		}
	}
	return result
}

// versionsFromStates sets the From and To of the workers' summary rows to
// the versions of the status tables before and after the run, as the tables
// show them: a worker killed, or failed, after it changed the database
// (adopted it as 001, applied a file) recorded nothing, or less than the
// database holds. A product whose state could not be read after the run
// keeps what its worker said.
func versionsFromStates(rows []summaryRow, before, after []productState) {
	idx := map[string]int{}
	for i, st := range before {
		idx[st.Endpoint] = i
	}
	for r := range rows {
		i, ok := idx[rows[r].endpoint]
		if !ok {
			continue
		}
		rows[r].from = before[i].DBVersion
		if after[i].Status != status.FailedToConnect {
			rows[r].to = after[i].DBVersion
		}
	}
}

// markFailedUpgrades shows, as CodeChecker does, "Schema upgrade failed." (or
// "Schema initialization error." for a new database) for a product whose
// worker failed and whose database is still not up to date but readable.
func markFailedUpgrades(after, before []productState, outcomes []supervise.Outcome) {
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

// spec builds a worker's job; the password is resolved here and travels only
// on the worker's stdin.
func (g *globals) spec(p registry.Product, action job.Action, pool poolFlags) (job.Spec, error) {
	if p.Err != nil {
		return job.Spec{}, p.Err
	}
	t := p.Target
	pw, err := g.password(p)
	if err != nil {
		return job.Spec{}, err
	}
	t.Password = pw.Value
	if h := pw.Hint(); h != "" {
		if g.passwordHints == nil {
			g.passwordHints = map[string]registry.Password{}
		}
		g.passwordHints[p.Endpoint] = pw
	}
	return job.Spec{Action: action, Endpoint: p.Endpoint, Target: t, Options: job.Options{
		LockTimeout: pool.lockTimeout, ConnectTimeout: pool.connectTimeout,
	}}, nil
}

// runWorkers runs specs in worker processes and returns their outcomes and,
// if a signal stopped the run, the exit code it calls for.
func (g *globals) runWorkers(ctx context.Context, pool poolFlags, products []registry.Product, specs []job.Spec) ([]supervise.Outcome, int) {
	if len(specs) == 0 {
		return nil, 0
	}
	exe := g.env.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			exe = os.Args[0]
		}
	}
	// Strip the password variables of every registered product, not only of
	// the selected ones: a worker must hold no product's secret in its env.
	env := workerEnv(os.Environ(), append(slices.Clone(products), g.registered...))
	ctx, kill, received, stop := supervise.NotifySignals(ctx, g.log)
	defer stop()
	outcomes := supervise.Run(ctx, supervise.Config{
		Command: func(ctx context.Context) *exec.Cmd {
			cmd := exec.Command(exe)
			cmd.Env = env
			return cmd
		},
		Parallel: pool.jobs,
		Timeout:  pool.timeout,
		FailFast: pool.failFast,
		Logs:     g.logs,
		Kill:     kill,
	}, specs)
	code := 0
	if sig := received(); sig != nil {
		code = supervise.ExitCode(sig)
	}
	return outcomes, code
}

// workerEnvNames are the variables of the supervisor's environment a worker
// gets: what a worker needs to run and to connect, nothing that holds a
// secret. Secrets reach workers only on their stdin (the job spec holds the
// resolved password), so that no variable of the operator's shell (a token,
// another service's password) reaches a process that does not need it.
//
//   - locale and time: LANG, LC_* (any), TZ; the system: PATH, HOME (pgx
//     finds ~/.postgresql's client certificates and ~/.pg_service.conf
//     there), USER, LOGNAME (the default PostgreSQL user), TMPDIR;
//     SSL_CERT_FILE, SSL_CERT_DIR (Go's TLS roots);
//   - the worker's own: SUPERVISOR_WORKER (the marker, always set to 1
//     here), SUPERVISOR_WORKER_LOG_LEVEL;
//   - Go's runtime: GODEBUG, GOMAXPROCS, GOGC, GOMEMLIMIT, GOTRACEBACK,
//     GORACE, GOCOVERDIR (race and coverage runs of the tests);
//   - libpq's connection variables that pgx reads, but for PGPASSWORD and
//     PGSSLPASSWORD, which are secrets (the password is on stdin; a
//     client key needing a passphrase is not supported in workers).
//     PGPASSFILE and PGSERVICEFILE are paths, not secrets: a worker with no
//     password from the supervisor looks in the same password file the
//     supervisor did (which found nothing there), never in another one.
var workerEnvNames = []string{
	"LANG", "TZ", "PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR",
	worker.EnvLogLevel,
	"GODEBUG", "GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GOTRACEBACK", "GORACE", "GOCOVERDIR",
	"PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSFILE", "PGAPPNAME", "PGCONNECT_TIMEOUT",
	"PGSSLMODE", "PGSSLKEY", "PGSSLCERT", "PGSSLCERTMODE", "PGSSLSNI", "PGSSLROOTCERT", "PGSSLNEGOTIATION",
	"PGTARGETSESSIONATTRS", "PGSERVICE", "PGSERVICEFILE", "PGTZ", "PGOPTIONS",
	"PGMINPROTOCOLVERSION", "PGMAXPROTOCOLVERSION", "PGCHANNELBINDING", "PGREQUIREAUTH",
}

// workerEnv is a worker's environment: the variables of environ that
// workerEnvNames allows, in their order, and the worker marker. A product's
// --db-password-env variable is left out even when its name is allowed:
// that it holds a password is the operator's word.
func workerEnv(environ []string, products []registry.Product) []string {
	secret := map[string]bool{}
	for _, p := range products {
		if p.PasswordEnv != "" {
			secret[p.PasswordEnv] = true
		}
	}
	var env []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if (slices.Contains(workerEnvNames, name) || strings.HasPrefix(name, "LC_")) && !secret[name] {
			env = append(env, kv)
		}
	}
	return append(env, worker.EnvMarker+"=1")
}

// reason is the one-line reason a product failed, naming the product's
// password variable when it was unset and the server asked for a password.
func (g *globals) reason(o supervise.Outcome) string {
	return withPasswordHint(outcomeReason(o), g.passwordHints[o.Spec.Endpoint])
}

// outcomeReason is the one-line reason a product failed. A worker's error
// can span lines (a driver's per-attempt errors): a table cell and a status
// reason must not, so it is folded to one line here, once for every caller.
func outcomeReason(o supervise.Outcome) string {
	return logging.OneLine(rawOutcomeReason(o))
}

func rawOutcomeReason(o supervise.Outcome) string {
	// The supervisor knows better than the worker why a worker stopped: a
	// worker stopped by a timeout or an interrupt only saw SIGTERM.
	if o.Err != nil && !errors.Is(o.Err, supervise.ErrJobFailed) {
		return o.Err.Error()
	}
	if o.Result != nil && o.Result.Error != "" {
		return o.Result.Error
	}
	if o.Err != nil {
		return o.Err.Error()
	}
	return "failed"
}

type summaryRow struct {
	endpoint string
	from, to string
	applied  int
	duration time.Duration
	err      string
	skipped  bool // never started (fail-fast, interrupted); err says why
}

// printSummary prints one line per product, in endpoint order.
func printSummary(w interface{ Write([]byte) (int, error) }, products []registry.Product, rows []summaryRow) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "Summary: every product was already up to date.")
		return
	}
	byEndpoint := map[string]summaryRow{}
	for _, r := range rows {
		byEndpoint[r.endpoint] = r
	}
	table := [][]string{{"Product endpoint", "From", "To", "Files applied", "Duration", "Result"}}
	for _, p := range products {
		r, ok := byEndpoint[p.Endpoint]
		if !ok {
			continue
		}
		table = append(table, []string{r.endpoint, orDash(r.from), orDash(r.to), fmt.Sprint(r.applied), r.duration.Round(time.Millisecond).String(), resultWord(r.err, r.skipped, "ok")})
	}
	fmt.Fprintln(w, "Summary:")
	printTable(w, table)
}

// resultWord is a summary's Result column: done, the reason a product
// failed, or why it was never started.
func resultWord(err string, skipped bool, done string) string {
	switch {
	case skipped:
		return "SKIPPED: " + err
	case err != "":
		return "FAILED: " + err
	}
	return done
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// migrateOffline answers --dry-run and --sql: per product, what would run.
// Nothing is touched and nothing is asked.
func migrateOffline(ctx context.Context, g *globals, f migrateFlags) error {
	products, _, err := g.readProducts(ctx, f.pool.selected)
	if err != nil {
		return err
	}
	states := checkProducts(ctx, g, products, f.pool.jobs, f.pool.connectTimeout)
	plans := make([][]migrate.PlannedFile, len(states))
	failed := false
	for i, st := range states {
		if !st.Status.Upgradable() {
			if st.Status != status.OK {
				failed = true
			}
			continue
		}
		plans[i], err = migrate.Plan(st.inspected)
		if err != nil {
			return fmt.Errorf("%s: %w", products[i].Endpoint, err)
		}
		// Refuse before printing anything when a step is not SQL.
		for _, pf := range plans[i] {
			if f.sql && pf.GoStep != "" {
				return usagef("Offline migration is not possible: product %q needs step %s (%s), which is Go code, not SQL", products[i].Endpoint, pf.Version, pf.GoStep)
			}
		}
	}
	for i, st := range states {
		p := products[i]
		if f.sql {
			if len(plans[i]) == 0 {
				fmt.Fprintf(g.env.Stdout, "-- [%s] %s\n", p.Endpoint, st.Message)
				continue
			}
			fmt.Fprintf(g.env.Stdout, "-- [%s] %s: from %s to %s\n", p.Endpoint, registry.Location(p.Target), orDash(st.DBVersion), st.PackageVersion)
			for _, pf := range plans[i] {
				fmt.Fprintf(g.env.Stdout, "-- [%s] version %s (%s)%s\n", p.Endpoint, pf.Version, pf.Description, planNote(pf))
				for _, s := range pf.Statements {
					fmt.Fprintln(g.env.Stdout, strings.TrimRight(s, ";\n ")+";")
				}
			}
			continue
		}
		switch {
		case len(plans[i]) > 0:
			fmt.Fprintf(g.env.Stdout, "[%s] %d pending file(s), from %s to %s:\n", p.Endpoint, len(plans[i]), orDash(st.DBVersion), st.PackageVersion)
			for _, pf := range plans[i] {
				fmt.Fprintf(g.env.Stdout, "[%s]   %s  %-28s %d statement(s)%s\n", p.Endpoint, pf.Version, pf.Description, len(pf.Statements), planNote(pf))
			}
		default:
			msg := st.Message
			if st.Reason != "" {
				msg += " " + st.Reason
			}
			fmt.Fprintf(g.env.Stdout, "[%s] %s\n", p.Endpoint, msg)
		}
	}
	if failed {
		return errFailed
	}
	return nil
}

func planNote(pf migrate.PlannedFile) string {
	if pf.Baseline {
		return ": CodeChecker's schema, recorded as a baseline, not executed"
	}
	return ""
}
