package registry

import "errors"

// Sentinel errors. Functions wrap them with context; test with errors.Is.
var (
	// ErrNotFound reports an endpoint that no product has.
	ErrNotFound = errors.New("no such product")
	// ErrExists reports an endpoint that another product already has.
	ErrExists = errors.New("product already exists")
	// ErrDatabaseInUse reports a database that another product already uses,
	// which CodeChecker refuses as well.
	ErrDatabaseInUse = errors.New("database already used by another product")
	// ErrInvalidEndpoint reports an endpoint CodeChecker would not route.
	ErrInvalidEndpoint = errors.New("invalid endpoint")
	// ErrInvalidConnection reports a database location that cannot be parsed
	// or stored.
	ErrInvalidConnection = errors.New("invalid database connection")
	// ErrInvalidPasswordEnv reports a password variable that cannot be
	// stored: not a variable name, or given for a SQLite product.
	ErrInvalidPasswordEnv = errors.New("invalid password variable")
	// ErrConfigOutdated reports a config database whose schema lacks what the
	// operation needs (a CodeChecker-made database at our version 1).
	ErrConfigOutdated = errors.New("config database is at an older version; run `supervisor migrate` first")
)

// IsInputError reports whether err is the operator's input that the
// registry refused (a taken or invalid endpoint, a bad or shared database
// location or password variable, a config database too old for it), not a
// failure to write.
func IsInputError(err error) bool {
	for _, e := range []error{ErrNotFound, ErrExists, ErrDatabaseInUse, ErrInvalidEndpoint, ErrInvalidConnection, ErrInvalidPasswordEnv, ErrConfigOutdated} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
