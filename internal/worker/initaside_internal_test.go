package worker

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/dbconn"
	"supervisor/internal/job"
	"supervisor/internal/migrate"
	"supervisor/internal/status"
	"supervisor/schema"
)

// TestMigrateInitialisesANewFileAside: a product whose file does not exist
// is initialised up to date, and its directory holds the product file
// alone afterwards (no aside file, no journal).
func TestMigrateInitialisesANewFileAside(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "products")
	path := filepath.Join(dir, "new.sqlite")
	spec := job.Spec{Action: job.ActionMigrate, Endpoint: "new", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: path}}
	res := Run(context.Background(), spec, hclog.NewNullLogger())
	latest, err := migrate.LatestVersion(schema.Product, dbconn.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Status != status.OK || res.ToVersion != latest || res.Applied == 0 {
		t.Fatalf("result %+v, want ok at %s", res, latest)
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Name() != "new.sqlite" {
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %q, want the product file alone", names)
	}
	db, err := dbconn.Open(context.Background(), spec.Target, dbconn.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := migrate.Inspect(context.Background(), db, dbconn.SQLite, schema.Product)
	if err != nil || st.Status != status.OK || st.DBVersion != latest {
		t.Errorf("after: %s at %q (err %v), want ok at %s", st.Status, st.DBVersion, err, latest)
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "delete" {
		t.Errorf("journal_mode of the published file = %q (err %v), want delete, as SQLite makes any file", mode, err)
	}
}

// TestPublishLeavesAFileCreatedMeanwhile: when the product's name was
// taken while the new database was being built aside, publishing changes
// nothing there.
func TestPublishLeavesAFileCreatedMeanwhile(t *testing.T) {
	dir := t.TempDir()
	tmp, path := filepath.Join(dir, ".p.new-1"), filepath.Join(dir, "p.sqlite")
	for f, content := range map[string]string{tmp: "ours", path: "theirs"} {
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	published, err := publish(tmp, path)
	if published || err != nil {
		t.Fatalf("publish over an existing file: published %v, err %v; want neither", published, err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "theirs" {
		t.Errorf("the existing file holds %q (err %v), want it untouched", b, err)
	}
	if published, err := publish(tmp, filepath.Join(dir, "q.sqlite")); !published || err != nil {
		t.Errorf("publish under a free name: published %v, err %v", published, err)
	}
}

// TestMigrateInitialisesInPlaceWithoutHardLinks: on a file system that
// cannot link (some network and FUSE ones) a new product is initialised in
// place, as before the aside file, not failed.
func TestMigrateInitialisesInPlaceWithoutHardLinks(t *testing.T) {
	saved := link
	link = func(oldname, newname string) error {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EPERM}
	}
	t.Cleanup(func() { link = saved })
	dir := t.TempDir()
	path := filepath.Join(dir, "new.sqlite")
	spec := job.Spec{Action: job.ActionMigrate, Endpoint: "new", Target: dbconn.Target{Dialect: dbconn.SQLite, Path: path}}
	res := Run(context.Background(), spec, hclog.NewNullLogger())
	if !res.OK || res.Status != status.OK || res.Applied == 0 {
		t.Fatalf("result %+v, want ok with files applied", res)
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Name() != "new.sqlite" {
		t.Errorf("directory holds %d entries (%v), want the product file alone", len(es), es)
	}
}
