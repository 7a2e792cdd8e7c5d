package registry

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
)

const fuzzBase = "/base/dir"

// FuzzParseConnection parses arbitrary connection strings: no panic; a
// PostgreSQL URL that parses renders (FormatConnection, without the
// password) to a URL that parses back to the same target; a SQLite one to
// the same absolute path.
func FuzzParseConnection(f *testing.F) {
	for _, s := range []string{
		"sqlite:////abs/path.sqlite",
		"sqlite+pysqlite:////abs/path.sqlite",
		"sqlite:///relative/x.sqlite",
		"sqlite://abs/x.sqlite",
		"sqlite:///:memory:",
		"postgresql+psycopg2://user:pass@host:5432/db",
		"postgresql://user:p%40ss@host/db?client_encoding=utf8",
		"postgres://u@[::1]:5433/db",
		"postgresql://user:p@ss@host/db",
		"postgresql://us/er:secret@host/db",
		"postgresql://user:a@b:c@host:5432/db",
		"postgresql+psycopg2://user@host:5432/a@b",
		"mysql://u@h/db",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, conn string) {
		tg, err := ParseConnection(conn, fuzzBase)
		if err != nil {
			return
		}
		again, err := ParseConnection(FormatConnection(tg), fuzzBase)
		if err != nil {
			t.Fatalf("%q parsed to %+v, whose URL %q does not parse: %v", conn, tg, FormatConnection(tg), err)
		}
		want := tg
		want.Password = ""
		if again != want {
			t.Fatalf("%q parsed to %+v; its URL %q parses to %+v", conn, tg, FormatConnection(tg), again)
		}
		if tg.Dialect == dbconn.SQLite && (!filepath.IsAbs(tg.Path) || filepath.Clean(tg.Path) != tg.Path) {
			t.Fatalf("%q: SQLite path %q is not absolute and clean", conn, tg.Path)
		}
	})
}

// FuzzConnectionPassword builds PostgreSQL URLs from parts, the password
// written raw or percent-escaped, and checks that the password never shows
// in an error, in Location or in FormatConnection, and that a URL that parses
// put the password where it belongs.
func FuzzConnectionPassword(f *testing.F) {
	for _, s := range [][5]string{
		{"user", "pass", "host", "5432", "db"},
		{"user", "p@ss", "host", "5432", "db"},
		{"user", "pa/ss:word", "host", "", "db"},
		{"us/er", "secret", "host", "5432", "db"},
		{"user", "a@b:c", "host", "5432", "db"},
		{"user", "s3cret", "host", "s3cret", "db"},
		{"", "hunter2", "[::1]", "5432", "cc?x=1"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], false)
		f.Add(s[0], s[1], s[2], s[3], s[4], true)
	}
	f.Fuzz(func(t *testing.T, user, password, host, port, db string, escape bool) {
		// Framed in <>, which no message text has, so that a password of
		// "pass" is not found in "password". A password that also occurs
		// elsewhere in the URL proves nothing when it shows up again.
		password = "<" + password + ">"
		if strings.Contains(user+host+port+db, password) {
			return
		}
		pw := password
		if escape {
			pw = url.PathEscape(password)
			if strings.Contains(user+host+port+db, pw) {
				return
			}
		}
		conn := "postgresql+psycopg2://" + user + ":" + pw + "@" + host
		if port != "" {
			conn += ":" + port
		}
		conn += "/" + db
		tg, err := ParseConnection(conn, fuzzBase)
		if err != nil {
			for _, secret := range []string{password, pw} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error for %q holds the password %q: %v", conn, secret, err)
				}
			}
			return
		}
		shown := map[string]string{
			"Location":         Location(tg),
			"FormatConnection": FormatConnection(tg),
			"host":             tg.Host,
			"user":             tg.User,
			"database":         tg.Database,
		}
		for what, s := range shown {
			for _, secret := range []string{password, pw} {
				if strings.Contains(s, secret) {
					t.Fatalf("%s of %q is %q: it holds the password %q (target %+v)", what, conn, s, secret, tg)
				}
			}
		}
		// A user name with a reserved character moves where the password
		// starts (into the query, say); otherwise it must be the password.
		want := password
		if !escape {
			want = pyUnquote(password) // written raw, %XX still means a byte
		}
		if tg.Password != want && !strings.ContainsAny(user, ":/?@") {
			t.Fatalf("%q: password parsed as %q, want %q (target %+v)", conn, tg.Password, want, tg)
		}
	})
}

