package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"supervisor/internal/cleanup"
	"supervisor/internal/logging"
	"supervisor/internal/pass"
)

// MigrateSummary prints one line per product that needed an upgrade, then
// the Failures section. The Result column holds the outcome word only, so
// that the table fits 120 columns; a reason goes under the table.
func MigrateSummary(w io.Writer, rows []pass.MigrateRow) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "Summary: every product was already up to date.")
		return
	}
	table := [][]string{{"Product endpoint", "From", "To", "Files applied", "Duration", "Result"}}
	var failures []Failure
	for _, r := range rows {
		table = append(table, []string{r.Endpoint, Dash(r.From), Dash(r.To), fmt.Sprint(r.Applied), duration(r.Duration), Cell(r.Outcome, r.Reason)})
		failures = append(failures, Failure{Endpoint: r.Endpoint, Outcome: r.Outcome, Reason: r.Reason, LastOutput: r.LastOutput})
	}
	fmt.Fprintln(w, "Summary:")
	Table(w, table)
	Failures(w, failures)
}

// cleanupColumns are the columns of the cleanup summary: the count of each
// parent table a routine removes from, under a short header, so that the
// table fits 120 columns. The rows the database's ON DELETE CASCADE removed
// along with them (extended_report_data and source_component_files with
// files, checker_set_items with checker_set) are left out here; --json and
// each routine's log line have every count by its key.
var cleanupColumns = []struct{ header, key string }{
	{"Locks", cleanup.KeyRunLocks},
	{"Files", cleanup.KeyFiles},
	{"Contents", cleanup.KeyFileContents},
	{"Comments", cleanup.KeyComments},
	{"Analysis", cleanup.KeyAnalysisInfo},
	{"Sets", cleanup.KeyCheckerSet},
	{"Severity", cleanup.KeySeverities},
}

// CleanupSummary prints what was removed per product, in endpoint order
// (for a dry run, what would be removed), then the Failures section.
func CleanupSummary(w io.Writer, rep pass.CleanupReport) {
	rows := rep.Rows
	header := []string{"Product endpoint"}
	for _, c := range cleanupColumns {
		header = append(header, c.header)
	}
	header = append(header, "Duration", "Result")
	table := [][]string{header}
	var failures []Failure
	for _, r := range rows {
		line := []string{r.Endpoint}
		for _, c := range cleanupColumns {
			line = append(line, count(r.Removed, c.key))
		}
		line = append(line, duration(r.Duration), Cell(r.Outcome, r.Reason))
		table = append(table, line)
		failures = append(failures, Failure{Endpoint: r.Endpoint, Outcome: r.Outcome, Reason: r.Reason, LastOutput: r.LastOutput})
	}
	if rep.DryRun {
		fmt.Fprintln(w, "Garbage collection dry run: what would be removed or changed (nothing was written):")
	} else {
		fmt.Fprintln(w, "Garbage collection summary:")
	}
	Table(w, table)
	Failures(w, failures)
}

// count is removed[key] for a table cell, "-" when the worker said nothing.
func count(removed map[string]int64, key string) string {
	if removed == nil {
		return "-"
	}
	return fmt.Sprint(removed[key])
}

func duration(d time.Duration) string { return d.Round(time.Millisecond).String() }

// Cell is the Result column of a summary: the outcome word, and for a
// skipped product why in one word (fail-fast, interrupted).
func Cell(o pass.Outcome, reason string) string {
	if o != pass.Skipped {
		return string(o)
	}
	switch {
	case strings.Contains(reason, "fail-fast"):
		return "skipped (fail-fast)"
	case strings.Contains(reason, "interrupted"):
		return "skipped (interrupted)"
	case strings.Contains(reason, "a canary failed"):
		return "skipped (canary failed)"
	case strings.Contains(reason, "of stage"):
		return "skipped (stage failed)"
	}
	return string(o)
}

// Failure is one product's block in the Failures section.
type Failure struct {
	Endpoint   string
	Outcome    pass.Outcome
	Reason     string
	LastOutput []string
}

// Failures prints, under a summary table, one block per product that failed
// or was not attempted: "  [endpoint] word: reason", then the worker's last
// output lines indented. A declined or skipped product says all in its
// Result cell and has no block. Nothing is printed when no block is due.
func Failures(w io.Writer, fs []Failure) {
	header := false
	for _, f := range fs {
		if f.Outcome != pass.Failed && f.Outcome != pass.NotAttempted {
			continue
		}
		if !header {
			fmt.Fprintln(w, "Failures:")
			header = true
		}
		reason := f.Reason
		if reason == "" {
			reason = "no reason given"
		}
		fmt.Fprintf(w, "  [%s] %s: %s\n", f.Endpoint, f.Outcome, logging.Printable(reason))
		if len(f.LastOutput) > 0 {
			fmt.Fprintln(w, "      last worker output:")
			for _, l := range f.LastOutput {
				fmt.Fprintf(w, "        %s\n", logging.Printable(l))
			}
		}
	}
}

// TotalsLine prints the line an action command ends with:
// "Totals: 5 products: 3 ok, 1 failed, 1 declined." (ok always, the other
// words when they occur).
func TotalsLine(w io.Writer, t Totals) {
	noun := "products"
	if t.Products == 1 {
		noun = "product"
	}
	parts := []string{fmt.Sprintf("%d ok", t.OK)}
	for _, c := range []struct {
		n    int
		word pass.Outcome
	}{{t.Failed, pass.Failed}, {t.Declined, pass.Declined}, {t.Skipped, pass.Skipped}, {t.NotAttempted, pass.NotAttempted}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.word))
		}
	}
	if t.Products == 0 {
		fmt.Fprintln(w, "Totals: 0 products.")
		return
	}
	fmt.Fprintf(w, "Totals: %d %s: %s.\n", t.Products, noun, strings.Join(parts, ", "))
}
