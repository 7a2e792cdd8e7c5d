package pass

import (
	"path/filepath"
	"reflect"
	"testing"

	"supervisor/internal/labels"
	"supervisor/internal/testutil"
)

// TestLabelDigestOnceForAllWorkers: with a label directory that loads, the
// pass gives the workers its digest; with none, or one that does not load,
// no digest, so that each worker gets the directory and reports its error
// as before. The garbage check's severity view comes with the digest.
func TestLabelDigestOnceForAllWorkers(t *testing.T) {
	l, err := labels.Load(testutil.LabelsDir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir string
		want      labels.Digest
	}{
		{"label set", testutil.LabelsDir, l.Digest()},
		{"no labels", "", nil},
		{"missing directory", filepath.Join(t.TempDir(), "none"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet(Options{CheckerLabels: tt.dir})
			got, view := f.cleanupLabels()
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("cleanupLabels() with %q = %d analyzers, want %d", tt.dir, len(got), len(tt.want))
			}
			if (view == nil) != (tt.want == nil) {
				t.Errorf("cleanupLabels() with %q: view %v, digest %d analyzers; want both or neither", tt.dir, view, len(got))
			}
		})
	}
}
