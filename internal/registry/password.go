package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/jackc/pgpassfile"
)

// ResolvePassword returns the PostgreSQL password for p, looking in this
// order:
//
//  1. the environment variable p.PasswordEnv names, if it names one; the
//     variable must then be set and not empty;
//  2. the password CodeChecker stored in the product's URL (p.Target.Password);
//  3. PGPASSWORD;
//  4. the first matching entry of the file PGPASSFILE names, or of
//     ~/.pgpass (%APPDATA%\postgresql\pgpass.conf on Windows);
//  5. "": the server may not need one.
//
// getenv reads the environment (os.Getenv in production); it is also asked
// for HOME. A password file that does not exist is skipped; one that cannot
// be read is an error. SQLite products have no password.
func ResolvePassword(p Product, getenv func(string) string) (string, error) {
	if p.Target.Dialect != "postgres" {
		return "", nil
	}
	if p.PasswordEnv != "" {
		if v := getenv(p.PasswordEnv); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("password of product %q: environment variable %s is not set or empty", p.Endpoint, p.PasswordEnv)
	}
	if p.Target.Password != "" {
		return p.Target.Password, nil
	}
	if v := getenv("PGPASSWORD"); v != "" {
		return v, nil
	}
	path := passfilePath(getenv)
	if path == "" {
		return "", nil
	}
	pf, err := pgpassfile.ReadPassfile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("password of product %q: read password file: %w", p.Endpoint, err)
	}
	port := p.Target.Port
	if port == 0 {
		port = defaultPort
	}
	return pf.FindPassword(p.Target.Host, strconv.Itoa(port), p.Target.Database, p.Target.User), nil
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
