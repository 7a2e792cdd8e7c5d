package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/jackc/pgpassfile"

	"supervisor/internal/dbconn"
)

// Password is what ResolvePassword found for a product.
type Password struct {
	// Value is the password; "" when no source gave one (the server may
	// need none).
	Value string
	// Source says where Value came from, for the log: "$VAR", "the
	// connection URL", "PGPASSWORD" or the password file's path; "" when
	// nothing gave a password.
	Source string
	// UnsetEnv is the variable the product names (--db-password-env) when
	// that variable is unset or empty. The sources after it were asked
	// instead; should none of them give a password, UnsetEnv is the reason
	// to name if the server then asks for one.
	UnsetEnv string
}

// Hint is the sentence to add to a failure to authenticate when the
// product's own variable was unset and nothing else gave a password; "" in
// every other case.
func (pw Password) Hint() string {
	if pw.Value != "" || pw.UnsetEnv == "" {
		return ""
	}
	return fmt.Sprintf("environment variable %s (the product's --db-password-env) is not set or empty, and neither the connection URL, PGPASSWORD nor a password file gave a password", pw.UnsetEnv)
}

// ResolvePassword returns the PostgreSQL password for p, taking the first of:
//
//  1. the environment variable p.PasswordEnv names, when it is set and not
//     empty (unset or empty: Password.UnsetEnv says so, and the search goes
//     on: it is a warning, not an error);
//  2. the password CodeChecker stored in the product's URL (p.Target.Password);
//  3. PGPASSWORD;
//  4. the first matching entry of the file PGPASSFILE names, or of
//     ~/.pgpass (%APPDATA%\postgresql\pgpass.conf on Windows);
//  5. none: the server may not need one.
//
// getenv reads the environment (os.Getenv in production); it is also asked
// for HOME. A password file that does not exist is skipped; one that cannot
// be read is an error. SQLite products have no password.
func ResolvePassword(p Product, getenv func(string) string) (Password, error) {
	var pw Password
	if p.Target.Dialect != dbconn.Postgres {
		return pw, nil
	}
	if p.PasswordEnv != "" {
		if v := getenv(p.PasswordEnv); v != "" {
			return Password{Value: v, Source: "$" + p.PasswordEnv}, nil
		}
		pw.UnsetEnv = p.PasswordEnv
	}
	if p.Target.Password != "" {
		pw.Value, pw.Source = p.Target.Password, "the connection URL"
		return pw, nil
	}
	if v := getenv("PGPASSWORD"); v != "" {
		pw.Value, pw.Source = v, "PGPASSWORD"
		return pw, nil
	}
	path := passfilePath(getenv)
	if path == "" {
		return pw, nil
	}
	pf, err := pgpassfile.ReadPassfile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return pw, nil
	}
	if err != nil {
		return pw, fmt.Errorf("password of product %q: read password file: %w", p.Endpoint, err)
	}
	port := p.Target.Port
	if port == 0 {
		port = dbconn.DefaultPort
	}
	if v := pf.FindPassword(p.Target.Host, strconv.Itoa(port), p.Target.Database, p.Target.User); v != "" {
		pw.Value, pw.Source = v, path
	}
	return pw, nil
}

// passfilePath is where libpq looks for the password file, or "" if there is
// no such place.
func passfilePath(getenv func(string) string) string {
	if f := getenv("PGPASSFILE"); f != "" {
		return f
	}
	if runtime.GOOS == "windows" {
		if d := getenv("APPDATA"); d != "" {
			return filepath.Join(d, "postgresql", "pgpass.conf")
		}
		return ""
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".pgpass")
	}
	return ""
}
