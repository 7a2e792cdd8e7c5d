// Package report renders what a pass found and did for the operator: the
// status table, the migrate and cleanup summaries, the offline plans, and
// JSON. It formats typed outcomes (package pass); it reads no log text.
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"supervisor/internal/buildinfo"
	"supervisor/internal/dbconn"
	"supervisor/internal/migrate"
	"supervisor/internal/pass"
	"supervisor/internal/registry"
	"supervisor/internal/status"
	"supervisor/schema"
)

// Status prints CodeChecker's status table, rows by endpoint.
func Status(w io.Writer, states []pass.State) {
	rows := [][]string{{"Product endpoint", "Database status", "Database location", "Schema version in the database", "Schema version in the package"}}
	for _, s := range states {
		dbv := Dash(s.DBVersion)
		if s.UpToDate {
			dbv += " (up to date)"
		}
		rows = append(rows, []string{s.Endpoint, s.Message, s.Location, dbv, s.PackageVersion})
	}
	Table(w, rows)
	// status --drift: what differs, under the table, one line each.
	for _, s := range states {
		if len(s.Drift) > 0 {
			fmt.Fprintf(w, "[%s] drift from the packaged schema at %s:\n", s.Endpoint, s.DBVersion)
			for _, d := range s.Drift {
				fmt.Fprintf(w, "[%s]   %s\n", s.Endpoint, d)
			}
		}
	}
}

// Plans prints what migrate --dry-run (sql false) or --sql would run, per
// product.
func Plans(w io.Writer, plans []pass.Plan, sql bool) {
	for _, pl := range plans {
		st, p := pl.State, pl.Product
		if sql {
			if len(pl.Files) == 0 {
				fmt.Fprintf(w, "-- [%s] %s\n", p.Endpoint, st.Message)
				continue
			}
			fmt.Fprintf(w, "-- [%s] %s: from %s to %s\n", p.Endpoint, registry.Location(p.Target), Dash(st.DBVersion), st.PackageVersion)
			for _, pf := range pl.Files {
				fmt.Fprintf(w, "-- [%s] version %s (%s)%s\n", p.Endpoint, pf.Version, pf.Description, planNote(pf))
				for _, s := range pf.Statements {
					fmt.Fprintln(w, strings.TrimRight(s, ";\n ")+";")
				}
			}
			continue
		}
		switch {
		case len(pl.Files) > 0:
			fmt.Fprintf(w, "[%s] %d pending file(s), from %s to %s:\n", p.Endpoint, len(pl.Files), Dash(st.DBVersion), st.PackageVersion)
			for _, pf := range pl.Files {
				fmt.Fprintf(w, "[%s]   %s  %-28s %d statement(s)%s\n", p.Endpoint, pf.Version, pf.Description, len(pf.Statements), planNote(pf))
			}
		default:
			msg := st.Message
			if st.Reason != "" {
				msg += " " + st.Reason
			}
			fmt.Fprintf(w, "[%s] %s\n", p.Endpoint, msg)
		}
	}
}

func planNote(pf migrate.PlannedFile) string {
	if pf.Baseline {
		return ": CodeChecker's schema, recorded as a baseline, not executed"
	}
	return ""
}

