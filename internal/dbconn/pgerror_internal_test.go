package dbconn

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// No password reaches a connection error's message, however the error
// quotes it: verbatim, in a keyword/value string, or in a URL.
func TestConnectErrorRedactsPasswords(t *testing.T) {
	const pw = `it's "a" s3cret`
	tests := []struct {
		name string
		err  error
	}{
		{"verbatim", fmt.Errorf("server said: bad secret %s", pw)},
		{"keyword/value", fmt.Errorf("cannot parse `host=h password=hunter2 user=u`: x")},
		{"quoted keyword/value", fmt.Errorf(`cannot parse "host=h password='hun ter2' user=u"`)},
		{"URL", fmt.Errorf("cannot parse postgres://u:hunter2@h:5432/d")},
		{"several lines", fmt.Errorf("first\n\tsecond %s", pw)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := connectError(tt.err, pw).Error()
			for _, secret := range []string{pw, "s3cret", "hunter2", "hun ter2"} {
				if strings.Contains(msg, secret) {
					t.Errorf("message %q holds %q", msg, secret)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("message %q spans lines", msg)
			}
			if !strings.Contains(msg, "xxxxx") {
				t.Errorf("message %q does not show where the password was", msg)
			}
		})
	}
}

// A connection the server refused because it is shutting down, made by the
// pool under a job that was already connected, is a lost session (the
// server shut down); any other refused connection keeps its own reason.
func TestExplainConnectRefusedWhileShuttingDown(t *testing.T) {
	shutting := &ConnectError{msg: "server error: FATAL: the database system is shutting down (SQLSTATE 57P03)",
		err: &pgconn.PgError{Severity: "FATAL", Code: "57P03", Message: "the database system is shutting down"}}
	var lost *LostError
	if got := Explain(fmt.Errorf("list tables: %w", shutting), 0); !errors.As(got, &lost) || !lost.Shutdown {
		t.Errorf("Explain(shutting down) = %q, want a LostError with Shutdown", got)
	}
	starting := &ConnectError{msg: "server error: FATAL: the database system is starting up (SQLSTATE 57P03)",
		err: &pgconn.PgError{Severity: "FATAL", Code: "57P03", Message: "the database system is starting up"}}
	if got := Explain(starting, 0); got != error(starting) {
		t.Errorf("Explain(starting up) = %q, want it unchanged", got)
	}
}
