package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"supervisor/internal/cleanup"
	"supervisor/internal/job"
	"supervisor/internal/labels"
	"supervisor/internal/registry"
	"supervisor/internal/status"
)

const cleanupUsage = "cleanup [-j N] [--product E]... [--timeout DUR] [--checker-labels DIR] [--session-lifetime DUR]"

type cleanupFlags struct {
	checkerLabels string
	// labelsFoundVia says how check found checkerLabels when no flag or
	// variable named it ("" when one did).
	labelsFoundVia  string
	sessionLifetime time.Duration
	// lifetime is the session lifetime in force and lifetimeFrom where it
	// came from, both set by check.
	lifetime     time.Duration
	lifetimeFrom string
}

func (c *cleanupFlags) register(fs *pflag.FlagSet, env Env) {
	fs.StringVar(&c.checkerLabels, "checker-labels", env.Getenv("SUPERVISOR_CHECKER_LABELS"),
		"CodeChecker checker label `DIR` (analyzers/*.json) for the severity upgrade (env SUPERVISOR_CHECKER_LABELS; default: $CC_DATA_FILES_DIR/config/labels, else the labels of the CodeChecker on PATH); without one that step is skipped")
	fs.DurationVar(&c.sessionLifetime, "session-lifetime", 0,
		"remove config-database login sessions unused for `DUR` (default: session_lifetime of <workspace>/server_config.json, else 5m as in CodeChecker)")
}

// check finds the label directory of a CodeChecker installation when none
// was named, and validates it and the session lifetime up front: a typo must
// not surface as one failure per product, nor after the first write.
func (c *cleanupFlags) check(g *globals) error {
	if c.sessionLifetime < 0 {
		return usagef("--session-lifetime must not be negative")
	}
	_, base, err := g.configLocation()
	if err != nil {
		return err
	}
	if c.lifetime, c.lifetimeFrom, err = sessionLifetime(c.sessionLifetime, base); err != nil {
		return usagef("%v", err)
	}
	if c.checkerLabels == "" {
		f, ok := labels.Find(g.env.Getenv)
		if !ok {
			return nil
		}
		c.checkerLabels, c.labelsFoundVia = f.Dir, f.Via
	}
	if _, err := labels.Load(c.checkerLabels); err != nil {
		return usagef("--checker-labels: %v", err)
	}
	return nil
}

func runCleanup(ctx context.Context, g *globals, args []string) error {
	var (
		pool poolFlags
		cf   cleanupFlags
	)
	fs := pflag.NewFlagSet("cleanup", pflag.ContinueOnError)
	pool.register(fs)
	cf.register(fs, g.env)
	if err := g.parse("cleanup", cleanupUsage, fs, args); err != nil {
		return err
	}
	if err := pool.check(); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("cleanup: unexpected arguments %v", fs.Args())
	}
	if err := cf.check(g); err != nil {
		return err
	}
	// Every input is checked (the selection too) before the first write:
	// exit 2 promises that nothing was touched.
	products, _, err := g.readProducts(ctx, pool.selected)
	if err != nil {
		return err
	}
	if err := cleanConfig(ctx, g, cf); err != nil {
		return err
	}
	states := checkProducts(ctx, g, products, pool.jobs, pool.connectTimeout)
	res := cleanupProducts(ctx, g, pool, cf, products, states, false)
	return res.err()
}

// cleanupProducts garbage-collects every product whose database is up to
// date, in worker processes; the others are reported and count as failed.
//
// stopped says that --fail-fast already saw a product fail (in up's
// migrate stage): then no worker starts.
func cleanupProducts(ctx context.Context, g *globals, pool poolFlags, cf cleanupFlags, products []registry.Product, states []productState, stopped bool) runResult {
	var (
		specs  []job.Spec
		result runResult
		rows   = map[string]cleanupRow{}
		ff     = failFast{on: pool.failFast, hit: stopped}
	)
	switch {
	case cf.checkerLabels == "":
		g.log.Info("no checker labels given (--checker-labels, SUPERVISOR_CHECKER_LABELS) or found (CC_DATA_FILES_DIR, CodeChecker on PATH): the severity upgrade is skipped")
	case cf.labelsFoundVia != "":
		g.log.Info("checker labels found", "dir", cf.checkerLabels, "via", cf.labelsFoundVia)
	}
	for i, st := range states {
		p := products[i]
		if st.Status != status.OK {
			msg := fmt.Sprintf("Cleanup not attempted, database status is %q", st.Message)
			g.logs.Product(p.Endpoint).Warn(msg)
			rows[p.Endpoint] = cleanupRow{err: msg}
			result.failed = true
			// A broken product trips --fail-fast; one that only awaits an
			// upgrade (declined in up, say) does not.
			if !st.Status.Upgradable() {
				ff.fail()
			}
			continue
		}
		if ff.skip() {
			rows[p.Endpoint] = cleanupRow{err: errFailFast.Error(), skipped: true}
			result.failed = true
			continue
		}
		spec, err := g.spec(p, job.ActionCleanup, pool)
		if err != nil {
			rows[p.Endpoint] = cleanupRow{err: err.Error()}
			result.failed = true
			ff.fail()
			continue
		}
		spec.Options.CheckerLabels = cf.checkerLabels
		specs = append(specs, spec)
	}
	outcomes, interrupted := g.runWorkers(ctx, pool, products, specs)
	result.interrupted = interrupted
	ff.after(outcomes)
	result.stopped = ff.hit
	for _, o := range outcomes {
		row := cleanupRow{duration: o.Duration, skipped: o.Skipped}
		if o.Result != nil {
			row.removed = o.Result.Removed
		}
		if !o.OK() {
			result.failed = true
			row.err = g.reason(o)
		}
		rows[o.Spec.Endpoint] = row
	}
	printCleanupSummary(g.env.Stdout, products, rows)
	return result
}

type cleanupRow struct {
	removed  map[string]int64
	duration time.Duration
	err      string
	skipped  bool // never started (fail-fast, interrupted); err says why
}

// printCleanupSummary prints what was removed per product, in endpoint order.
func printCleanupSummary(w io.Writer, products []registry.Product, rows map[string]cleanupRow) {
	header := []string{"Product endpoint"}
	for _, k := range cleanup.Keys {
		header = append(header, strings.ReplaceAll(k, "_", " "))
	}
	header = append(header, "Duration", "Result")
	table := [][]string{header}
	for _, p := range products {
		r := rows[p.Endpoint]
		line := []string{p.Endpoint}
		for _, k := range cleanup.Keys {
			if r.removed == nil {
				line = append(line, "-")
			} else {
				line = append(line, fmt.Sprint(r.removed[k]))
			}
		}
		line = append(line, r.duration.Round(time.Millisecond).String(), resultWord(r.err, r.skipped, "cleaned"))
		table = append(table, line)
	}
	fmt.Fprintln(w, "Garbage collection summary:")
	printTable(w, table)
}
