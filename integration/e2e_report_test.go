package integration

// End-to-end tests of the outcome words, the Failures section, the totals
// line, and the --json / --report document of migrate, cleanup and up. The
// helpers here are this file's own.

import (
	"strings"
)

// e2eOutcome is endpoint's outcome in out (a migrate, cleanup or up stdout):
// the Result cell of its last summary row, and its last block of a Failures
// section after "  [endpoint] " ("failed: reason"; "" when it has none).
// The block's first line only: the worker's last lines under it are not
// part of the reason.
func e2eOutcome(out, endpoint string) (cell, failure string) {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == endpoint && f[1] == "|" {
			cells := strings.Split(l, "|")
			cell = strings.TrimSpace(cells[len(cells)-1])
		}
		if rest, ok := strings.CutPrefix(l, "  ["+endpoint+"] "); ok {
			failure = rest
		}
	}
	return cell, failure
}
