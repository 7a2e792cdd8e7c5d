package integration

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// Reading what the supervisor printed: the tables on stdout (status, migrate
// summary) and the `status --json` document.

// statusRow is one element of `status --json`.
type statusRow struct {
	Endpoint       string `json:"endpoint"`
	Status         string `json:"status"`
	Message        string `json:"message"`
	Location       string `json:"location"`
	DBVersion      string `json:"db_version"`
	PackageVersion string `json:"package_version"`
	UpToDate       bool   `json:"up_to_date"`
	Reason         string `json:"reason"`
}

func statusJSON(t *testing.T, r result) []statusRow {
	t.Helper()
	var rows []statusRow
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rows); err != nil {
		t.Fatalf("status --json: stdout is not the JSON document: %v\n%s", err, r)
	}
	if dec.More() {
		t.Fatalf("status --json: more than one JSON value on stdout\n%s", r)
	}
	return rows
}

// tablesOf finds the tables printTable prints in out: a rule line of
// dashes and "-+-", a header, a rule, rows, a rule. Each table is returned
// as rows of trimmed cells, header first.
func tablesOf(out string) [][][]string {
	isRule := func(l string) bool {
		return strings.Trim(l, "-+") == "" && strings.Contains(l, "-+-")
	}
	lines := strings.Split(out, "\n")
	var tables [][][]string
	for i := 0; i+2 < len(lines); i++ {
		if !isRule(lines[i]) || !isRule(lines[i+2]) {
			continue
		}
		var tbl [][]string
		cells := func(l string) []string {
			parts := strings.Split(l, " | ")
			for k := range parts {
				parts[k] = strings.TrimSpace(parts[k])
			}
			return parts
		}
		tbl = append(tbl, cells(lines[i+1]))
		j := i + 3
		for ; j < len(lines) && !isRule(lines[j]); j++ {
			tbl = append(tbl, cells(lines[j]))
		}
		tables = append(tables, tbl)
		i = j
	}
	return tables
}

// byEndpoint indexes a table's rows by their first cell.
func byEndpoint(t *testing.T, tbl [][]string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, r := range tbl[1:] {
		if len(r) != len(tbl[0]) {
			t.Fatalf("row %q has %d cells, header %q has %d", r, len(r), tbl[0], len(tbl[0]))
		}
		out[r[0]] = r
	}
	return out
}

var statusHeader = []string{"Product endpoint", "Database status", "Database location", "Schema version in the database", "Schema version in the package"}

// statusTable returns the one status table on stdout, by endpoint, and the
// endpoints in printed order.
func statusTable(t *testing.T, r result) (map[string][]string, []string) {
	t.Helper()
	tables := tablesOf(r.stdout)
	if len(tables) != 1 {
		t.Fatalf("want one table on stdout, found %d\n%s", len(tables), r)
	}
	if !slices.Equal(tables[0][0], statusHeader) {
		t.Fatalf("status header %q, want %q", tables[0][0], statusHeader)
	}
	var order []string
	for _, row := range tables[0][1:] {
		order = append(order, row[0])
	}
	return byEndpoint(t, tables[0]), order
}

// summaryLine returns the summary row of endpoint in a migrate run's stdout.
func summaryLine(out, endpoint string) string {
	_, after, ok := strings.Cut(out, "Summary:")
	if !ok {
		return ""
	}
	for _, l := range strings.Split(after, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == endpoint {
			return l
		}
	}
	return ""
}

// lastRow returns the last table row of endpoint in out: the summary row
// of a migrate or cleanup run.
func lastRow(out, endpoint string) string {
	lines := strings.Split(out, "\n")
	if i := lastRowIndex(lines, endpoint); i >= 0 {
		return lines[i]
	}
	return ""
}

// lastRowIndex is the index of endpoint's last table row in lines, -1 if
// it has none.
func lastRowIndex(lines []string, endpoint string) int {
	for i := len(lines) - 1; i >= 0; i-- {
		if f := strings.Fields(lines[i]); len(f) > 1 && f[0] == endpoint && f[1] == "|" {
			return i
		}
	}
	return -1
}

// lastRowJoined is lastRow with the lines a multi-line reason spills
// onto joined back (see the known bug in RELIABILITY.md), and how many
// lines it took.
func lastRowJoined(out, endpoint string) (string, int) {
	lines := strings.Split(out, "\n")
	i := lastRowIndex(lines, endpoint)
	if i < 0 {
		return "", 0
	}
	row, n := lines[i], 1
	for _, l := range lines[i+1:] {
		if strings.HasPrefix(l, "---") || strings.Contains(l, " | ") || l == "" {
			break
		}
		row += " " + l
		n++
	}
	return strings.Join(strings.Fields(row), " "), n
}

// outcomeOf is endpoint's outcome in out (a migrate, cleanup or up stdout):
// the Result cell of its last summary row ("ok", "failed", "declined",
// "skipped (fail-fast)", ...), and its last block in a Failures section,
// after "  [endpoint] " ("failed: reason"; "" when it has none). Only the
// block's first line: the worker's last lines under it are not the reason.
func outcomeOf(out, endpoint string) (cell, failure string) {
	if row := lastRow(out, endpoint); row != "" {
		cells := strings.Split(row, "|")
		cell = strings.TrimSpace(cells[len(cells)-1])
	}
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, "  ["+endpoint+"] "); ok {
			failure = rest
		}
	}
	return cell, failure
}
