package migrate

import (
	"errors"
	"fmt"

	"supervisor/internal/dbconn"
	"supervisor/internal/logging"
)

// ErrNotUpgradable is returned for a database whose state rules an upgrade out.
var ErrNotUpgradable = errors.New("not possible to upgrade")

// FileError says which file and statement failed.
type FileError struct {
	Version, Description string
	Statement            string
	Err                  error
}

func (e *FileError) Error() string {
	msg := fmt.Sprintf("version %s (%s)", e.Version, e.Description)
	// A lost session is the event, the file and statement where it hit.
	var lost *dbconn.LostError
	if errors.As(e.Err, &lost) {
		msg = lost.What() + " during " + msg
	}
	if e.Statement != "" {
		msg += ": statement " + logging.OneLineCut(e.Statement, 120)
	}
	if lost != nil {
		if d := lost.Detail(); d != "" {
			msg += ": " + d
		}
		return msg
	}
	return msg + ": " + e.Err.Error()
}

func (e *FileError) Unwrap() error { return e.Err }
