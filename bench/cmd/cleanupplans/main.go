// Command cleanupplans measures query-plan alternatives of the cleanup's
// sweeps side by side (issue 11, B5): for each dialect, sweep, form of the
// "unused" test (NOT EXISTS, NOT IN, LEFT JOIN ... IS NULL) and batch size,
// the wall time of the sweep's batches (select the next keys, count the
// cascades, delete) and the rows it removed, which must be the same for
// every variant. Then the whole cleanup as production runs it
// (cleanup.Run) on fresh copies.
//
// The variants run against a work copy of the database, each inside a
// transaction that is rolled back, so every variant starts from the same
// rows; on PostgreSQL the deferred foreign-key actions are fired inside the
// timed part (SET CONSTRAINTS ALL IMMEDIATE), as the commit would fire them.
// Nothing here changes what production runs: the SQL of the variants is
// written here, next to the forms of internal/cleanup it mirrors.
//
//	cleanupplans --sqlite p000.sqlite --pg-db pgsrc000 --reps 3
//
// It prints a markdown table on stdout and exits 1 when two variants of a
// sweep removed different rows.
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/cleanup"
	"supervisor/internal/dbconn"
	"supervisor/internal/event"
	"supervisor/internal/labels"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "cleanupplans: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	sqlitePath := flag.String("sqlite", "", "generated SQLite product to measure (copied, never changed)")
	workDir := flag.String("work", os.TempDir(), "directory for the SQLite work copies")
	pgDB := flag.String("pg-db", "", "generated PostgreSQL product database to measure (a template: copied, never changed)")
	pgHost := flag.String("pg-host", os.Getenv("PGHOST"), "PostgreSQL host")
	pgPort := flag.Int("pg-port", atoi(os.Getenv("PGPORT"), 5432), "PostgreSQL port")
	pgUser := flag.String("pg-user", envOr("PGUSER", "postgres"), "PostgreSQL user; the password comes from PGPASSWORD")
	reps := flag.Int("reps", 3, "runs of every measurement (the table gives the median)")
	wholeReps := flag.Int("whole-reps", 0, "runs of the whole cleanup (cleanup.Run on a fresh copy); 0: --reps, -1: none")
	batches := flag.String("batches", "5000,30000,60000", "batch sizes to try with the production form of each sweep (SQLite: up to 30000)")
	timeout := flag.Duration("timeout", 20*time.Second, "a variant slower than this is stopped and not run again")
	only := flag.String("sweeps", "", "comma-separated sweeps to measure (default all)")
	onlyForms := flag.String("forms", "", "comma-separated forms to measure, by name (default all)")
	labelDir := flag.String("labels", "", "checker label directory for the whole cleanup's severity routine (none: skipped)")
	flag.Parse()
	if *sqlitePath == "" && *pgDB == "" {
		return errors.New("nothing to measure: give --sqlite and/or --pg-db")
	}
	sizes, err := parseSizes(*batches)
	if err != nil {
		return err
	}
	if *wholeReps < 0 {
		*wholeReps = 0
	} else if *wholeReps == 0 {
		*wholeReps = *reps
	}
	ctx := context.Background()
	b := &bench{reps: *reps, wholeReps: *wholeReps, sizes: sizes, timeout: *timeout, sweeps: list(*only), forms: list(*onlyForms)}
	if *labelDir != "" {
		if b.labels, err = labels.Load(*labelDir); err != nil {
			return fmt.Errorf("checker labels: %w", err)
		}
	}
	if *sqlitePath != "" {
		d := &sqliteDB{src: *sqlitePath, work: filepath.Join(*workDir, "cleanupplans-work.sqlite")}
		if err := b.measure(ctx, d); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	if *pgDB != "" {
		server := dbconn.Target{Dialect: dbconn.Postgres, Host: *pgHost, Port: *pgPort, User: *pgUser, Password: os.Getenv("PGPASSWORD")}
		d := &pgDBs{server: server, src: *pgDB, work: *pgDB + "_plans"}
		if err := b.measure(ctx, d); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
	}
	b.print(os.Stdout)
	if len(b.mismatches) > 0 {
		return fmt.Errorf("variants removed different rows: %s", strings.Join(b.mismatches, "; "))
	}
	return nil
}

