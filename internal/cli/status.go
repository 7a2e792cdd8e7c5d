package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	amigrate "ariga.io/atlas/sql/migrate"
	"github.com/spf13/pflag"

	"supervisor/internal/dbconn"
	"supervisor/internal/logging"
	"supervisor/internal/migrate"
	"supervisor/internal/registry"
	"supervisor/internal/status"
	"supervisor/schema"
)

// productState is one row of the status table; --json prints the same data.
type productState struct {
	Endpoint       string        `json:"endpoint"`
	Status         status.Status `json:"status"`
	Message        string        `json:"message"`
	Location       string        `json:"location"`
	DBVersion      string        `json:"db_version"`
	PackageVersion string        `json:"package_version"`
	UpToDate       bool          `json:"up_to_date"`
	Reason         string        `json:"reason,omitempty"`

	inspected migrate.State // what an upgrade would do
}

func runStatus(ctx context.Context, g *globals, args []string) error {
	fs := pflag.NewFlagSet("status", pflag.ContinueOnError)
	jobs := fs.IntP("jobs", "j", runtime.NumCPU(), "check `N` products at a time")
	var selected []string
	fs.StringArrayVar(&selected, "product", nil, "check product `ENDPOINT` only (repeatable; never widens to all)")
	asJSON := fs.Bool("json", false, "print the table as JSON")
	timeout := fs.Duration("connect-timeout", dbconn.DefaultConnectTimeout, "give up connecting to a PostgreSQL server after `DUR`")
	lockTimeout := fs.Duration("lock-timeout", 10*time.Second, "give up waiting for a SQLite product another process has locked after `DUR`")
	if err := g.parse("status", "status [-j N] [--product E]... [--json] [--connect-timeout DUR] [--lock-timeout DUR]", fs, args); err != nil {
		return err
	}
	if *jobs < 1 {
		return usagef("status: -j must be at least 1")
	}
	if fs.NArg() != 0 {
		return usagef("status: unexpected arguments %v (to check one product: --product ENDPOINT)", fs.Args())
	}
	products, cfg, err := g.readProducts(ctx, selected)
	if err != nil {
		return err
	}
	if cfg.state.Status != status.OK {
		g.log.Warn("config database schema mismatch! Possible to upgrade: run 'supervisor migrate'", "location", cfg.location,
			"database_version", cfg.state.DBVersion, "package_version", cfg.state.PackageVersion)
	}
	states := checkProductsWith(ctx, g, products, *jobs, checkTimeouts{connect: *timeout, lock: *lockTimeout})
	if *asJSON {
		if err := printJSON(g.env.Stdout, states); err != nil {
			return err
		}
	} else {
		printStatusTable(g.env.Stdout, states)
	}
	for _, s := range states {
		if s.Status != status.OK {
			return errFailed
		}
	}
	return nil
}

// checkTimeouts bound one product's check: connecting to a PostgreSQL
// server, and waiting for a SQLite database another process has locked.
type checkTimeouts struct{ connect, lock time.Duration }

// checkProducts inspects every product in-process, n at a time (status is
// read-only and must stay fast; migrate and cleanup use worker processes),
// waiting as long for a lock as for a connection.
func checkProducts(ctx context.Context, g *globals, products []registry.Product, n int, timeout time.Duration) []productState {
	return checkProductsWith(ctx, g, products, n, checkTimeouts{connect: timeout, lock: timeout})
}

// checkProductsWith is checkProducts with a lock timeout of its own.
func checkProductsWith(ctx context.Context, g *globals, products []registry.Product, n int, timeout checkTimeouts) []productState {
	out := make([]productState, len(products))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, p := range products {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = checkProduct(ctx, g, p, timeout)
			if out[i].Reason != "" && out[i].Status != status.OK {
				g.logs.Product(p.Endpoint).Warn(out[i].Status.Message() + " " + out[i].Reason)
			}
		}()
	}
	wg.Wait()
	return out
}

