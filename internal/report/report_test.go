package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
	"supervisor/internal/pass"
	"supervisor/internal/registry"
	"supervisor/internal/status"
)

func TestTable(t *testing.T) {
	tests := []struct {
		name string
		rows [][]string
		want string
	}{
		{
			name: "header only",
			rows: [][]string{{"A", "Bee"}},
			want: "" +
				"--+----\n" +
				"A | Bee\n" +
				"--+----\n" +
				"--+----\n",
		},
		{
			name: "widest cell wins, last column not padded",
			rows: [][]string{{"Product", "St", "V"}, {"p", "a long status", "1"}, {"longer endpoint", "x", ""}},
			want: "" +
				"----------------+---------------+--\n" +
				"Product         | St            | V\n" +
				"----------------+---------------+--\n" +
				"p               | a long status | 1\n" +
				"longer endpoint | x             |\n" +
				"----------------+---------------+--\n",
		},
		{
			name: "width in characters, not bytes",
			rows: [][]string{{"Név", "X"}, {"ünïcödé", "y"}, {"a", "z"}},
			want: "" +
				"--------+--\n" +
				"Név     | X\n" +
				"--------+--\n" +
				"ünïcödé | y\n" +
				"a       | z\n" +
				"--------+--\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			Table(&b, tt.rows)
			if b.String() != tt.want {
				t.Errorf("printTable =\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

// products list --status adds a Status column (before Description, an
// unusable row's reason included) and the status fields in JSON; without
// states neither appears.
func TestProductsStatus(t *testing.T) {
	products := []registry.Product{
		{Endpoint: "a", DisplayName: "A", Description: "first", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: "/a.sqlite"}},
		{Endpoint: "b", DisplayName: "b", Connection: "mysql://x@y/z", Err: errors.New("unsupported")},
	}
	states := []pass.State{
		{Endpoint: "a", Status: status.OK},
		{Endpoint: "b", Status: status.FailedToConnect, Reason: "unsupported"},
	}
	var with, without bytes.Buffer
	if err := Products(&with, products, states, false); err != nil {
		t.Fatal(err)
	}
	if err := Products(&without, products, nil, false); err != nil {
		t.Fatal(err)
	}
	wantWith := "" +
		"---------+--------------+----------+---------------+-------------------+----------------------\n" +
		"Endpoint | Display name | Database | Location      | Status            | Description\n" +
		"---------+--------------+----------+---------------+-------------------+----------------------\n" +
		"a        | A            | sqlite   | /a.sqlite     | ok                | first\n" +
		"b        | b            | -        | mysql://x@y/z | failed_to_connect | UNUSABLE: unsupported\n" +
		"---------+--------------+----------+---------------+-------------------+----------------------\n"
	if with.String() != wantWith {
		t.Errorf("with states:\n%s\nwant\n%s", with.String(), wantWith)
	}
	if strings.Contains(without.String(), "Status") || strings.Contains(without.String(), "failed_to_connect") {
		t.Errorf("without states:\n%s\nwant no Status column", without.String())
	}

	var js bytes.Buffer
	if err := Products(&js, products, states, true); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(js.Bytes(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0]["status"] != "ok" || rows[0]["status_reason"] != nil ||
		rows[1]["status"] != "failed_to_connect" || rows[1]["status_reason"] != "unsupported" {
		t.Errorf("JSON with states = %v, want status ok for a, failed_to_connect with its reason for b", rows)
	}
	js.Reset()
	if err := Products(&js, products, nil, true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(js.String(), `"status`) {
		t.Errorf("JSON without states:\n%s\nwant no status field", js.String())
	}
}

// status --drift prints what differs under the table, per drifted product,
// and nothing for a product checked clean.
func TestStatusPrintsDriftUnderTable(t *testing.T) {
	states := []pass.State{
		{Endpoint: "A", Status: status.Drift, Message: status.Drift.Message(), Location: "/a.sqlite", DBVersion: "002", PackageVersion: "002",
			Drift: []string{"extra index x on comments", "missing table filter_presets"}},
		{Endpoint: "B", Status: status.OK, Message: status.OK.Message(), Location: "/b.sqlite", DBVersion: "002", PackageVersion: "002", UpToDate: true, Drift: []string{}},
	}
	var b bytes.Buffer
	Status(&b, states)
	out := b.String()
	// The table ends with its third rule line.
	rule := out[:strings.Index(out, "\n")+1]
	if strings.Count(out, rule) != 3 {
		t.Fatalf("status:\n%s\nwant a table with three rule lines", out)
	}
	under := out[strings.LastIndex(out, rule)+len(rule):]
	want := "[A] drift from the packaged schema at 002:\n[A]   extra index x on comments\n[A]   missing table filter_presets\n"
	if under != want {
		t.Errorf("under the table:\n%s\nwant:\n%s", under, want)
	}
}
