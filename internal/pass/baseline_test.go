package pass

import (
	"strings"
	"testing"

	"supervisor/internal/status"
	"supervisor/internal/usage"
)

func TestBaselineTurn(t *testing.T) {
	tests := []struct {
		name            string
		st              State
		ask, refuseWord string
	}{
		{"recorded at the version: nothing to do", State{Endpoint: "e", Status: status.OK, DBVersion: "002"}, "", ""},
		{"ok at another version is compared", State{Endpoint: "e", Status: status.OK, DBVersion: "001"}, "Do you want to record 'e' as being at version 002 (nothing is executed)?", ""},
		{"no revisions", State{Endpoint: "e", Status: status.SchemaMismatchNo}, "Do you want to record 'e' as being at version 002 (nothing is executed)?", ""},
		{"unreadable", State{Endpoint: "e", Status: status.FailedToConnect, Reason: "no route"}, "", "no route"},
		{"no database", State{Endpoint: "e", Status: status.Missing}, "", "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, refusal := baselineTurn(tt.st, "002")
			if q != tt.ask {
				t.Errorf("question %q, want %q", q, tt.ask)
			}
			if (refusal == "") != (tt.refuseWord == "") || !strings.Contains(refusal, tt.refuseWord) {
				t.Errorf("refusal %q, want one holding %q", refusal, tt.refuseWord)
			}
		})
	}
}

func TestCheckBaselineRefusesUnpackagedVersion(t *testing.T) {
	if err := checkBaseline("", Rollout{}); err != nil {
		t.Errorf("no baseline: got %v, want nil", err)
	}
	if err := checkBaseline("001", Rollout{}); err != nil {
		t.Errorf("001: got %v, want nil", err)
	}
	if err := checkBaseline("7", Rollout{}); !usage.Is(err) || !strings.Contains(err.Error(), "--baseline 7") {
		t.Errorf("7: got %v, want a usage error naming --baseline 7", err)
	}
	// A baseline executes nothing: there is nothing to roll out.
	for _, r := range []Rollout{{ToVersion: "001"}, {Canary: []string{"a"}}, {CanaryCount: 1}, {StagesFile: "s.json"}} {
		if err := checkBaseline("001", r); !usage.Is(err) {
			t.Errorf("--baseline with %+v: got %v, want a usage error", r, err)
		}
	}
}