func checkProduct(ctx context.Context, g *globals, p registry.Product, timeout checkTimeouts) productState {
	st := productState{Endpoint: p.Endpoint, Location: registry.Location(p.Target)}
	if v, err := migrate.LatestVersion(schema.Product, p.Target.Dialect); err == nil {
		st.PackageVersion = v
	}
	set := func(s status.Status, reason string) productState {
		st.Status, st.Message, st.Reason = s, s.Message(), reason
		st.UpToDate = s == status.OK
		return st
	}
	if p.Err != nil {
		// An unreadable registry row, or a database an earlier product uses:
		// this product fails, the others go on.
		if p.Target.Dialect == "" {
			st.Location = p.Connection
		}
		return set(status.FailedToConnect, p.Err.Error())
	}
	t := p.Target
	pw, err := g.password(p)
	if err != nil {
		return set(status.FailedToConnect, err.Error())
	}
	t.Password = pw.Value
	// LockTimeout bounds, on PostgreSQL, a catalog read waiting behind
	// another session's DDL as BusyTimeout bounds a wait for SQLite's lock.
	ms, err := inspectProduct(ctx, t, dbconn.Options{ReadOnly: true, ConnectTimeout: timeout.connect, BusyTimeout: timeout.lock, LockTimeout: timeout.lock, FailIfLocked: t.Dialect == dbconn.SQLite})
	if dbconn.IsLocked(err) {
		// Another process (a supervisor migrating or cleaning it, CodeChecker's
		// server writing) holds the file: say so before waiting for it, as
		// long as the lock timeout, not forever.
		g.logs.Product(p.Endpoint).Info("the database is locked by another process; waiting for it", "lock_timeout", timeout.lock.String())
		start := time.Now()
		ms, err = inspectProduct(ctx, t, dbconn.Options{ReadOnly: true, ConnectTimeout: timeout.connect, BusyTimeout: timeout.lock})
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
		return set(status.FailedToConnect, withPasswordHint(logging.OneLine(dbconn.Explain(err, timeout.lock).Error()), pw))
	}
	st.DBVersion, st.inspected = ms.DBVersion, ms
	return set(ms.Status, ms.Reason)
}

// inspectProduct opens the product database t with o and reads where it stands.
func inspectProduct(ctx context.Context, t dbconn.Target, o dbconn.Options) (migrate.State, error) {
	db, err := dbconn.Open(ctx, t, o)
	if err != nil {
		return migrate.State{}, err
	}
	defer db.Close()
	return migrate.Inspect(ctx, db, t.Dialect, schema.Product)
}

// printStatusTable prints CodeChecker's status table, rows by endpoint.
func printStatusTable(w io.Writer, states []productState) {
	rows := [][]string{{"Product endpoint", "Database status", "Database location", "Schema version in the database", "Schema version in the package"}}
	for _, s := range states {
		dbv := s.DBVersion
		if dbv == "" {
			dbv = "-"
		}
		if s.UpToDate {
			dbv += " (up to date)"
		}
		rows = append(rows, []string{s.Endpoint, s.Message, s.Location, dbv, s.PackageVersion})
	}
	printTable(w, rows)
}

// printTable prints rows with aligned " | " separated columns; row 0 is the header.
func printTable(w io.Writer, rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	line := func(r []string) {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = c + strings.Repeat(" ", widths[i]-len([]rune(c)))
		}
		fmt.Fprintln(w, strings.TrimRight(strings.Join(cells, " | "), " "))
	}
	rule := make([]string, len(widths))
	for i, n := range widths {
		rule[i] = strings.Repeat("-", n)
	}
	sep := strings.Join(rule, "-+-")
	fmt.Fprintln(w, sep)
	line(rows[0])
	fmt.Fprintln(w, sep)
	for _, r := range rows[1:] {
		line(r)
	}
	fmt.Fprintln(w, sep)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// allFiles are the packaged product files, for a database that does not exist yet.
func allFiles(dialect dbconn.Dialect) ([]amigrate.File, error) {
	dir, err := migrate.Dir(schema.Product, dialect)
	if err != nil {
		return nil, err
	}
	return dir.Files()
}
