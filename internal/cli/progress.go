package cli

import (
	"supervisor/internal/logging"
	"supervisor/internal/pass"
	"supervisor/internal/progress"
)

// useProgress gives the pass o the live progress display when stderr is a
// terminal and --no-progress (off) is not given (progress.ForTerminal); the
// logs are then written through it, in colour unless NO_COLOR is set.
func (inv *invocation) useProgress(o *pass.Options, off bool) {
	// setupLogs checked the format and the level already.
	format, _ := logging.ParseFormat(inv.logFormat)
	level, _ := logging.ParseLevel(inv.logLevel)
	d, logs, ok := progress.ForTerminal(inv.env.Stderr, off, inv.env.Getenv("NO_COLOR") != "", format, level)
	if !ok {
		return
	}
	inv.logs, inv.log = logs, logs.Logger()
	o.Logs, o.Progress = logs, d
}
