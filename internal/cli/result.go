package cli

import (
	"github.com/spf13/pflag"

	"supervisor/internal/pass"
	"supervisor/internal/report"
)

// resultFlags say where the result of migrate, cleanup and up goes
// (report.Output).
type resultFlags struct {
	json   bool
	report string
}

func (r *resultFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&r.json, "json", false, "print one JSON document on stdout instead of tables (questions go to stderr; logs stay on stderr)")
	fs.StringVar(&r.report, "report", "", "also write the JSON document to `FILE`")
}

func (r *resultFlags) check() (err error) {
	r.report, err = report.CheckReportPath(r.report)
	return err
}

func (r resultFlags) output(inv *invocation) report.Output {
	return report.Output{JSON: r.json, Report: r.report, Stdout: inv.env.Stdout, Stderr: inv.env.Stderr}
}

// finish prints the run's totals and document, then returns the error its
// exit code calls for; a report that could not be written is that error
// instead (exit 1).
func (r resultFlags) finish(inv *invocation, run report.Run) error {
	if err := r.output(inv).Finish(run); err != nil {
		return err
	}
	switch run.ExitCode {
	case ExitOK:
		return nil
	case ExitFailed:
		return errFailed
	}
	return &interruptedError{code: run.ExitCode}
}

// stageExit is the exit code a stage's outcome calls for.
func stageExit(s pass.Stage) int {
	switch {
	case s.Interrupted != 0:
		return s.Interrupted
	case s.Failed:
		return ExitFailed
	}
	return ExitOK
}
