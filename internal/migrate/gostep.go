package migrate

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"

	"ariga.io/atlas/sql/migrate"

	"supervisor/internal/dbconn"
)

// GoStep is a migration step written in Go, for what SQL cannot say. A
// file declares it in its header with the directive
//
//	-- supervisor:go NAME
//
// and it runs in the file's transaction after the file's SQL statements,
// through tx: if it fails, the file is rolled back with it, as for a
// failed statement. Offline migration (--sql) cannot print it.
type GoStep func(ctx context.Context, tx dbconn.Querier) error

// goStepDirective is the directive naming a file's GoStep. atlas's own
// directive reader (LocalFile.Directive) only knows "atlas:" directives,
// so goStepOf reads it.
const goStepDirective = "supervisor:go"

var goSteps struct {
	sync.RWMutex
	m map[string]GoStep
}

// RegisterGoStep makes step known under name, for the files that name it.
// Call it from an init function: a directory is checked against the
// registered steps when it is loaded. It panics when name is empty or
// taken, or step is nil, as database/sql.Register does.
func RegisterGoStep(name string, step GoStep) {
	if name == "" || strings.ContainsAny(name, " \t") || step == nil {
		panic(fmt.Sprintf("migrate: RegisterGoStep(%q): want a one-word name and a step", name))
	}
	goSteps.Lock()
	defer goSteps.Unlock()
	if _, ok := goSteps.m[name]; ok {
		panic(fmt.Sprintf("migrate: RegisterGoStep(%q): registered twice", name))
	}
	if goSteps.m == nil {
		goSteps.m = map[string]GoStep{}
	}
	goSteps.m[name] = step
}

func lookupGoStep(name string) (GoStep, bool) {
	goSteps.RLock()
	defer goSteps.RUnlock()
	s, ok := goSteps.m[name]
	return s, ok
}

// goStepOf is the name of the GoStep f declares, "" for none. Like atlas's
// file directives, it is read from the comment lines at the top of the
// file, before the first blank line.
func goStepOf(f migrate.File) string {
	sc := bufio.NewScanner(bytes.NewReader(f.Bytes()))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "--") {
			return ""
		}
		if rest, ok := strings.CutPrefix(strings.TrimSpace(strings.TrimPrefix(line, "--")), goStepDirective+" "); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// checkGoSteps checks that every GoStep the files name is registered and
// has a transaction to run in, so that a directory that names one this
// supervisor lacks is refused before any of its files is applied.
func checkGoSteps(files []migrate.File) error {
	for _, f := range files {
		name := goStepOf(f)
		if name == "" {
			continue
		}
		if _, ok := lookupGoStep(name); !ok {
			return fmt.Errorf("migration file %s names the Go step %q, which this supervisor does not have", f.Name(), name)
		}
		if lf, ok := f.(*migrate.LocalFile); ok && len(lf.Directive("txmode")) > 0 && lf.Directive("txmode")[0] == "none" {
			return fmt.Errorf("migration file %s names the Go step %q but runs outside a transaction (txmode none), which a Go step needs", f.Name(), name)
		}
	}
	return nil
}

// runGoStep runs the GoStep f names, if any, on conn, the file's
// transaction.
func runGoStep(ctx context.Context, conn dbconn.Querier, f migrate.File) error {
	name := goStepOf(f)
	if name == "" {
		return nil
	}
	step, ok := lookupGoStep(name)
	if !ok {
		return fmt.Errorf("go step %q is not registered", name)
	}
	if err := step(ctx, conn); err != nil {
		return fmt.Errorf("go step %s: %w", name, err)
	}
	return nil
}
