package dbconn

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// ConnectError is a failed PostgreSQL connection, told in one line: the
// cause of the attempt that tells most first, then where it went to. It
// unwraps to pgx's error.
type ConnectError struct {
	msg string
	err error
}

func (e *ConnectError) Error() string { return e.msg }

func (e *ConnectError) Unwrap() error { return e.err }

// connectError rewrites err, pgx's error for a failed connection, as a
// ConnectError without password. pgx's *pgconn.ConnectError joins the
// errors of every attempt, one per line: with sslmode=prefer (libpq's
// default) it tries each address with TLS and then without, so a server
// without TLS fails first with "tls error: server refused TLS connection",
// and the plain attempt's error, the one that says what is wrong, comes
// second. Here the TLS refusals go when another attempt failed for a reason
// of its own, and a cause repeated for another attempt is told once.
func connectError(err error, password string) error {
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		return &ConnectError{msg: redact(strings.Join(strings.Fields(err.Error()), " "), password), err: err}
	}
	type attempt struct{ cause, addr string }
	var all []attempt
	for _, a := range flatten(errors.Unwrap(ce)) {
		at := attempt{cause: a.Error()}
		// pgx's per-attempt error is "ADDR (HOST): CAUSE", CAUSE its Unwrap.
		if inner := errors.Unwrap(a); inner != nil && strings.HasSuffix(at.cause, ": "+inner.Error()) {
			at.addr = strings.TrimSuffix(at.cause, ": "+inner.Error())
			at.cause = inner.Error()
		}
		all = append(all, at)
	}
	isTLSRefusal := func(a attempt) bool { return strings.HasPrefix(a.cause, "tls error: ") }
	var picked []attempt
	for _, a := range all {
		if !isTLSRefusal(a) {
			picked = append(picked, a)
		}
	}
	if len(picked) == 0 {
		picked = all
	}
	seen := map[string]bool{}
	var parts []string
	for _, a := range picked {
		if seen[a.cause] {
			continue
		}
		seen[a.cause] = true
		part := a.cause
		// "127.0.0.1:5432 (localhost)": the address, unless the cause names it.
		if addr, _, _ := strings.Cut(a.addr, " "); addr != "" && !strings.Contains(a.cause, addr) {
			part += " (at " + addr + ")"
		}
		parts = append(parts, part)
	}
	msg := strings.Join(parts, "; ")
	if msg == "" {
		msg = ce.Error()
	}
	msg += " (connecting to database " + ce.Config.Database + " as user " + ce.Config.User + ")"
	return &ConnectError{msg: redact(strings.Join(strings.Fields(msg), " "), password), err: err}
}

// flatten lists the errors err joins (errors.Join), at any depth, or err.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

var (
	// password=... in a libpq keyword/value string, quoted or not.
	rePasswordKV = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s'][^\s]*)`)
	// The password of a postgres:// URL's user information.
	rePasswordURL = regexp.MustCompile(`(?i)(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@`)
)

// redact removes password, and anything that looks like one in a connection
// string or URL, from msg: pgx's errors may quote connection details, and a
// password must never reach a log, a table or a result record.
func redact(msg, password string) string {
	if password != "" {
		msg = strings.ReplaceAll(msg, password, "xxxxx")
	}
	msg = rePasswordKV.ReplaceAllString(msg, "${1}xxxxx")
	return rePasswordURL.ReplaceAllString(msg, "${1}xxxxx@")
}

// LostError is a PostgreSQL session that ended under a statement: the
// server shut down, or the connection closed (the server or its host died,
// an administrator ended the session, the network dropped it). database/sql
// says only "driver: bad connection" when the connection was found closed
// before a statement could start; this says what happened.
type LostError struct {
	// Shutdown is set when the server said it is shutting down.
	Shutdown bool
	err      error
}

// What is the event: "the PostgreSQL server shut down" or "the PostgreSQL
// server closed the connection".
func (e *LostError) What() string {
	if e.Shutdown {
		return "the PostgreSQL server shut down"
	}
	return "the PostgreSQL server closed the connection"
}

// Detail is what the error said besides the event: the driver's words,
// the context callers added; database/sql's "driver: bad connection" says
// nothing more and is left out.
func (e *LostError) Detail() string {
	msg := strings.Join(strings.Fields(e.err.Error()), " ")
	if errors.Is(e.err, driver.ErrBadConn) {
		msg = strings.TrimSuffix(strings.TrimSuffix(msg, driver.ErrBadConn.Error()), ": ")
	}
	return msg
}

func (e *LostError) Error() string {
	if d := e.Detail(); d != "" {
		return e.What() + ": " + d
	}
	return e.What()
}

func (e *LostError) Unwrap() error { return e.err }

// LockTimeoutError is a statement that waited for a lock held by another
// session for longer than its lock_timeout (SQLSTATE 55P03).
type LockTimeoutError struct {
	Timeout time.Duration
	err     error
}

func (e *LockTimeoutError) Error() string {
	msg := "timed out waiting for a lock held by another session"
	if e.Timeout > 0 {
		msg += " (lock timeout " + e.Timeout.String() + ")"
	}
	return msg + ": " + strings.Join(strings.Fields(e.err.Error()), " ")
}

func (e *LockTimeoutError) Unwrap() error { return e.err }

// Explain returns err, a statement's error, as a *LostError when the
// session it ran on is gone, or as a *LockTimeoutError when it gave up
// waiting for a lock after lockTimeout (the session's lock_timeout, only
// told); any other err, nil included, is returned as it is, and so is one
// already explained.
func Explain(err error, lockTimeout time.Duration) error {
	if err == nil {
		return nil
	}
	var (
		lost *LostError
		lock *LockTimeoutError
		ce   *ConnectError
		pce  *pgconn.ConnectError
	)
	if errors.As(err, &lost) || errors.As(err, &lock) {
		return err
	}
	var pe *pgconn.PgError
	// A connection that was never made was not lost: a ConnectError says
	// why already. But for one the server refused because it is shutting
	// down (SQLSTATE 57P03), as the pool connects again under a job.
	if errors.As(err, &ce) || errors.As(err, &pce) {
		if errors.As(err, &pe) && pe.Code == "57P03" && strings.Contains(pe.Message, "shutting down") {
			return &LostError{Shutdown: true, err: err}
		}
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "55P03":
			return &LockTimeoutError{Timeout: lockTimeout, err: err}
		// 57P01 admin_shutdown also ends a session pg_terminate_backend
		// ended: only its message tells a shutdown.
		case pe.Code == "57P02", pe.Code == "57P03", strings.Contains(pe.Message, "shutdown"):
			return &LostError{Shutdown: true, err: err}
		case strings.HasPrefix(pe.Code, "57P"), pe.Severity == "FATAL", pe.Severity == "PANIC":
			return &LostError{err: err}
		}
		return err
	}
	if connectionGone(err) {
		return &LostError{err: err}
	}
	return err
}

// connectionGone reports whether err says the connection is closed or
// broke: database/sql's ErrBadConn, pgx's closed connection, an EOF or a
// network error where a server's answer was due.
func connectionGone(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.As(err, &ne):
		return true
	}
	msg := err.Error()
	for _, s := range []string{"conn closed", "unexpected EOF", "connection reset", "broken pipe"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
