package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"supervisor/internal/coop"
	"supervisor/internal/pass"
)

// RunSection is a cooperative run (--run-id) in the JSON document: the run
// across its hosts as the config database has it, and which host wrote the
// document (its products are marked with their host in products[].host).
type RunSection struct {
	RunID string `json:"run_id"`
	// Host is the host that wrote the document ("" for status --run-id).
	Host string `json:"host,omitempty"`
	// Pending, Running, Done and Failed count the run's products; Failed
	// counts every finished product whose outcome is not ok.
	Pending int `json:"pending"`
	Running int `json:"running"`
	Done    int `json:"done"`
	Failed  int `json:"failed"`
	// RunningByHost and DoneByHost count the products running on, and
	// finished by, each host (hostname/pid).
	RunningByHost map[string]int `json:"running_by_host"`
	DoneByHost    map[string]int `json:"done_by_host"`
}

// runDocument fills doc from a cooperative run: one product per job of the
// run, with the host that ran it.
func runDocument(doc *Document, host string, p coop.Progress) {
	doc.Run = &RunSection{RunID: p.RunID, Host: host, Pending: p.Pending, Running: p.Running, Done: p.Done,
		Failed: p.Failed, RunningByHost: nonNil(p.RunningBy), DoneByHost: nonNil(p.Hosts)}
	for _, j := range p.Jobs {
		outcome, reason := jobOutcome(j)
		dp := Product{Endpoint: j.Endpoint, Outcome: outcome, Reason: reason, Host: j.Host, RunState: j.State}
		if r := j.Result; r != nil {
			dp.VersionBefore, dp.VersionAfter, dp.DurationMS = r.From, r.To, r.DurationMS
		}
		doc.Products = append(doc.Products, dp)
		doc.Totals.add(outcome)
	}
}

func nonNil(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

// jobOutcome is the outcome word and reason of one product of a run: its
// result's when it finished, else why it has none.
func jobOutcome(j coop.Job) (pass.Outcome, string) {
	switch {
	case j.Result != nil:
		return pass.Outcome(j.Result.Outcome), j.Result.Reason
	case j.State == coop.StatePending:
		return pass.Skipped, "not finished: pending in the run"
	case j.State == coop.StateRunning:
		return pass.Skipped, "not finished: running on " + j.Host
	}
	return pass.Failed, fmt.Sprintf("its host was lost on every attempt (%d: %s)", j.Attempts, strings.Join(j.Earlier, ", "))
}

// RunSummary prints a cooperative run's products across its hosts, in
// endpoint order, those of host (this one) marked "*" in the Host column,
// then the Failures section and a line counting the run by state.
func RunSummary(w io.Writer, host string, p coop.Progress) {
	table := [][]string{{"Product endpoint", "State", "Host", "From", "To", "Duration", "Result"}}
	var failures []Failure
	mine := 0
	for _, j := range p.Jobs {
		outcome, reason := jobOutcome(j)
		h := Dash(j.Host)
		if j.Host != "" && j.Host == host {
			h += " *"
			mine++
		}
		from, to, d := "", "", "-"
		if r := j.Result; r != nil {
			from, to, d = r.From, r.To, duration(time.Duration(r.DurationMS)*time.Millisecond)
		}
		cell := "-"
		if j.Result != nil || j.State == coop.StateFailed {
			cell = Cell(outcome, reason)
			failures = append(failures, Failure{Endpoint: j.Endpoint, Outcome: outcome, Reason: reason})
		}
		table = append(table, []string{j.Endpoint, j.State, h, Dash(from), Dash(to), d, cell})
	}
	fmt.Fprintf(w, "Run %s (%s), across %d host(s)", p.RunID, p.Action, len(p.HostNames()))
	if host != "" {
		fmt.Fprint(w, "; * marks this host's products")
	}
	fmt.Fprintln(w, ":")
	if len(p.Jobs) > 0 {
		Table(w, table)
	}
	Failures(w, failures)
	fmt.Fprintf(w, "Run %s: %d products: %d done, %d failed, %d pending, %d running", p.RunID, len(p.Jobs), p.Done, p.Failed, p.Pending, p.Running)
	if host != "" {
		fmt.Fprintf(w, "; this host (%s) did %d", host, mine)
	}
	fmt.Fprintln(w, ".")
}

// RunStatus prints status --run-id: the run's counts, the running products
// by host, and every product's state.
func RunStatus(w io.Writer, p coop.Progress, asJSON bool) error {
	if asJSON {
		doc := Document{Version: SchemaVersion, Command: "status", Products: []Product{}}
		runDocument(&doc, "", p)
		return JSON(w, doc)
	}
	for _, h := range p.HostNames() {
		fmt.Fprintf(w, "host %s: %d running, %d finished\n", h, p.RunningBy[h], p.Hosts[h])
	}
	RunSummary(w, "", p)
	return nil
}
