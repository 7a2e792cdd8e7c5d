package registry

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"supervisor/internal/dbconn"
)

// sqlalchemyURL is the pattern SQLAlchemy's make_url matches (1.4 and 2.0),
// anchored at both ends: where SQLAlchemy would quietly ignore trailing text
// we refuse the URL. Username and password are percent-decoded; the database
// part is taken as written, as SQLAlchemy does.
var sqlalchemyURL = regexp.MustCompile(`^(?P<name>[\w+]+)://` +
	`(?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?` +
	`(?:(?:\[(?P<ipv6host>[^/?]+)\]|(?P<ipv4host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?` +
	`(?:/(?P<database>[^?]*))?` +
	`(?:\?(?P<query>.*))?$`)

// connHint shows the accepted URL forms in error messages.
const connHint = "want sqlite:////abs/path.sqlite or postgresql://user@host:port/db"

// ParseConnection parses a SQLAlchemy URL as CodeChecker stores it in the
// products table: sqlite:////abs/path.sqlite (also sqlite+pysqlite://),
// sqlite:///relative.sqlite (relative to baseDir), and
// postgresql://user:pass@host:port/db with an optional +driver
// (postgresql+psycopg2://) or the postgres:// spelling. User and password may
// be percent-escaped; a missing port means 5432; query parameters (CodeChecker
// adds client_encoding=utf8) are ignored.
//
// A SQLite path in the result is absolute and clean. Error messages never
// repeat the URL, as it may hold a password.
func ParseConnection(conn, baseDir string) (dbconn.Target, error) {
	m := sqlalchemyURL.FindStringSubmatch(conn)
	if m == nil {
		return dbconn.Target{}, fmt.Errorf("%w: not a SQLAlchemy URL (%s)", ErrInvalidConnection, connHint)
	}
	part := func(name string) string { return m[sqlalchemyURL.SubexpIndex(name)] }
	scheme := part("name")
	backend, _, _ := strings.Cut(scheme, "+")
	switch backend {
	case "sqlite":
		return parseSQLite(part, baseDir)
	case "postgresql", "postgres":
		return parsePostgres(part, scheme)
	default:
		return dbconn.Target{}, fmt.Errorf("%w: unsupported database type %q (%s)", ErrInvalidConnection, scheme, connHint)
	}
}

func parseSQLite(part func(string) string, baseDir string) (dbconn.Target, error) {
	if part("username") != "" || part("password") != "" || part("ipv4host") != "" ||
		part("ipv6host") != "" || part("port") != "" {
		// sqlite://abs/x.sqlite is a common slip for sqlite:////abs/x.sqlite.
		return dbconn.Target{}, fmt.Errorf("%w: a sqlite URL names no host or user; use sqlite:////abs/path or sqlite:///relative/path", ErrInvalidConnection)
	}
	p := part("database")
	if p == "" || p == ":memory:" {
		return dbconn.Target{}, fmt.Errorf("%w: sqlite URL names no database file", ErrInvalidConnection)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(baseDir, p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return dbconn.Target{}, fmt.Errorf("%w: sqlite path %q: %v", ErrInvalidConnection, p, err)
	}
	return dbconn.Target{Dialect: dbconn.SQLite, Path: abs}, nil
}

func parsePostgres(part func(string) string, scheme string) (dbconn.Target, error) {
	t := dbconn.Target{
		Dialect:  dbconn.Postgres,
		Host:     part("ipv4host"),
		Port:     dbconn.DefaultPort,
		User:     pyUnquote(part("username")),
		Password: pyUnquote(part("password")),
		Database: part("database"),
	}
	if h := part("ipv6host"); h != "" {
		t.Host = h
	}
	if t.Host == "" {
		return dbconn.Target{}, fmt.Errorf("%w: %s URL names no host", ErrInvalidConnection, scheme)
	}
	// An '@' after the user information means a user name or password with
	// an unescaped '@' or '/': the rest of the secret would land in the
	// host, port or database, and be shown wherever they are. Refuse it,
	// repeating none of it. (No PostgreSQL host has an '@', and a database
	// name with one would not read back as itself either.)
	if strings.Contains(t.Host+part("port")+t.Database, "@") {
		return dbconn.Target{}, fmt.Errorf("%w: %s URL has an '@' after its user information: percent-escape '@' (%%40), '/' (%%2F) and ':' (%%3A) in a user name or password", ErrInvalidConnection, scheme)
	}
	if p := part("port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return dbconn.Target{}, fmt.Errorf("%w: %s URL has invalid port %q", ErrInvalidConnection, scheme, p)
		}
		t.Port = n
	}
	if t.Database == "" {
		return dbconn.Target{}, fmt.Errorf("%w: %s URL names no database", ErrInvalidConnection, scheme)
	}
	return t, nil
}

