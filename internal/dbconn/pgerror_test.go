package dbconn_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
)

// A wrong password against a server without TLS: pgx tries TLS first
// (sslmode=prefer), is refused, then fails on the password. The error is
// one line, says the password was refused, not that TLS was, and holds no
// password.
func TestPostgresConnectErrorIsOneLineRealCauseFirst(t *testing.T) {
	c := pgtest.Start(t)
	c.CreateDatabase(t, "app")
	t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("PGPASSWORD", "")
	const pw = "wrong-s3cret password"
	target := dbconn.Target{Dialect: dbconn.Postgres, Host: "localhost", Port: c.Port, User: c.User, Database: "app", Password: pw}
	db, err := dbconn.Open(context.Background(), target, dbconn.Options{ConnectTimeout: 5 * time.Second})
	if err == nil {
		db.Close()
		t.Fatal("Open with a wrong password = nil error")
	}
	msg := err.Error()
	t.Logf("error: %s", msg)
	var raw *pgconn.ConnectError
	if !errors.As(err, &raw) || !strings.Contains(raw.Error(), "tls error") || !strings.Contains(raw.Error(), "\n") {
		t.Fatalf("pgx's own error %q: want the multi-line one with a TLS attempt this test is about", raw)
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error %q spans lines", msg)
	}
	if strings.Contains(msg, "tls error") {
		t.Errorf("error %q tells of the TLS attempt, not only the real cause", msg)
	}
	if !strings.HasPrefix(msg, "failed SASL auth") || !strings.Contains(msg, "password authentication failed") {
		t.Errorf("error %q, want it to start with the refused password", msg)
	}
	if n := strings.Count(msg, "password authentication failed"); n != 1 {
		t.Errorf("error %q tells the cause %d times, want once", msg, n)
	}
	if !strings.Contains(msg, "database app as user "+c.User) {
		t.Errorf("error %q, want it to name the database and the user", msg)
	}
	for _, secret := range []string{pw, "s3cret"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q holds the password", msg)
		}
	}
}

// Nobody listens: every attempt (TLS, plain) fails to dial the same way,
// and the cause is told once.
func TestPostgresConnectErrorTellsARepeatedCauseOnce(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	target := dbconn.Target{Dialect: dbconn.Postgres, Host: "127.0.0.1", Port: port, User: "u", Database: "d", Password: "pw-12345"}
	db, err := dbconn.Open(context.Background(), target, dbconn.Options{ConnectTimeout: 5 * time.Second})
	if err == nil {
		db.Close()
		t.Fatal("Open of a closed port = nil error")
	}
	msg := err.Error()
	t.Logf("error: %s", msg)
	if strings.Contains(msg, "\n") || strings.Count(msg, "connection refused") != 1 {
		t.Errorf("error %q, want one line telling \"connection refused\" once", msg)
	}
	if strings.Contains(msg, "pw-12345") {
		t.Errorf("error %q holds the password", msg)
	}
}
