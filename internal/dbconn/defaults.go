package dbconn

import "time"

// The defaults of the whole supervisor, in one place: the flags of status,
// migrate, cleanup and up, the worker's job options, Upgrade, Lock and Open
// all use these when nothing says otherwise.
const (
	// DefaultLockTimeout bounds the wait for a database's lock: a product's
	// PostgreSQL advisory lock, and SQLite's write lock (its busy timeout).
	DefaultLockTimeout = 30 * time.Second
	// DefaultConnectTimeout bounds connecting to a PostgreSQL server.
	DefaultConnectTimeout = 10 * time.Second
	// DefaultPort is PostgreSQL's port, for a URL or a product that names
	// none.
	DefaultPort = 5432
)
