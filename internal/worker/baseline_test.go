package worker_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/job"
	"supervisor/internal/status"
	"supervisor/internal/worker"
)

func TestBaseline(t *testing.T) {
	v := latest(t)
	tests := []struct {
		name    string
		damage  []string
		version string
		ok      bool
		errWord string
	}{
		{"revisions dropped", []string{"DROP TABLE atlas_schema_revisions"}, v, true, ""},
		{"extra column", []string{"DROP TABLE atlas_schema_revisions", "ALTER TABLE reports ADD COLUMN by_hand INTEGER"}, v, false, "extra column reports.by_hand"},
		{"not a packaged version", nil, "9999", false, "no version 9999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := productAt(t, v)
			exec(t, path, tt.damage...)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s := spec(job.ActionBaseline, path)
			s.Options.Baseline = tt.version
			got := worker.Run(context.Background(), s, hclog.NewNullLogger())
			if got.OK != tt.ok || !strings.Contains(got.Error, tt.errWord) {
				t.Fatalf("got ok=%v error %q, want ok=%v and an error holding %q", got.OK, got.Error, tt.ok, tt.errWord)
			}
			if tt.ok {
				if st := inspect(t, path); st.Status != status.OK || got.ToVersion != v {
					t.Errorf("after the baseline: got %s (%s), result to %q; want ok at %s", st.Status, st.Reason, got.ToVersion, v)
				}
				return
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Error("a refused baseline changed the database file")
			}
		})
	}
}

// A baseline never creates a database: there would be no schema to compare.
func TestBaselineMissingFileIsNotCreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.sqlite")
	s := spec(job.ActionBaseline, path)
	s.Options.Baseline = latest(t)
	if got := worker.Run(context.Background(), s, hclog.NewNullLogger()); got.OK || got.Status != status.FailedToConnect {
		t.Errorf("got ok=%v status %s (%s), want failed_to_connect", got.OK, got.Status, got.Error)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the baseline created %s (%v)", path, err)
	}
}