// pyUnquote decodes %XX escapes like Python's urllib.parse.unquote, which
// SQLAlchemy uses: a '%' not followed by two hex digits stays as it is.
func pyUnquote(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			n, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(n))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// FormatConnection renders t as the SQLAlchemy URL CodeChecker itself writes,
// never including a password: sqlite+pysqlite:////abs/path or
// postgresql+psycopg2://user@host:port/db. CodeChecker compares these driver
// names when it looks for a database used by two products, and reads only
// URLs whose driver contains "postgresql" or "sqlite".
//
// A relative SQLite path stays relative (sqlite+pysqlite:///rel), which
// ParseConnection resolves against its baseDir.
func FormatConnection(t dbconn.Target) string {
	if t.Dialect == dbconn.SQLite {
		return "sqlite+pysqlite:///" + t.Path
	}
	var b strings.Builder
	b.WriteString("postgresql+psycopg2://")
	if t.User != "" {
		b.WriteString(quoteUserinfo(t.User))
		b.WriteByte('@')
	}
	b.WriteString(hostPort(t))
	b.WriteByte('/')
	b.WriteString(t.Database)
	return b.String()
}

// quoteUserinfo percent-escapes every byte of s but the URL's unreserved
// characters and sub-delimiters. SQLAlchemy unquotes the whole user name, so
// escaping more than it does ([:@/]) still reads back the same.
func quoteUserinfo(s string) string {
	const safe = "-._~!$&'()*+,;="
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(safe, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// hostPort renders host:port, bracketing an IPv6 address; port 0 is 5432.
func hostPort(t dbconn.Target) string {
	port := t.Port
	if port == 0 {
		port = dbconn.DefaultPort
	}
	return net.JoinHostPort(t.Host, strconv.Itoa(port))
}

// Location is the human-readable place of t for status tables and logs: the
// SQLite path, or user@host:port/db for PostgreSQL. It never holds a password.
func Location(t dbconn.Target) string {
	if t.Dialect == dbconn.SQLite {
		return t.Path
	}
	loc := hostPort(t) + "/" + t.Database
	if t.User != "" {
		loc = t.User + "@" + loc
	}
	return loc
}

// checkTarget reports what stops t from being stored as a product's
// database such that ParseConnection reads it back unchanged.
func checkTarget(t dbconn.Target) error {
	switch t.Dialect {
	case dbconn.SQLite:
		if t.Path == "" || t.Path == ":memory:" {
			return fmt.Errorf("%w: no SQLite database path", ErrInvalidConnection)
		}
		if strings.ContainsAny(t.Path, "?\x00") {
			return fmt.Errorf("%w: SQLite path %q contains '?' or NUL, which a SQLAlchemy URL cannot carry", ErrInvalidConnection, t.Path)
		}
	case dbconn.Postgres:
		if t.Host == "" {
			return fmt.Errorf("%w: no PostgreSQL host", ErrInvalidConnection)
		}
		if strings.ContainsAny(t.Host, "/?@[]") || strings.Contains(t.Host, ":") && net.ParseIP(t.Host) == nil {
			return fmt.Errorf("%w: invalid PostgreSQL host %q", ErrInvalidConnection, t.Host)
		}
		if t.Port < 0 || t.Port > 65535 {
			return fmt.Errorf("%w: invalid PostgreSQL port %d", ErrInvalidConnection, t.Port)
		}
		if err := checkPostgresDBName(t.Database); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: unknown database dialect %q (want sqlite or postgres)", ErrInvalidConnection, t.Dialect)
	}
	return nil
}

// checkPostgresDBName applies CodeChecker's rule for product databases (1 to
// 63 bytes; no quotes, backslash, semicolon, whitespace or NUL), adding
// control characters, '?', which would end the database part of the URL, and
// '@', which would make the URL read back as a user name (and which
// ParseConnection refuses there).
func checkPostgresDBName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: no PostgreSQL database name", ErrInvalidConnection)
	}
	if len(name) > 63 {
		return fmt.Errorf("%w: PostgreSQL database name %q is %d bytes long, at most 63 are allowed", ErrInvalidConnection, name, len(name))
	}
	for i, c := range name {
		if unicode.IsSpace(c) || unicode.IsControl(c) || strings.ContainsRune(`'"\;?@`, c) {
			return fmt.Errorf("%w: PostgreSQL database name %q: character %q at byte %d is not allowed", ErrInvalidConnection, name, c, i+1)
		}
	}
	return nil
}
