package pass

import (
	"strings"
	"testing"

	"supervisor/internal/dbconn"
	"supervisor/internal/usage"
)

// TestCheckRunRefusesWhatACooperativeRunCannotBe: the run id's form, a
// SQLite config database, no -y, and each option of a run of one host are
// bad usage, each named; a PostgreSQL config database with -y is a run.
func TestCheckRunRefusesWhatACooperativeRunCannotBe(t *testing.T) {
	pg := Options{Config: dbconn.Target{Dialect: dbconn.Postgres}}
	with := func(f func(*Options)) Options { o := pg; f(&o); return o }
	for _, tt := range []struct {
		name    string
		opts    Options
		runID   string
		yes     bool
		refused []string
		want    string // "" = accepted
	}{
		{"a run", pg, "nightly-2026.12.02:1", true, []string{"", ""}, ""},
		{"sqlite", Options{Config: dbconn.Target{Dialect: dbconn.SQLite}}, "r", true, nil, "needs a PostgreSQL config database"},
		{"no -y", pg, "r", false, nil, "needs -y"},
		{"empty id", pg, "", true, nil, "--run-id \"\": use up to 100"},
		{"id with a space", pg, "a b", true, nil, "use up to 100"},
		{"id too long", pg, strings.Repeat("x", 101), true, nil, "use up to 100"},
		{"refused by the command line", pg, "r", true, []string{"", "--sql"}, "does not go with --sql"},
		{"--fail-fast", with(func(o *Options) { o.FailFast = true }), "r", true, nil, "does not go with --fail-fast"},
		{"--max-failures", with(func(o *Options) { o.StopAfter = 1 }), "r", true, nil, "does not go with --max-failures"},
		{"--canary", with(func(o *Options) { o.Canary = []string{"a"} }), "r", true, nil, "does not go with --canary"},
		{"--canary-count", with(func(o *Options) { o.CanaryCount = 1 }), "r", true, nil, "does not go with --canary-count"},
		{"--stages", with(func(o *Options) { o.StagesFile = "s.json" }), "r", true, nil, "does not go with --stages"},
		{"--to", with(func(o *Options) { o.ToVersion = "001" }), "r", true, nil, "does not go with --to"},
		{"--dry-run", with(func(o *Options) { o.DryRun = true }), "r", true, nil, "does not go with --dry-run"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.CheckRun(tt.runID, tt.yes, tt.refused...)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want it accepted", err)
			case tt.want != "" && (err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want a usage error with %q", err, tt.want)
			}
		})
	}
}
