package cli

import (
	"os"

	"supervisor/internal/logging"
	"supervisor/internal/pass"
	"supervisor/internal/progress"
	"supervisor/internal/tty"
)

// useProgress gives the pass o the live progress display when stderr is a
// terminal and --no-progress (off) is not given: the logs are then written
// through the display, above its bars, with their levels in colour unless
// NO_COLOR is set (and not empty). Otherwise the logs stay as they are:
// plain lines, not one control character added.
func (inv *invocation) useProgress(o *pass.Options, off bool) {
	stderr, ok := inv.env.Stderr.(*os.File)
	if off || !ok || !tty.IsTerminal(stderr) {
		return
	}
	d := progress.New(stderr, progress.Options{})
	newLogs := logging.NewColor
	if inv.env.Getenv("NO_COLOR") != "" {
		newLogs = logging.New
	}
	// parse checked the format and the level already.
	format, ferr := logging.ParseFormat(inv.logFormat)
	level, lerr := logging.ParseLevel(inv.logLevel)
	if ferr != nil || lerr != nil {
		return
	}
	logs, err := newLogs(d, format, level)
	if err != nil {
		return
	}
	inv.logs, inv.log = logs, logs.Logger()
	o.Logs, o.Progress = logs, d
}