// database is one dialect's source database and its work copy.
type database interface {
	dialect() dbconn.Dialect
	// fresh makes the work copy anew from the source and opens it.
	fresh(ctx context.Context) (*sql.DB, error)
	// drop removes the work copy (db closed).
	drop(ctx context.Context) error
}

type sqliteDB struct{ src, work string }

func (d *sqliteDB) dialect() dbconn.Dialect { return dbconn.SQLite }

func (d *sqliteDB) fresh(ctx context.Context) (*sql.DB, error) {
	for _, sfx := range []string{"", "-journal", "-wal", "-shm"} {
		_ = os.Remove(d.work + sfx)
	}
	if err := copyFile(d.src, d.work); err != nil {
		return nil, err
	}
	// As the worker opens it.
	return dbconn.Open(ctx, dbconn.Target{Dialect: dbconn.SQLite, Path: d.work}, dbconn.Options{ImmediateTx: true})
}

func (d *sqliteDB) drop(context.Context) error { return os.Remove(d.work) }

type pgDBs struct {
	server    dbconn.Target
	src, work string
}

func (d *pgDBs) dialect() dbconn.Dialect { return dbconn.Postgres }

func (d *pgDBs) admin(ctx context.Context, q string) error {
	t := d.server
	t.Database = "postgres"
	db, err := dbconn.Open(ctx, t, dbconn.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, q)
	return err
}

func (d *pgDBs) fresh(ctx context.Context) (*sql.DB, error) {
	if err := d.drop(ctx); err != nil {
		return nil, err
	}
	if err := d.admin(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", quote(d.work), quote(d.src))); err != nil {
		return nil, err
	}
	t := d.server
	t.Database = d.work
	return dbconn.Open(ctx, t, dbconn.Options{})
}

func (d *pgDBs) drop(ctx context.Context) error {
	return d.admin(ctx, "DROP DATABASE IF EXISTS "+quote(d.work)+" WITH (FORCE)")
}

// The sweeps of internal/cleanup (routines.go), as data: the table and key
// swept, the referencing columns of its "unused" test, the cascades counted
// per batch, the columns it indexes for the time of its transaction, and
// the sweeps that run before it in a cleanup (in production form, untimed).
type (
	sweepDef struct {
		routine, name string
		table, key    string
		text          bool
		// on is the swept table's column the refs point at (key when "").
		on       string
		refs     []column
		cascades []column
		helpers  []column
		after    []string
	}
	column struct{ table, name string }
)

var sweeps = []sweepDef{
	{
		routine: "remove unused files", name: "files", table: "files", key: "id",
		refs:     []column{{"bug_path_events", "file_id"}, {"bug_report_points", "file_id"}, {"reports", "file_id"}},
		cascades: []column{{"extended_report_data", "file_id"}, {"source_component_files", "file_id"}},
		helpers:  []column{{"source_component_files", "file_id"}},
	},
	{
		routine: "remove unused files", name: "file_contents", table: "file_contents", key: "content_hash", text: true,
		refs:  []column{{"files", "content_hash"}},
		after: []string{"files"},
	},
	{
		routine: "remove unused comments", name: "comments", table: "comments", key: "id", on: "bug_hash",
		refs: []column{{"reports", "bug_id"}},
	},
	{
		routine: "remove unused analysis info", name: "analysis_info", table: "analysis_info", key: "id",
		refs:    []column{{"run_history_analysis_info", "analysis_info_id"}, {"report_analysis_info", "analysis_info_id"}},
		helpers: []column{{"run_history_analysis_info", "analysis_info_id"}, {"report_analysis_info", "analysis_info_id"}},
	},
	{
		routine: "remove unused checker sets", name: "checker_set", table: "checker_set", key: "id",
		refs:     []column{{"analysis_info", "checker_set_id"}},
		cascades: []column{{"checker_set_items", "checker_set_id"}},
		helpers:  []column{{"analysis_info", "checker_set_id"}},
		after:    []string{"analysis_info"},
	},
}

// target is the swept table's column the refs point at.
func (s sweepDef) target() string {
	if s.on != "" {
		return s.table + "." + s.on
	}
	return s.table + "." + s.key
}

func sweepNamed(name string) sweepDef {
	for _, s := range sweeps {
		if s.name == name {
			return s
		}
	}
	panic("no sweep " + name)
}

