package migrate

import (
	"slices"
	"testing"

	"supervisor/internal/dbconn"
	"supervisor/schema"
)

// The packaged directory's checksum is computed once per process (Inspect
// compares against it for every product) and is the directory's own.
func TestChecksumOfPackagedDirIsComputedOnce(t *testing.T) {
	for _, d := range dbconn.Dialects {
		dir, err := Dir(schema.Product, d)
		if err != nil {
			t.Fatal(err)
		}
		first, err := checksum(dir)
		if err != nil {
			t.Fatal(err)
		}
		again, err := checksum(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(first) == 0 || &first[0] != &again[0] {
			t.Errorf("%s: checksum computed again (%p, then %p)", d, first, again)
		}
		want, err := dir.Checksum()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(first, want) {
			t.Errorf("%s: cached checksum %v, want %v", d, first, want)
		}
	}
}
