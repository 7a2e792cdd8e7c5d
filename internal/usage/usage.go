// Package usage is the one kind of error that means bad usage or
// configuration, found before anything was touched: the command line exits
// 2 for it (DESIGN.md). Any room may find such an error (a flag, the
// selection, the config database); only the command line decides the exit
// code.
package usage

import (
	"errors"
	"fmt"
)

// Error is bad usage or configuration.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

// Errorf makes an Error.
func Errorf(format string, args ...any) error {
	return &Error{msg: fmt.Sprintf(format, args...)}
}

// Is reports whether err is, or wraps, an Error.
func Is(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
