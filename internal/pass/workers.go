package pass

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"supervisor/internal/job"
	"supervisor/internal/logging"
	"supervisor/internal/registry"
	"supervisor/internal/supervise"
	"supervisor/internal/worker"
)

// errFailFast is why --fail-fast left a product out; the same words as
// supervise's for the products it did not start.
var errFailFast = fmt.Errorf("%w: an earlier product failed (fail-fast)", supervise.ErrSkipped)

// failFast applies --fail-fast's and --max-failures' one rule to the
// failures found before any worker ran (the supervisor's own inspection, a
// job that cannot be built) and to the workers' of every stage: products
// are taken in endpoint order, and once more failures than the limit were
// seen (--fail-fast: 0) no new product starts, as in supervise.Run.
type failFast struct {
	limit int // -1: no limit
	n     int
	// stopped: an earlier stage (up's migrate) already stopped the run.
	stopped bool
}

// newFailFast is the rule of opts.
func newFailFast(opts Options) failFast {
	switch {
	case opts.FailFast:
		return failFast{limit: 0}
	case opts.StopAfter > 0:
		return failFast{limit: opts.StopAfter - 1}
	}
	return failFast{limit: -1}
}

// fail records a failure.
func (f *failFast) fail() { f.n++ }

// skip reports whether the product at hand, which would run, is left out.
func (f *failFast) skip() bool { return f.stopped || f.limit >= 0 && f.n > f.limit }

// left is the supervise.Config of a run under the rule: no limit, or the
// failures it may still see before it stops starting jobs.
func (f *failFast) left() (on bool, tolerated int) {
	return f.limit >= 0, max(f.limit-f.n, 0)
}

// after records what the workers came to.
func (f *failFast) after(outcomes []supervise.Outcome) {
	for _, o := range outcomes {
		if !o.OK() && !o.Interrupted && !o.Skipped {
			f.fail()
		}
	}
}

// spec builds a worker's job; the password is resolved here and travels only
// on the worker's stdin.
func (f *Fleet) spec(p registry.Product, action job.Action) (job.Spec, error) {
	if p.Err != nil {
		return job.Spec{}, p.Err
	}
	t := p.Target
	pw, err := f.password(p)
	if err != nil {
		return job.Spec{}, err
	}
	t.Password = pw.Value
	if pw.Hint() != "" {
		if f.hints == nil {
			f.hints = map[string]registry.Password{}
		}
		f.hints[p.Endpoint] = pw
	}
	return job.Spec{Action: action, Endpoint: p.Endpoint, Target: t, Options: job.Options{
		LockTimeout: f.opts.LockTimeout, ConnectTimeout: f.opts.ConnectTimeout,
	}}, nil
}

// run runs specs in worker processes, jobs at a time under ff (which then
// counts their failures), and returns their outcomes and the exit code a
// signal that stopped the run calls for (0: none); events collects the
// files and routines each worker reported done (Options.Events gets every
// event too).
func (f *Fleet) run(ctx context.Context, specs []job.Spec, events *collector, jobs int, ff *failFast) ([]supervise.Outcome, int) {
	if len(specs) == 0 {
		return nil, 0
	}
	exe := f.opts.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			exe = os.Args[0]
		}
	}
	environ := f.opts.Environ
	if environ == nil {
		environ = os.Environ()
	}
	// Strip the password variables of every allProducts product, not only of
	// the selected ones: a worker must hold no product's secret in its env.
	env := workerEnv(environ, append(slices.Clone(f.Products), f.allProducts...))
	failFast, maxFailures := ff.left()
	sig := f.signals
	if sig == nil {
		var stop func()
		sig = &signals{}
		sig.ctx, sig.kill, sig.received, stop = supervise.NotifySignals(ctx, f.log)
		defer stop()
	}
	ctx, kill, received := sig.ctx, sig.kill, sig.received
	follow := f.follow(specs, events.event)
	defer follow.end()
	outcomes := supervise.Run(ctx, supervise.Config{
		Command: func(ctx context.Context) *exec.Cmd {
			cmd := exec.Command(exe)
			cmd.Env = env
			return cmd
		},
		Parallel:    jobs,
		Timeout:     f.opts.Timeout,
		FailFast:    failFast,
		MaxFailures: maxFailures,
		Logs:        f.opts.Logs,
		Events:      follow.events,
		Started:     follow.started,
		Finished:    follow.finished,
		Kill:        kill,
	}, specs)
	code := 0
	if sig := received(); sig != nil {
		code = supervise.ExitCode(sig)
	}
	ff.after(outcomes)
	return outcomes, code
}

// signals are the supervisor's SIGINT/SIGTERM controls (supervise.NotifySignals)
// over several runs: a staged rollout holds them from its first stage to its
// last, so that a signal between two stages stops the rollout (and is not
// the default action, ending the supervisor without its report).
type signals struct {
	ctx      context.Context
	kill     <-chan struct{}
	received func() os.Signal
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
func (f *Fleet) reason(o supervise.Outcome) string {
	return withPasswordHint(outcomeReason(o), f.hints[o.Spec.Endpoint])
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

// withPasswordHint adds pw's hint to reason when the server asked for the
// password nothing gave: the reason then names the product's variable.
func withPasswordHint(reason string, pw registry.Password) string {
	if h := pw.Hint(); h != "" && strings.Contains(strings.ToLower(reason), "password") {
		return reason + " (" + h + ")"
	}
	return reason
}