// A form is one way to write a sweep's statements: the SELECT of the next
// batch after the last key (started) and the DELETE of n keys that re-checks
// the condition.
type form struct {
	name string
	// only limits the form to one dialect ("" = both).
	only dbconn.Dialect
	next func(s sweepDef, started bool) string
	del  func(s sweepDef, n int) string
	// setup runs in the sweep's transaction before it (timed).
	setup []string
}

// condForm is a form whose test is one boolean condition on the swept
// table's row, used in both statements. recheck false deletes by the keys
// alone (only sound where nothing else can write between the two
// statements: SQLite's BEGIN IMMEDIATE).
func condForm(name string, only dbconn.Dialect, cond func(s sweepDef) string, recheck bool) form {
	return form{
		name: name, only: only,
		next: func(s sweepDef, started bool) string {
			where := cond(s)
			if started {
				where = s.key + " > ? AND " + where
			}
			return fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT ?", s.key, s.table, where, s.key)
		},
		del: func(s sweepDef, n int) string {
			q := fmt.Sprintf("DELETE FROM %s WHERE %s IN (%s)", s.table, s.key, placeholders(n))
			if recheck {
				q += " AND " + cond(s)
			}
			return q
		},
	}
}

func notExists(s sweepDef) string {
	parts := make([]string, len(s.refs))
	for i, r := range s.refs {
		parts[i] = fmt.Sprintf("NOT EXISTS (SELECT 1 FROM %s WHERE %s.%s = %s)", r.table, r.table, r.name, s.target())
	}
	return strings.Join(parts, " AND ")
}

// notIn is NULL-safe: a NULL key is unused, a NULL reference names nothing.
func notIn(s sweepDef) string {
	parts := make([]string, len(s.refs))
	for i, r := range s.refs {
		k := s.target()
		c := r.table + "." + r.name
		parts[i] = fmt.Sprintf("(%s IS NULL OR %s NOT IN (SELECT %s FROM %s WHERE %s IS NOT NULL))", k, k, c, r.table, c)
	}
	return strings.Join(parts, " AND ")
}

// leftJoin is the anti-join spelled as an outer join: a row with no match
// in any referencing table. A garbage row matches nothing, so it comes out
// once.
func leftJoin(s sweepDef, where string) string {
	var joins, nulls []string
	for i, r := range s.refs {
		a := fmt.Sprintf("r%d", i)
		joins = append(joins, fmt.Sprintf("LEFT JOIN %s %s ON %s.%s = %s", r.table, a, a, r.name, s.target()))
		nulls = append(nulls, fmt.Sprintf("%s.%s IS NULL", a, r.name))
	}
	return fmt.Sprintf("SELECT %s.%s FROM %s %s WHERE %s%s", s.table, s.key, s.table, strings.Join(joins, " "), where, strings.Join(nulls, " AND "))
}

var forms = []form{
	condForm("NOT EXISTS", "", notExists, true),
	condForm("NOT IN", "", notIn, true),
	{
		name: "LEFT JOIN IS NULL",
		next: func(s sweepDef, started bool) string {
			where := ""
			if started {
				where = s.table + "." + s.key + " > ? AND "
			}
			return leftJoin(s, where) + fmt.Sprintf(" ORDER BY %s.%s LIMIT ?", s.table, s.key)
		},
		del: func(s sweepDef, n int) string {
			return fmt.Sprintf("DELETE FROM %s WHERE %s IN (%s)", s.table, s.key, leftJoin(s, fmt.Sprintf("%s.%s IN (%s) AND ", s.table, s.key, placeholders(n))))
		},
	},
	condForm("NOT EXISTS + delete by keys", dbconn.SQLite, notExists, false),
	withSetup(condForm("NOT EXISTS + no parallel workers", dbconn.Postgres, notExists, true),
		"SET LOCAL max_parallel_workers_per_gather = 0"),
	withSetup(condForm("NOT EXISTS + no hash joins", dbconn.Postgres, notExists, true),
		"SET LOCAL enable_hashjoin = off", "SET LOCAL enable_mergejoin = off"),
}

func withSetup(f form, stmts ...string) form {
	f.setup = stmts
	return f
}

// outcome is what one run of a sweep removed: rows by key (the sweep's and
// its cascades') and a digest of the deleted keys in order.
type outcome struct {
	rows   map[string]int64
	digest uint64
}

func (o outcome) same(p outcome) bool {
	if o.digest != p.digest || len(o.rows) != len(p.rows) {
		return false
	}
	for k, v := range o.rows {
		if p.rows[k] != v {
			return false
		}
	}
	return true
}

