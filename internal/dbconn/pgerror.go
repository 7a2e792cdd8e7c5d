package dbconn

import (
	"errors"
	"regexp"
	"strings"

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
