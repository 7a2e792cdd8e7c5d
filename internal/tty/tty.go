// Package tty answers one question: is this input a terminal? The worker
// refuses to wait for a job typed on one, and the prompts echo answers that
// a terminal did not.
package tty

import (
	"io"
	"os"
)

// IsTerminal reports whether r is an *os.File that is a character device (a
// terminal, in practice; /dev/null is one too). Anything else — a pipe, a
// regular file, a reader that is not a file — is not.
func IsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok || f == nil {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