func (o outcome) String() string {
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range o.rows {
			if !yield(k) {
				return
			}
		}
	})
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, o.rows[k])
	}
	return b.String()
}

type result struct {
	dialect        dbconn.Dialect
	routine, sweep string
	variant        string
	batch          int
	times, cpus    []time.Duration
	// first is the untimed first run; slow: over slowFactor times the
	// fastest first run of its sweep, so not repeated (its first run is
	// reported).
	first, firstCPU time.Duration
	slow            bool
	// timedOut: stopped after limit.
	timedOut          bool
	limit             time.Duration
	out               outcome
	same              bool
	production, whole bool
}

type bench struct {
	reps, wholeReps int
	sizes           []int
	timeout         time.Duration
	labels          *labels.Labels
	sweeps, forms   map[string]bool
	results         []*result
	mismatches      []string
}

// measure runs every variant of every sweep on one dialect, then the whole
// cleanup.
func (b *bench) measure(ctx context.Context, d database) error {
	dia := d.dialect()
	fmt.Fprintf(os.Stderr, "%s: making the work copy\n", dia)
	db, err := d.fresh(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = d.drop(context.WithoutCancel(ctx)) }()
	defer db.Close()
	// connect gets a connection of the pool, again after a variant was
	// stopped (pgx closes a connection whose query was cancelled).
	var conn *sql.Conn
	connect := func() error {
		if conn != nil {
			_ = conn.Close()
		}
		var err error
		if conn, err = db.Conn(ctx); err != nil {
			return err
		}
		if dia == dbconn.SQLite {
			_, err = conn.ExecContext(ctx, "PRAGMA foreign_keys = ON")
		}
		return err
	}
	if err := connect(); err != nil {
		return err
	}
	for _, s := range sweeps {
		if b.sweeps != nil && !b.sweeps[s.name] {
			continue
		}
		var mine []*result
		for _, f := range forms {
			if f.only != "" && f.only != dia || b.forms != nil && !b.forms[f.name] {
				continue
			}
			sizes := []int{productionBatch(dia)}
			if f.name == productionForm(dia) {
				sizes = b.sizes
			}
			for _, n := range sizes {
				if dia == dbconn.SQLite && n > 30000 {
					continue // over SQLite's bound-parameter limit
				}
				mine = append(mine, &result{dialect: dia, routine: s.routine, sweep: s.name, variant: f.name, batch: n, production: f.name == productionForm(dia) && n == productionBatch(dia)})
			}
		}
		// One untimed run first (caches), then the runs round-robin, so
		// that the machine's noise spreads over all variants alike.
		for rep := 0; rep <= b.reps; rep++ {
			if rep == 1 {
				b.dropSlow(mine)
			}
			for _, r := range mine {
				if r.timedOut || r.slow {
					continue
				}
				f := formNamed(r.variant)
				limit := b.limit(mine)
				took, used, out, err := b.runSweep(ctx, conn, dia, s, f, r.batch, limit)
				if errors.Is(err, context.DeadlineExceeded) {
					r.timedOut, r.limit = true, limit
					fmt.Fprintf(os.Stderr, "%s %s %s batch %d: over %s, not run again\n", dia, s.name, r.variant, r.batch, limit)
					if err := connect(); err != nil {
						return err
					}
					continue
				}
				if err != nil {
					return fmt.Errorf("%s, %s, batch %d: %w", s.name, r.variant, r.batch, err)
				}
				fmt.Fprintf(os.Stderr, "%s %s %s batch %d: %s, CPU %s (%s)\n", dia, s.name, r.variant, r.batch, took.Round(time.Millisecond), used.Round(time.Millisecond), out)
				if rep == 0 {
					r.first, r.firstCPU = took, used
				} else {
					r.times = append(r.times, took)
					r.cpus = append(r.cpus, used)
				}
				r.out = out
			}
		}
		// The production form is the reference, or the first that finished.
		var ref *result
		for _, r := range mine {
			if !r.timedOut && (ref == nil || r.production) {
				ref = r
			}
		}
		if ref == nil {
			return fmt.Errorf("%s: every variant was stopped", s.name)
		}
		for _, r := range mine {
			r.same = r.timedOut || r.out.same(ref.out)
			if !r.same {
				b.mismatches = append(b.mismatches, fmt.Sprintf("%s %s %s batch %d: %s, production form: %s", dia, s.name, r.variant, r.batch, r.out, ref.out))
			}
		}
		b.results = append(b.results, mine...)
	}
	conn.Close()
	db.Close()
	if b.wholeReps == 0 {
		return nil
	}
	return b.measureWhole(ctx, d)
}

