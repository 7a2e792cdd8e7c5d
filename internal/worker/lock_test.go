package worker_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/dbconn"
	"supervisor/internal/event"
	"supervisor/internal/job"
	"supervisor/internal/migrate"
	"supervisor/internal/pgtest"
	"supervisor/internal/worker"
	"supervisor/schema"
)

// signalWriter is a log output that closes seen once a write holds want.
type signalWriter struct {
	mu   sync.Mutex
	buf  strings.Builder
	want string
	seen chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.seen != nil && strings.Contains(string(p), w.want) {
		close(w.seen)
		w.seen = nil
	}
	return len(p), nil
}

// A job that finds the product's lock held by another supervisor says so as
// a lock_wait event (with its timeout), then, once the lock is free, as a
// lock_acquired event (with how long it waited), before it reads the state;
// both actions, as the lock is theirs alike.
func TestJobEmitsLockEventsWhileAnotherHoldsTheLock(t *testing.T) {
	c := pgtest.Start(t)
	ctx := context.Background()
	for _, action := range []job.Action{job.ActionMigrate, job.ActionCleanup} {
		t.Run(string(action), func(t *testing.T) {
			name := c.CreateDatabase(t, "locked_"+string(action))
			target := dbconn.Target{Dialect: dbconn.Postgres, Host: c.Host, Port: c.Port, User: c.User, Password: c.Password, Database: name}
			db, err := dbconn.Open(ctx, target, dbconn.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			to := "001"
			if action == job.ActionCleanup {
				to = ""
			}
			if _, err := migrate.Upgrade(ctx, db, dbconn.Postgres, schema.Product, migrate.Options{ToVersion: to}); err != nil {
				t.Fatal(err)
			}
			holder, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Close()
			key := dbconn.AdvisoryLockKey(dbconn.LockName(string(schema.Product)))
			if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
				t.Fatal(err)
			}
			out := &signalWriter{want: `"event":"lock_wait"`, seen: make(chan struct{})}
			seen := out.seen
			log := hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: out, JSONFormat: true})
			s := job.Spec{Action: action, Endpoint: "pg", Target: target, Options: job.Options{LockTimeout: time.Minute}}
			done := make(chan job.Result, 1)
			go func() { done <- worker.Run(ctx, s, log) }()
			select {
			case <-seen:
			case res := <-done:
				t.Fatalf("%s ended without a lock_wait event while the lock was held: %+v\n%s", action, res, out.buf.String())
			}
			if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
				t.Fatal(err)
			}
			res := <-done
			if !res.OK {
				t.Fatalf("%s after the lock was let go: %+v", action, res)
			}
			var l jsonLog
			l.buf.WriteString(out.buf.String())
			var kinds []event.Kind
			for _, e := range l.events(t) {
				switch e.Kind {
				case event.LockWait:
					if e.Timeout != time.Minute {
						t.Errorf("lock_wait timeout %v, want 1m", e.Timeout)
					}
				case event.LockAcquired:
					if e.Duration <= 0 {
						t.Errorf("lock_acquired after a wait says it waited %v", e.Duration)
					}
				}
				kinds = append(kinds, e.Kind)
			}
			if len(kinds) < 2 || kinds[0] != event.LockWait || kinds[1] != event.LockAcquired {
				t.Errorf("events %q, want lock_wait then lock_acquired first", kinds)
			}
		})
	}
}
