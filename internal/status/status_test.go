package status_test

import (
	"testing"

	"supervisor/internal/status"
)

// Every status word of DESIGN.md's table, with CodeChecker's exact sentence
// and whether migrate may upgrade it.
func TestStatuses(t *testing.T) {
	tests := []struct {
		s          status.Status
		word       string
		message    string
		upgradable bool
	}{
		{status.OK, "ok", "Database is up to date.", false},
		{status.Missing, "missing", "Database is missing.", true},
		{status.FailedToConnect, "failed_to_connect", "Connection failed to the database server.", false},
		{status.SchemaMismatchOK, "schema_mismatch_ok", "Database schema mismatch! Possible to upgrade.", true},
		{status.SchemaMismatchNo, "schema_mismatch_no", "Database schema mismatch! NOT possible to upgrade.", false},
		{status.SchemaMissing, "schema_missing", "Database schema is missing.", true},
		{status.SchemaInitError, "schema_init_error", "Schema initialization error.", false},
		{status.SchemaUpgradeFailed, "schema_upgrade_failed", "Schema upgrade failed.", false},
		{status.Drift, "drift", "Database schema drifted from the packaged schema.", false},
	}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			if got := string(tt.s); got != tt.word {
				t.Errorf("status word = %q, want %q", got, tt.word)
			}
			if got := tt.s.Message(); got != tt.message {
				t.Errorf("%s.Message() = %q, want %q", tt.word, got, tt.message)
			}
			if got := status.Status(tt.word).Message(); got != tt.message {
				t.Errorf("Status(%q).Message() = %q, want %q", tt.word, got, tt.message)
			}
			if got := tt.s.Upgradable(); got != tt.upgradable {
				t.Errorf("%s.Upgradable() = %v, want %v", tt.word, got, tt.upgradable)
			}
		})
	}
}

// An unknown word is shown as it is and is never upgradable.
func TestUnknownStatus(t *testing.T) {
	for _, w := range []string{"", "OK", "Missing", "bogus"} {
		s := status.Status(w)
		if got := s.Message(); got != w {
			t.Errorf("Status(%q).Message() = %q, want %q", w, got, w)
		}
		if s.Upgradable() {
			t.Errorf("Status(%q).Upgradable() = true, want false", w)
		}
	}
}

// Every status the help explains has CodeChecker's sentence and advice.
func TestAllExplained(t *testing.T) {
	if len(status.All) != 9 {
		t.Errorf("%d statuses, want DESIGN.md's 8 and drift", len(status.All))
	}
	for _, s := range status.All {
		if s.Message() == string(s) || s.Advice() == "" {
			t.Errorf("%s: message %q, advice %q", s, s.Message(), s.Advice())
		}
	}
}
