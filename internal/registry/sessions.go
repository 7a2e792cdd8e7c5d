package registry

import (
	"context"
	"time"

	"supervisor/internal/dbconn"
)

// RemoveExpiredSessions deletes the login sessions last used before cutoff
// and returns how many. CodeChecker writes naive local timestamps; they are
// compared the same way (on SQLite as SQLAlchemy's text, which sorts like
// the time). Their OAuth tokens go with them (ON DELETE CASCADE).
func (r *Registry) RemoveExpiredSessions(ctx context.Context, cutoff time.Time) (int64, error) {
	if err := r.check(); err != nil {
		return 0, err
	}
	q := "DELETE FROM auth_sessions WHERE last_access < ?"
	if r.dialect == dbconn.Postgres {
		q = "DELETE FROM auth_sessions WHERE last_access < $1::timestamp"
	}
	res, err := r.db.ExecContext(ctx, q, cutoff.Local().Format("2006-01-02 15:04:05.000000"))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
