package migrate

import (
	"testing"

	"ariga.io/atlas/sql/migrate"

	"supervisor/internal/dbconn"
	"supervisor/schema"
)

// BenchmarkCheckHashes is the CPU part of the pending computation for an
// up-to-date product: the recorded hash of every applied file compared with
// the packaged one (atlas.sum), without the database reads around it.
func BenchmarkCheckHashes(b *testing.B) {
	dir, err := Dir(schema.Product, dbconn.SQLite)
	if err != nil {
		b.Fatal(err)
	}
	files, err := dir.Files()
	if err != nil {
		b.Fatal(err)
	}
	sum, err := dir.Checksum()
	if err != nil {
		b.Fatal(err)
	}
	revs := make([]*migrate.Revision, len(files))
	for i, f := range files {
		h, err := sum.SumByName(f.Name())
		if err != nil {
			b.Fatal(err)
		}
		revs[i] = &migrate.Revision{Version: f.Version(), Hash: h, Type: migrate.RevisionTypeExecute}
	}
	for b.Loop() {
		if err := checkHashes(dir, files, revs); err != nil {
			b.Fatal(err)
		}
	}
}
