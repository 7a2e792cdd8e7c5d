package migrate

import (
	"testing"

	"supervisor/schema"
)

// The list of CodeChecker's revisions starts at the head version 001
// reproduces, and holds each revision once.
func TestCodeCheckerRevisionsStartAtHead(t *testing.T) {
	for _, kind := range []schema.Kind{schema.Config, schema.Product} {
		revs := codeCheckerRevisions[kind]
		if len(revs) == 0 || revs[0] != kind.CodeCheckerHead() {
			t.Errorf("%s: revisions start at %v, want %s", kind, revs[:min(1, len(revs))], kind.CodeCheckerHead())
		}
		seen := map[string]bool{}
		for _, r := range revs {
			if seen[r] {
				t.Errorf("%s: revision %s listed twice", kind, r)
			}
			seen[r] = true
		}
		if olderCodeCheckerRevision(kind, kind.CodeCheckerHead()) {
			t.Errorf("%s: the head counts as an older revision", kind)
		}
	}
}