// slowFactor: a variant whose first run took more than this many times the
// fastest first run of the same sweep is not run again (the table keeps its
// first run): it has lost, and repeating it would cost most of the time.
const slowFactor = 3

func (b *bench) dropSlow(rs []*result) {
	var best time.Duration
	for _, r := range rs {
		if !r.timedOut && (best == 0 || r.first < best) {
			best = r.first
		}
	}
	for _, r := range rs {
		if !r.timedOut && !r.production && r.first > slowFactor*best && best > 50*time.Millisecond {
			r.slow = true
			r.times, r.cpus = []time.Duration{r.first}, []time.Duration{r.firstCPU}
			fmt.Fprintf(os.Stderr, "%s %s %s batch %d: over %dx the fastest, not run again\n", r.dialect, r.sweep, r.variant, r.batch, slowFactor)
		}
	}
}

// limit is how long the next run of a sweep may take: --timeout, or once
// some variant of the sweep finished, (slowFactor+1) times the fastest first
// run (at least minStop): a variant that slow would not be repeated anyway.
func (b *bench) limit(rs []*result) time.Duration {
	const minStop = 2 * time.Second
	var best time.Duration
	for _, r := range rs {
		if r.first > 0 && (best == 0 || r.first < best) {
			best = r.first
		}
	}
	if best == 0 {
		return b.timeout
	}
	return min(b.timeout, max(minStop, (slowFactor+1)*best))
}

// productionForm and productionBatch are what internal/cleanup runs today
// on each dialect (kept in step with sql_<dialect>.go by hand: the whole
// cleanup's row, cleanup.Run itself, is the check).
func productionForm(d dbconn.Dialect) string {
	return "NOT EXISTS"
}

func productionBatch(d dbconn.Dialect) int {
	if d == dbconn.Postgres {
		return 60000
	}
	return cleanup.DefaultBatchSize
}

func formNamed(name string) form {
	for _, f := range forms {
		if f.name == name {
			return f
		}
	}
	panic("no form " + name)
}

// runSweep runs sweep s in form f with batch size n inside a transaction it
// rolls back, after the sweeps s runs after (production form, untimed).
func (b *bench) runSweep(ctx context.Context, conn *sql.Conn, dia dbconn.Dialect, s sweepDef, f form, n int, limit time.Duration) (time.Duration, time.Duration, outcome, error) {
	begin := "BEGIN"
	if dia == dbconn.SQLite {
		begin = "BEGIN IMMEDIATE"
	}
	if _, err := conn.ExecContext(ctx, begin); err != nil {
		return 0, 0, outcome{}, err
	}
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") }()
	t := &txn{conn: conn, dia: dia}
	for _, name := range s.after {
		pre := sweepNamed(name)
		if err := t.helpers(ctx, pre.helpers); err != nil {
			return 0, 0, outcome{}, err
		}
		if _, err := t.sweep(ctx, pre, formNamed(productionForm(dia)), productionBatch(dia)); err != nil {
			return 0, 0, outcome{}, fmt.Errorf("%s before: %w", name, err)
		}
	}
	if err := t.flushDeferred(ctx); err != nil {
		return 0, 0, outcome{}, err
	}
	// The helper indexes cost the same in every variant: built untimed.
	if err := t.helpers(ctx, s.helpers); err != nil {
		return 0, 0, outcome{}, err
	}
	cpu, err := cpuMeter(ctx, conn, dia)
	if err != nil {
		return 0, 0, outcome{}, err
	}
	cpu0 := cpu()
	tctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	start := time.Now()
	for _, q := range f.setup {
		if _, err := conn.ExecContext(tctx, q); err != nil {
			return 0, 0, outcome{}, err
		}
	}
	out, err := t.sweep(tctx, s, f, n)
	if err == nil {
		err = t.flushDeferred(tctx)
	}
	took, used := time.Since(start), cpu()-cpu0
	if err != nil && tctx.Err() != nil {
		return took, used, out, context.DeadlineExceeded
	}
	return took, used, out, err
}

