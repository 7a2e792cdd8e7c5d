package migrate

import (
	"fmt"
)

// PlannedFile is one step an upgrade would take, for --dry-run and --sql.
type PlannedFile struct {
	Version, Description string
	// Statements are the file's SQL statements; empty for a baseline.
	Statements []string
	// Baseline is set when the version is recorded, not executed (adoption
	// of a CodeChecker database).
	Baseline bool
	// GoStep names the step written in Go (see GoStep) that runs after the
	// file's statements, which offline (--sql) migration cannot print. No
	// packaged file has one today; a file declares one with the directive
	// "-- supervisor:go NAME".
	GoStep string
}

// Plan lists what an upgrade of a database in state st would do, touching nothing.
func Plan(st State) ([]PlannedFile, error) {
	if err := checkGoSteps(st.Pending); err != nil {
		return nil, err
	}
	var out []PlannedFile
	if st.Adopt {
		out = append(out, PlannedFile{Version: "001", Description: "codechecker_baseline", Baseline: true})
	}
	for _, f := range st.Pending {
		stmts, err := f.Stmts()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.Name(), err)
		}
		out = append(out, PlannedFile{Version: f.Version(), Description: f.Desc(), Statements: stmts, GoStep: goStepOf(f)})
	}
	return out, nil
}
