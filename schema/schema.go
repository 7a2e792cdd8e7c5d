// Package schema holds the migration directories packaged in the binary: one per
// schema (config, product) and dialect (sqlite, postgres), in atlas's format
// (versioned .sql files plus atlas.sum).
//
// Version 001 of each chain reproduces the schema CodeChecker creates at its heads
// (config 635389f535cd, product b1be74589382); later versions are ours and keep the
// database readable by CodeChecker at those heads.
package schema

import (
	"embed"
	"fmt"
	"io/fs"
	"path"

	"ariga.io/atlas/sql/migrate"
)

//go:embed config product
var files embed.FS

// Kind names a schema chain.
type Kind string

// The two chains: the config database (product registry) and product databases.
const (
	Config  Kind = "config"
	Product Kind = "product"
)

// CodeCheckerHead is the alembic revision CodeChecker's own migrations leave a
// database of this kind at; our version 001 reproduces exactly that schema.
func (k Kind) CodeCheckerHead() string {
	if k == Config {
		return "635389f535cd"
	}
	return "b1be74589382"
}

// Dir returns the packaged migration directory of kind for dialect ("sqlite" or
// "postgres"), checked against its atlas.sum.
func Dir(kind Kind, dialect string) (*migrate.MemDir, error) {
	root := path.Join(string(kind), dialect)
	entries, err := fs.ReadDir(files, root)
	if err != nil {
		return nil, fmt.Errorf("packaged %s schema for %s: %w", kind, dialect, err)
	}
	dir := &migrate.MemDir{}
	for _, e := range entries {
		if e.IsDir() { // checkpoint/: not a file of the chain
			continue
		}
		b, err := files.ReadFile(path.Join(root, e.Name()))
		if err != nil {
			return nil, err
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			return nil, err
		}
	}
	if err := migrate.Validate(dir); err != nil {
		return nil, fmt.Errorf("packaged %s schema for %s: %w", kind, dialect, err)
	}
	return dir, nil
}

// Checkpoint returns the checkpoint of kind for dialect: the SQL that makes, in
// one step, the schema (and rows) the whole chain up to version leaves, for a new
// database. It lives in checkpoint/VERSION.sql beside the chain, outside it (and
// outside atlas.sum): atlas's own checkpoint files are versions of the chain and
// record only their own revision, where the supervisor records every version. A
// test keeps it equal to the chain. ok is false when there is none for version.
func Checkpoint(kind Kind, dialect, version string) (sql []byte, ok bool) {
	b, err := files.ReadFile(path.Join(string(kind), dialect, "checkpoint", version+".sql"))
	if err != nil {
		return nil, false
	}
	return b, true
}

// Dialects lists the dialects every chain is packaged for.
var Dialects = []string{"sqlite", "postgres"}