// cpuMeter returns a clock of the CPU time the database spends on conn's
// work: this process's (SQLite runs in it), or the PostgreSQL backend's of
// conn (the server is local; its parallel workers are not counted).
func cpuMeter(ctx context.Context, conn *sql.Conn, dia dbconn.Dialect) (func() time.Duration, error) {
	if dia == dbconn.SQLite {
		return func() time.Duration {
			var ru syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}, nil
	}
	var pid int
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		return nil, err
	}
	stat := fmt.Sprintf("/proc/%d/stat", pid)
	return func() time.Duration {
		raw, err := os.ReadFile(stat)
		if err != nil {
			return 0
		}
		// Fields after the command's closing parenthesis: state is the
		// first, utime and stime the 12th and 13th (clock ticks of 10 ms).
		f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		if len(f) < 13 {
			return 0
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		k, _ := strconv.ParseInt(f[12], 10, 64)
		return time.Duration(u+k) * 10 * time.Millisecond
	}, nil
}

type txn struct {
	conn *sql.Conn
	dia  dbconn.Dialect
}

func (t *txn) q(s string) string { return dbconn.Rebind(t.dia, s) }

// flushDeferred fires the deferred foreign-key actions now, as the commit
// would (PostgreSQL; SQLite runs its actions at once).
func (t *txn) flushDeferred(ctx context.Context) error {
	if t.dia != dbconn.Postgres {
		return nil
	}
	if _, err := t.conn.ExecContext(ctx, "SET CONSTRAINTS ALL IMMEDIATE"); err != nil {
		return err
	}
	_, err := t.conn.ExecContext(ctx, "SET CONSTRAINTS ALL DEFERRED")
	return err
}

// helpers creates the indexes of cols that no index leads with, as the
// cleanup does inside its transaction (rolled back with it).
func (t *txn) helpers(ctx context.Context, cols []column) error {
	for _, c := range cols {
		var has bool
		q := `SELECT EXISTS (SELECT 1 FROM pragma_index_list(?) AS il, pragma_index_info(il.name) AS ii WHERE ii.seqno = 0 AND ii.name = ?)`
		if t.dia == dbconn.Postgres {
			q = `SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
				WHERE i.indrelid = to_regclass(?) AND a.attname = ?)`
		}
		if err := t.conn.QueryRowContext(ctx, t.q(q), c.table, c.name).Scan(&has); err != nil {
			return err
		}
		if has {
			continue
		}
		if _, err := t.conn.ExecContext(ctx, fmt.Sprintf("CREATE INDEX %s ON %s (%s)", quote("tmp_plans_"+c.table+"_"+c.name), c.table, c.name)); err != nil {
			return err
		}
	}
	return nil
}

// sweep is cleanup's sweep.run in form f: keyset batches of n keys, the
// cascades counted per batch, the delete by the keys.
func (t *txn) sweep(ctx context.Context, s sweepDef, f form, n int) (outcome, error) {
	out := outcome{rows: map[string]int64{s.table: 0}}
	for _, c := range s.cascades {
		out.rows[c.table] = 0
	}
	h := fnv.New64a()
	var last any
	started := false
	for {
		args := []any{}
		if started {
			args = append(args, last)
		}
		args = append(args, n)
		keys, err := t.keys(ctx, f.next(s, started), s.text, args)
		if err != nil {
			return out, fmt.Errorf("select: %w", err)
		}
		if len(keys) == 0 {
			break
		}
		for _, k := range keys {
			fmt.Fprintf(h, "%v\n", k)
		}
		for _, c := range s.cascades {
			var m int64
			q := fmt.Sprintf("SELECT count(*) FROM %s WHERE %s IN (%s)", c.table, c.name, placeholders(len(keys)))
			if err := t.conn.QueryRowContext(ctx, t.q(q), keys...).Scan(&m); err != nil {
				return out, fmt.Errorf("count %s: %w", c.table, err)
			}
			out.rows[c.table] += m
		}
		res, err := t.conn.ExecContext(ctx, t.q(f.del(s, len(keys))), keys...)
		if err != nil {
			return out, fmt.Errorf("delete: %w", err)
		}
		m, err := res.RowsAffected()
		if err != nil {
			return out, err
		}
		out.rows[s.table] += m
		if len(keys) < n {
			break
		}
		last, started = keys[len(keys)-1], true
	}
	out.digest = h.Sum64()
	return out, nil
}

