package worker

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/dbconn"
	"supervisor/internal/job"
	"supervisor/internal/status"
)

// initAside initialises a SQLite product whose file does not exist in a
// new file of its own beside it, and gives it the product's name only once
// it is complete and on disk: done says it did (res is the job's result),
// or that it found the name taken meanwhile and the caller is to go on as
// for an existing file (done false; so too when the file exists, on
// PostgreSQL, and when the aside file cannot even be made: the usual path
// then reports the real reason).
//
// Initialising in place made SQLite protect a database that held nothing
// with a rollback journal: four fsyncs (journal, directory, journal, file)
// and an unlink, the larger part of a new product's wall time. The aside
// file is nobody else's until it is published, so it needs no journal on
// disk and no fsync of its own (dbconn.Options.Scratch); it is synced once,
// then published with a hard link, which fails when the name was taken
// meanwhile (another supervisor, a CodeChecker server: their database is
// then left as it is, and this job works on it), and the directory is
// synced. A crash before the link leaves the product missing (the next run
// initialises it again) and a hidden file ".NAME.new-*" beside it; after
// the link the product is complete and durable. The migration log and the
// result are those of the in-place run.
func initAside(ctx context.Context, spec job.Spec, log hclog.Logger) (res job.Result, done bool) {
	t := spec.Target
	if t.Dialect != dbconn.SQLite || spec.Options.DryRun {
		return res, false
	}
	if _, err := os.Lstat(t.Path); !errors.Is(err, fs.ErrNotExist) {
		return res, false
	}
	dir := filepath.Dir(t.Path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, false
	}
	// A unique name, for SQLite to create (with the mode it gives any new
	// database, as in place).
	f, err := os.CreateTemp(dir, "."+filepath.Base(t.Path)+".new-*")
	if err != nil {
		return res, false
	}
	aside := spec
	aside.Target.Path = f.Name()
	_ = f.Close()
	_ = os.Remove(aside.Target.Path)
	defer os.Remove(aside.Target.Path)
	db, err := dbconn.Open(ctx, aside.Target, dbconn.Options{Create: true, ImmediateTx: true, Scratch: true, BusyTimeout: lockTimeout(spec)})
	if err != nil {
		return res, false
	}
	res = migrateDB(ctx, aside, db, log)
	if err := db.Close(); err != nil && res.OK {
		res = job.Result{Status: status.SchemaInitError, Error: fmt.Sprintf("close the new database: %v", err)}
	}
	if !res.OK {
		return res, true
	}
	published, err := publish(aside.Target.Path, t.Path)
	var linkErr *os.LinkError
	switch {
	case errors.As(err, &linkErr):
		// A file system without hard links (some network and FUSE ones):
		// nothing was published, so initialise in place as before.
		log.Debug("cannot publish a database built aside; initialising in place", "error", err)
		return job.Result{}, false
	case err != nil:
		return job.Result{Status: status.SchemaInitError, Error: err.Error()}, true
	case !published:
		log.Info("the database file was created by another process meanwhile; working on that one")
		return job.Result{}, false
	}
	return res, true
}

// link is os.Link; tests make it fail as a file system without hard links
// does.
var link = os.Link

// publish makes the complete database at tmp durable and gives it the name
// path, unless path exists (published false, nothing changed): it syncs
// tmp, links it to path and syncs the directory.
func publish(tmp, path string) (published bool, err error) {
	if err := syncPath(tmp); err != nil {
		return false, fmt.Errorf("sync the new database: %w", err)
	}
	if err := link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, err // an *os.LinkError: initAside falls back to in place
	}
	if err := syncPath(filepath.Dir(path)); err != nil {
		return true, fmt.Errorf("sync the directory of the new database: %w", err)
	}
	return true, nil
}

// syncPath fsyncs the file or directory at path.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
