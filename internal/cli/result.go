package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"supervisor/internal/pass"
	"supervisor/internal/report"
)

// resultFlags say where the result of migrate, cleanup and up goes: tables
// on stdout, or (--json) one JSON document on stdout and nothing else there;
// --report FILE writes the same document to FILE in either mode.
type resultFlags struct {
	json   bool
	report string
}

func (r *resultFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&r.json, "json", false, "print one JSON document on stdout instead of tables (questions go to stderr; logs stay on stderr)")
	fs.StringVar(&r.report, "report", "", "also write the JSON document to `FILE`")
}

// check makes --report absolute and refuses one whose directory does not
// exist, before anything is touched: the report is written at the end.
func (r *resultFlags) check() error {
	if r.report == "" {
		return nil
	}
	abs, err := filepath.Abs(r.report)
	if err != nil {
		return usagef("--report: %v", err)
	}
	if fi, err := os.Stat(filepath.Dir(abs)); err != nil || !fi.IsDir() {
		return usagef("--report %s: the directory %s does not exist", r.report, filepath.Dir(abs))
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return usagef("--report %s: is a directory", r.report)
	}
	r.report = abs
	return nil
}

// text is where tables and the totals line go: stdout, or nowhere under
// --json.
func (r resultFlags) text(inv *invocation) io.Writer {
	if r.json {
		return io.Discard
	}
	return inv.env.Stdout
}

// questions is where the questions go: stdout, or stderr under --json (the
// answers are still read from stdin).
func (r resultFlags) questions(inv *invocation) io.Writer {
	if r.json {
		return inv.env.Stderr
	}
	return inv.env.Stdout
}

// finish prints the totals line, and the document on stdout (--json) and in
// the --report file. A report that cannot be written fails the run.
func (r resultFlags) finish(inv *invocation, run report.Run) error {
	doc := report.NewDocument(run)
	report.TotalsLine(r.text(inv), doc.Totals)
	if !r.json && r.report == "" {
		return nil
	}
	var b bytes.Buffer
	if err := report.JSON(&b, doc); err != nil {
		return fmt.Errorf("encode the result document: %w", err)
	}
	if r.json {
		if _, err := inv.env.Stdout.Write(b.Bytes()); err != nil {
			return fmt.Errorf("write the result document: %w", err)
		}
	}
	if r.report != "" {
		if err := writeFileAtomic(r.report, b.Bytes()); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory: a reader never sees half a report.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// stageExit is the exit code a stage's outcome calls for (stageError's).
func stageExit(s pass.Stage) int {
	switch {
	case s.Interrupted != 0:
		return s.Interrupted
	case s.Failed:
		return ExitFailed
	}
	return ExitOK
}

// exitError is the error that makes Run exit with code (stageExit's).
func exitError(code int) error {
	switch code {
	case ExitOK:
		return nil
	case ExitFailed:
		return errFailed
	}
	return &interruptedError{code: code}
}

// finishWith is finish, then the error code calls for; a report that could
// not be written is that error instead (exit 1).
func (r resultFlags) finishWith(inv *invocation, run report.Run) error {
	if err := r.finish(inv, run); err != nil {
		return err
	}
	return exitError(run.ExitCode)
}
