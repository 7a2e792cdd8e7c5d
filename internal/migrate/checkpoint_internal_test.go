package migrate

import (
	"testing"

	"ariga.io/atlas/sql/migrate"

	"supervisor/internal/dbconn"
	"supervisor/schema"
)

// A checkpoint is SQL: it cannot stand for a version whose file runs a step
// written in Go, so such a chain is replayed file by file.
func TestCheckpointNotUsedWhenACoveredFileHasAGoStep(t *testing.T) {
	dir, err := Dir(schema.Product, dbconn.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	if cp := checkpointOf(schema.Product, dbconn.SQLite, files); cp == nil {
		t.Fatalf("packaged chain: got no checkpoint, want the one of %s", files[len(files)-1].Version())
	}
	withStep := append([]migrate.File{migrate.NewLocalFile(files[0].Name(), []byte("-- "+goStepDirective+" seed\n"+string(files[0].Bytes())))}, files[1:]...)
	if cp := checkpointOf(schema.Product, dbconn.SQLite, withStep); cp != nil {
		t.Errorf("chain whose 001 has a Go step: got the checkpoint of %s, want none (replay the chain)", cp.Version)
	}
}