// Table prints rows with aligned " | " separated columns; row 0 is the header.
func Table(w io.Writer, rows [][]string) {
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

// JSON prints v as indented JSON.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Dash is s, or "-" for nothing.
func Dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ProductRow is one product in 'products list --json'.
type ProductRow struct {
	Endpoint    string `json:"endpoint"`
	DisplayName string `json:"display_name"`
	Description string `json:"description,omitempty"`
	Dialect     string `json:"dialect"`
	Location    string `json:"location"`
	PasswordEnv string `json:"password_env,omitempty"`
	// Error says why the product cannot be worked on; Connection is its
	// stored URL (password masked) when that cannot be read at all.
	Connection string `json:"connection,omitempty"`
	Error      string `json:"error,omitempty"`
	// Status is where the database stands (--status only), as status
	// names it; StatusReason says why, when the status has a reason.
	Status       status.Status `json:"status,omitempty"`
	StatusReason string        `json:"status_reason,omitempty"`
}

// Products prints the registry (products list), as JSON when asJSON.
// states, when not nil, are the products' states in the same order
// (--status): a Status column, and the status fields in JSON.
func Products(w io.Writer, products []registry.Product, states []pass.State, asJSON bool) error {
	rows := make([]ProductRow, 0, len(products))
	for i, p := range products {
		row := ProductRow{Endpoint: p.Endpoint, DisplayName: p.DisplayName, Description: p.Description, PasswordEnv: p.PasswordEnv}
		if p.Target.Dialect.Valid() {
			row.Dialect, row.Location = p.Target.Dialect.String(), registry.Location(p.Target)
		} else {
			row.Connection = p.Connection // unreadable: what is stored
		}
		if p.Err != nil {
			row.Error = p.Err.Error()
		}
		if states != nil {
			row.Status, row.StatusReason = states[i].Status, states[i].Reason
		}
		rows = append(rows, row)
	}
	if asJSON {
		return JSON(w, rows)
	}
	head := []string{"Endpoint", "Display name", "Database", "Location", "Description"}
	if states != nil {
		head = slices.Insert(head, 4, "Status")
	}
	table := [][]string{head}
	for _, r := range rows {
		cells := []string{r.Endpoint, r.DisplayName, r.Dialect, r.Location, r.Description}
		if r.Error != "" {
			cells = []string{r.Endpoint, r.DisplayName, Dash(r.Dialect), r.Location + r.Connection, "UNUSABLE: " + r.Error}
		}
		if states != nil {
			cells = slices.Insert(cells, 4, string(r.Status))
		}
		table = append(table, cells)
	}
	Table(w, table)
	return nil
}

// Version prints the supervisor's version and the packaged schema versions.
func Version(w io.Writer) error {
	fmt.Fprintf(w, "supervisor %s\n", buildinfo.Version)
	for _, kind := range []schema.Kind{schema.Config, schema.Product} {
		for _, d := range dbconn.Dialects {
			v, err := migrate.LatestVersion(kind, d)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s schema (%s): %s (CodeChecker %s = 001)\n", kind, d, v, kind.CodeCheckerHead())
		}
	}
	return nil
}

// StatusAfter prints the status table after a run; with once (up), not
// when it reads as the table before it.
func StatusAfter(w io.Writer, before, after []pass.State, once bool) {
	var a, b bytes.Buffer
	Status(&a, after)
	if once {
		Status(&b, before)
		if bytes.Equal(a.Bytes(), b.Bytes()) {
			return
		}
	}
	_, _ = w.Write(a.Bytes())
}

// UpDone is up's closing line: how many of the products are up to date, and
// whether any needs attention.
func UpDone(w io.Writer, upToDate, total int, failed bool) {
	verdict := "every product is up to date and cleaned"
	if failed {
		verdict = "some products need attention (see above)"
	}
	fmt.Fprintf(w, "Start-up sequence done: %d of %d products up to date; %s.\n", upToDate, total, verdict)
}

// History prints each product's applied files, a table per product (a
// product whose revisions could not be read says why), or with asJSON one
// document {"products": [...]} (pass.History).
func History(w io.Writer, hs []pass.History, asJSON bool) error {
	if asJSON {
		return JSON(w, struct {
			Products []pass.History `json:"products"`
		}{hs})
	}
	for i, h := range hs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s:\n", h.Endpoint)
		switch {
		case h.Error != "":
			fmt.Fprintf(w, "  cannot read its revisions: %s\n", h.Error)
			continue
		case len(h.Revisions) == 0:
			fmt.Fprintln(w, "  no revisions recorded")
			continue
		}
		table := [][]string{{"Version", "Description", "Type", "Executed at", "Duration", "Hash", "Operator"}}
		for _, r := range h.Revisions {
			table = append(table, []string{r.Version, r.Description, r.Type, r.ExecutedAt.UTC().Format(time.RFC3339),
				duration(time.Duration(r.DurationMS) * time.Millisecond), Dash(r.Hash), Dash(r.Operator)})
		}
		Table(w, table)
	}
	return nil
}
