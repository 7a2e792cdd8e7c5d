package report

import (
	"path/filepath"
	"strings"
	"testing"

	"supervisor/internal/usage"
)

// TestCheckReportPathRefusesAsUsage: a --report path the run could not
// write at its end is bad usage (exit 2) up front, naming the option and
// the path; no --report is no path, and a good one becomes absolute.
func TestCheckReportPathRefusesAsUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		path, want, wantErr string
	}{
		{path: ""},
		{path: filepath.Join(dir, "r.json"), want: filepath.Join(dir, "r.json")},
		{path: filepath.Join(dir, "nope", "r.json"), wantErr: "--report " + filepath.Join(dir, "nope", "r.json") + ": the directory " + filepath.Join(dir, "nope") + " does not exist"},
		{path: dir, wantErr: "--report " + dir + ": is a directory"},
	} {
		got, err := CheckReportPath(tt.path)
		switch {
		case tt.wantErr != "":
			if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("CheckReportPath(%q) = %q, %v; want a usage error %q", tt.path, got, err, tt.wantErr)
			}
		case err != nil || got != tt.want:
			t.Errorf("CheckReportPath(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
}
