package dbconn

// Dialect names the kind of database a Target is. Its value is the word the
// job spec carries on the wire ("dialect": "sqlite"), so the wire format
// does not depend on the Go names.
type Dialect string

// The dialects the supervisor knows. Everything outside this package and
// the URL parsing in registry compares with these, never with the words.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Dialects lists every dialect, in the order the supervisor reports them.
var Dialects = []Dialect{SQLite, Postgres}

// String is the dialect's word, as the job spec, the migration directories
// and the messages write it.
func (d Dialect) String() string { return string(d) }

// Valid reports whether d is a dialect the supervisor knows.
func (d Dialect) Valid() bool { return d == SQLite || d == Postgres }

// ParseDialect reads a dialect's word: "sqlite", "postgres", or SQLAlchemy's
// "postgresql" for Postgres. ok is false for any other word.
func ParseDialect(s string) (d Dialect, ok bool) {
	switch s {
	case "sqlite":
		return SQLite, true
	case "postgres", "postgresql":
		return Postgres, true
	}
	return Dialect(s), false
}

// Target says where a database is and how to reach it.
type Target struct {
	// Dialect is SQLite or Postgres.
	Dialect Dialect `json:"dialect"`
	// Path is the SQLite database file.
	Path string `json:"path,omitempty"`
	// Host, Port, User and Database locate a PostgreSQL database.
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	User     string `json:"user,omitempty"`
	Database string `json:"database,omitempty"`
	// Password is the resolved PostgreSQL secret. It is only ever sent on
	// the worker's stdin and must never be logged.
	Password string `json:"password,omitempty"`
}
