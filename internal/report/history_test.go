package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"supervisor/internal/pass"
)

func TestHistoryTableAndJSON(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	hs := []pass.History{
		{Endpoint: "a", Revisions: []pass.Revision{{Version: "001", Description: "codechecker_baseline", Type: "baseline", ExecutedAt: at, Hash: "h1", Operator: "supervisor v1"},
			{Version: "002", Description: "drop_leftovers", Type: "applied", ExecutedAt: at, DurationMS: 1500, Hash: "h2", Operator: "supervisor v1"}}},
		{Endpoint: "b", Revisions: []pass.Revision{}},
		{Endpoint: "c", Revisions: []pass.Revision{}, Error: "connect: refused"},
	}
	var text bytes.Buffer
	if err := History(&text, hs, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a:", "drop_leftovers", "2026-01-02T03:04:05Z", "1.5s", "h2", "supervisor v1", "b:\n  no revisions recorded", "c:\n  cannot read its revisions: connect: refused"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, text.String())
		}
	}
	var out bytes.Buffer
	if err := History(&out, hs, true); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Products []pass.History `json:"products"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Products) != 3 || doc.Products[0].Revisions[1].DurationMS != 1500 || doc.Products[1].Revisions == nil || doc.Products[2].Error == "" {
		t.Errorf("JSON got %+v, want the three products as given", doc.Products)
	}
}
