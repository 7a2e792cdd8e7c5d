package worker

import (
	"context"
	"database/sql"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/dbconn"
	"supervisor/internal/event"
	"supervisor/internal/job"
	"supervisor/schema"
)

// lockProduct takes the product's lock (dbconn.Lock), which migrate and
// cleanup alike hold for the whole job, and says so as events: a
// lock_wait line when another supervisor holds it, and a lock_acquired
// line once it is the job's (at debug level when it was free, so that an
// uneventful job's log stays as it was).
func lockProduct(ctx context.Context, spec job.Spec, db *sql.DB, log hclog.Logger) (func(context.Context), error) {
	return dbconn.Lock(ctx, db, spec.Target.Dialect, dbconn.LockName(string(schema.Product)), dbconn.LockOptions{
		Timeout: lockTimeout(spec),
		OnWait: func(timeout time.Duration) {
			event.Emit(log, hclog.Info, "waiting for the database lock (another supervisor is working on this database)",
				event.Event{Kind: event.LockWait, Timeout: timeout})
		},
		OnAcquired: func(waited time.Duration) {
			level := hclog.Info
			if waited == 0 {
				level = hclog.Debug
			}
			event.Emit(log, level, "database lock acquired", event.Event{Kind: event.LockAcquired, Duration: waited})
		},
	})
}