func (t *txn) keys(ctx context.Context, q string, text bool, args []any) ([]any, error) {
	rows, err := t.conn.QueryContext(ctx, t.q(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []any
	for rows.Next() {
		if text {
			var k string
			if err := rows.Scan(&k); err != nil {
				return nil, err
			}
			keys = append(keys, k)
		} else {
			var k int64
			if err := rows.Scan(&k); err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
	}
	return keys, rows.Err()
}

// measureWhole runs cleanup.Run, as the worker does, on fresh copies, and
// records the whole run and each routine (from its routine_done line).
func (b *bench) measureWhole(ctx context.Context, d database) error {
	dia := d.dialect()
	whole := &result{dialect: dia, routine: "whole cleanup", sweep: "(all)", variant: "cleanup.Run", batch: productionBatch(dia), whole: true, same: true}
	perRoutine := map[string]*result{}
	var order []string
	for rep := 0; rep < b.wholeReps; rep++ {
		db, err := d.fresh(ctx)
		if err != nil {
			return err
		}
		var logs bytes.Buffer
		log := hclog.New(&hclog.LoggerOptions{Output: &logs, JSONFormat: true, Level: hclog.Info})
		start := time.Now()
		got, err := cleanup.Run(ctx, db, cleanup.Options{Dialect: dia, Labels: b.labels, Logger: log})
		took := time.Since(start)
		db.Close()
		if err != nil {
			return fmt.Errorf("cleanup.Run: %w", err)
		}
		whole.times = append(whole.times, took)
		whole.out = outcome{rows: got}
		fmt.Fprintf(os.Stderr, "%s whole cleanup: %s\n", dia, took.Round(time.Millisecond))
		sc := bufio.NewScanner(&logs)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var fields map[string]json.RawMessage
			if json.Unmarshal(sc.Bytes(), &fields) != nil {
				continue
			}
			e, ok := event.Decode(time.Time{}, fields)
			if !ok || e.Kind != event.RoutineDone {
				continue
			}
			r := perRoutine[e.Routine]
			if r == nil {
				r = &result{dialect: dia, routine: e.Routine, sweep: "(routine)", variant: "cleanup.Run", batch: productionBatch(dia), whole: true, same: true}
				perRoutine[e.Routine] = r
				order = append(order, e.Routine)
			}
			r.times = append(r.times, e.Duration)
			r.out = outcome{rows: nonZero(e.Rows)}
		}
	}
	for _, name := range order {
		b.results = append(b.results, perRoutine[name])
	}
	b.results = append(b.results, whole)
	return nil
}

func nonZero(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func (b *bench) print(w io.Writer) {
	fmt.Fprintf(w, "| Dialect | Routine | Sweep | Variant | Batch | Wall, median | CPU, median | Wall of each run | Rows removed | Same rows |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range b.results {
		med, cpu := "—", "—"
		runs := ""
		if len(r.cpus) > 0 {
			cpu = fmtDur(median(r.cpus))
		}
		if r.timedOut {
			med = "> " + r.limit.Round(time.Millisecond).String()
			runs = "stopped"
		} else if len(r.times) > 0 {
			med = fmtDur(median(r.times))
			ts := make([]string, len(r.times))
			for i, t := range r.times {
				ts[i] = fmtDur(t)
			}
			runs = strings.Join(ts, " ")
			if r.slow {
				runs += fmt.Sprintf(" (1 run: over %dx the fastest)", slowFactor)
			}
		}
		variant := r.variant
		if r.production {
			variant += " (production)"
		}
		same := "yes"
		if !r.same {
			same = "**NO**"
		}
		if r.whole {
			same = "—"
		}
		rows := r.out.String()
		if r.timedOut {
			rows = "—"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %d | %s | %s | %s | %s | %s |\n", r.dialect, r.routine, r.sweep, variant, r.batch, med, cpu, runs, rows, same)
	}
}

func median(ts []time.Duration) time.Duration {
	s := slices.Clone(ts)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtDur(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("--batches: %q is not a batch size", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// list is the set of a comma-separated flag's values; nil when empty.
func list(s string) map[string]bool {
	if s == "" {
		return nil
	}
	out := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		out[strings.TrimSpace(f)] = true
	}
	return out
}

func atoi(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