// FuzzTargetRoundTrip: a target checkTarget accepts is stored as the URL
// FormatConnection writes, and ParseConnection must read it back unchanged
// (that is checkTarget's promise).
func FuzzTargetRoundTrip(f *testing.F) {
	f.Add(false, "/abs/x.sqlite", "", "", 0, "")
	f.Add(true, "", "host", "user", 5432, "db")
	f.Add(true, "", "::1", "us:er@x", 5433, "a:b")
	f.Add(true, "", "host", "user", 5432, "a@b")
	f.Add(true, "", "h#st", "", 1, "d%41b")
	f.Fuzz(func(t *testing.T, pg bool, path, host, user string, port int, db string) {
		tg := dbconn.Target{Dialect: dbconn.SQLite, Path: path}
		if pg {
			tg = dbconn.Target{Dialect: dbconn.Postgres, Host: host, User: user, Port: port, Database: db}
		}
		if tg.Dialect == dbconn.SQLite && (!filepath.IsAbs(path) || filepath.Clean(path) != path) {
			return // Add makes the path absolute and clean before it checks
		}
		if tg.Dialect == dbconn.Postgres && tg.Port == 0 {
			return // Add stores 5432 for 0
		}
		if checkTarget(tg) != nil {
			return
		}
		got, err := ParseConnection(FormatConnection(tg), fuzzBase)
		if err != nil {
			t.Fatalf("checkTarget accepts %+v, but its URL %q does not parse: %v", tg, FormatConnection(tg), err)
		}
		if got != tg {
			t.Fatalf("checkTarget accepts %+v, but its URL %q parses to %+v", tg, FormatConnection(tg), got)
		}
	})
}

// Found by FuzzConnectionPassword: a password with an unescaped '@' (or a
// user name with a '/') put the rest of the secret into the host, port or
// database, which Location and FormatConnection show.
func TestParseConnectionRefusesUnescapedAtAfterUserinfo(t *testing.T) {
	for _, conn := range []string{
		"postgresql://user:p@ss-secret@host/db",
		"postgresql://user:a@b:c-secret@host:5432/db",
		"postgresql://us/er:secret@host/db",
		"postgresql://user:pw@[::1@secret]/db",
	} {
		tg, err := ParseConnection(conn, fuzzBase)
		if err == nil {
			t.Errorf("%q parsed to %+v (shown as %q), want an error", conn, tg, Location(tg))
			continue
		}
		if strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "percent-escape '@' (%40)") {
			t.Errorf("%q: error %q, want the escaping hint and no part of the secret", conn, err)
		}
	}
	if _, err := ParseConnection("postgresql://user:p%40ss@host/db", fuzzBase); err != nil {
		t.Errorf("an escaped '@' is refused: %v", err)
	}
}

// Found by FuzzTargetRoundTrip: a database name with '@' was accepted, but its
// URL read back as a user name and a database-less URL.
func TestCheckTargetRefusesAtInDatabaseName(t *testing.T) {
	tg := dbconn.Target{Dialect: dbconn.Postgres, Host: "host", Port: 5432, User: "user", Database: "a@b"}
	if err := checkTarget(tg); err == nil {
		t.Errorf("checkTarget accepts %+v, whose URL %q does not read back", tg, FormatConnection(tg))
	}
}
