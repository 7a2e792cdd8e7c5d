package registry

import (
	"context"
	"fmt"
	"time"

	"supervisor/internal/dbconn"
)

// sessionTimeLayout is how CodeChecker (SQLAlchemy) writes auth_sessions'
// last_access: a naive local time.
const sessionTimeLayout = "2006-01-02 15:04:05.000000"

// RemoveExpiredSessions deletes the login sessions of the config database
// last accessed before cutoff, which CodeChecker would refuse anyway, and
// returns how many it deleted. CodeChecker writes last_access as a naive
// local time, so cutoff is compared in the local time zone.
func (r *Registry) RemoveExpiredSessions(ctx context.Context, cutoff time.Time) (int64, error) {
	if err := r.check(); err != nil {
		return 0, err
	}
	res, err := r.db.ExecContext(ctx, dbconn.Rebind(r.dialect, "DELETE FROM auth_sessions WHERE "+sqlOf(r.dialect).expiredSession),
		cutoff.Local().Format(sessionTimeLayout))
	if err != nil {
		return 0, fmt.Errorf("remove expired login sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("remove expired login sessions: %w", err)
	}
	return n, nil
}

// CountExpiredSessions counts the login sessions RemoveExpiredSessions
// would delete, by the same condition, without writing (cleanup --dry-run).
func (r *Registry) CountExpiredSessions(ctx context.Context, cutoff time.Time) (int64, error) {
	if err := r.check(); err != nil {
		return 0, err
	}
	var n int64
	err := r.db.QueryRowContext(ctx, dbconn.Rebind(r.dialect, "SELECT count(*) FROM auth_sessions WHERE "+sqlOf(r.dialect).expiredSession),
		cutoff.Local().Format(sessionTimeLayout)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count expired login sessions: %w", err)
	}
	return n, nil
}
