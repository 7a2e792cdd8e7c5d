package coop

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"

	"supervisor/internal/dbconn"
	"supervisor/internal/pgtest"
)

// openTest starts a throwaway server and opens its config database
// (installing River's tables).
func openTest(t *testing.T) (*DB, *pgtest.Cluster) {
	t.Helper()
	c := pgtest.Start(t)
	c.CreateDatabase(t, "config")
	db, err := Open(context.Background(), dbconn.Target{Dialect: dbconn.Postgres, Host: c.Host, Port: c.Port,
		User: c.User, Database: "config", Password: c.Password}, hclog.NewNullLogger(), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db, c
}

// counter counts the Work calls per endpoint.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(e string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[e]++
	return c.n[e]
}

func endpoints(n int) []string {
	var es []string
	for i := range n {
		es = append(es, fmt.Sprintf("e%02d", i))
	}
	return es
}

func TestLease(t *testing.T) {
	for _, tt := range []struct{ timeout, want time.Duration }{
		{0, DefaultLease}, {-time.Second, DefaultLease}, {10 * time.Minute, 11 * time.Minute},
	} {
		if got := Lease(tt.timeout); got != tt.want {
			t.Errorf("Lease(%v) = %v, want %v", tt.timeout, got, tt.want)
		}
	}
}

// TestHostsOfOneRunWorkEachProductOnce: three hosts (clients) join one run,
// each inserting every product; each product is worked once, its failure
// is a result recorded as output (not retried), and a second join of the
// finished run inserts and works nothing. Install, run again, is a no-op.
func TestHostsOfOneRunWorkEachProductOnce(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	if err := db.Install(ctx, nil); err != nil {
		t.Fatalf("second install: %v", err)
	}
	es := endpoints(9)
	var calls counter
	work := func(_ context.Context, a Args) Result {
		calls.add(a.Endpoint)
		time.Sleep(20 * time.Millisecond) // long enough for the hosts to share
		if a.Endpoint == "e04" {
			return Result{Host: "h", Outcome: "failed", Reason: "broken"}
		}
		return Result{Host: "h", Outcome: "ok", From: "001", To: "002"}
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range 3 {
		wg.Go(func() {
			_, errs[i] = db.Run(ctx, Host{RunID: "r", Action: "migrate", Endpoints: es, Jobs: 2, Lease: time.Hour,
				Work: work, Log: hclog.NewNullLogger(), Poll: 50 * time.Millisecond})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("host %d: %v", i, err)
		}
	}
	for _, e := range es {
		if n := calls.n[e]; n != 1 {
			t.Errorf("%s worked %d times, want once", e, n)
		}
	}
	p, err := db.Progress(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if p.Done != 8 || p.Failed != 1 || p.Pending+p.Running != 0 || len(p.Jobs) != 9 || p.Complete() {
		t.Errorf("progress %+v, want 8 done, 1 failed", p)
	}
	for _, j := range p.Jobs {
		if j.State != StateDone || j.Result == nil || j.Attempts != 1 {
			t.Errorf("%s: %+v, want done once with a result", j.Endpoint, j)
		}
	}
	if r := p.Jobs[4].Result; r == nil || r.Outcome != "failed" || r.Reason != "broken" {
		t.Errorf("e04's result %+v, want the failure recorded", r)
	}
	if _, err := db.Run(ctx, Host{RunID: "r", Action: "migrate", Endpoints: es, Jobs: 1, Lease: time.Hour,
		Work: work, Log: hclog.NewNullLogger(), Poll: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if len(calls.n) != 9 || calls.n["e00"] != 1 {
		t.Errorf("joining the finished run worked again: %v", calls.n)
	}
	if _, err := db.Run(ctx, Host{RunID: "r", Action: "cleanup", Endpoints: es, Jobs: 1, Lease: time.Hour,
		Work: work, Log: hclog.NewNullLogger()}); !errors.Is(err, ErrOtherAction) {
		t.Errorf("a cleanup host joining a migrate run: %v, want ErrOtherAction", err)
	}
}

// TestInterruptedProductGoesBackToTheRun: a product whose host was stopped
// while it ran (Result.Interrupted) is given back, not finished, and the
// next attempt finishes it.
func TestInterruptedProductGoesBackToTheRun(t *testing.T) {
	db, _ := openTest(t)
	var calls counter
	_, err := db.Run(context.Background(), Host{RunID: "r", Action: "up", Endpoints: []string{"a"}, Jobs: 1, Lease: time.Hour,
		Log: hclog.NewNullLogger(), Poll: 20 * time.Millisecond,
		Work: func(_ context.Context, a Args) Result {
			if calls.add(a.Endpoint) == 1 {
				return Result{Interrupted: true}
			}
			return Result{Host: "h", Outcome: "ok"}
		}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.Progress(context.Background(), "r")
	if err != nil {
		t.Fatal(err)
	}
	if calls.n["a"] != 2 || p.Done != 1 || p.Jobs[0].Result == nil {
		t.Errorf("worked %d times, progress %+v; want twice, then done", calls.n["a"], p)
	}
}

// TestLostHostsJobIsTakenBackOnlyWhenItsHeartbeatIsGone: a job running on
// a host whose heartbeat lock is held stays where it is; once the lock is
// free (the host's session ended) it is made available again, and after its
// last attempt it is discarded (failed) instead.
func TestLostHostsJobIsTakenBackOnlyWhenItsHeartbeatIsGone(t *testing.T) {
	db, c := openTest(t)
	ctx := context.Background()
	const ghost = "ghost/1/abcd"
	jobState := func() (state string, attempt int) {
		t.Helper()
		if err := db.pool.QueryRow(ctx, `SELECT state::text, attempt FROM `+Schema+`.river_job WHERE args->>'endpoint' = 'a'`).Scan(&state, &attempt); err != nil {
			t.Fatal(err)
		}
		return state, attempt
	}
	// A job as River leaves it running on the ghost host.
	if _, err := db.pool.Exec(ctx, `INSERT INTO `+Schema+`.river_job (args, kind, max_attempts, queue, state, attempt, attempted_at, attempted_by)
		VALUES ('{"run_id":"r","action":"migrate","endpoint":"a"}', $1, $2, $3, 'running', 1, now(), ARRAY[$4])`,
		Args{}.Kind(), maxAttempts, queue, ghost); err != nil {
		t.Fatal(err)
	}
	beat, err := pgx.Connect(ctx, c.URL("config"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := beat.Exec(ctx, "SELECT pg_advisory_lock($1, hashtext($2))", int32(heartbeatClass), ghost); err != nil {
		t.Fatal(err)
	}
	h := Host{RunID: "r", Log: hclog.NewNullLogger()}
	if err := db.rescueLost(ctx, h, "me"); err != nil {
		t.Fatal(err)
	}
	if st, _ := jobState(); st != "running" {
		t.Fatalf("a live host's job is %s, want it left running", st)
	}
	if !lockHeld(t, db, ghost) {
		t.Fatal("the ghost's heartbeat lock is not seen held")
	}
	beat.Close(ctx) // the host's session ends
	// The server ends the session, and frees its lock, a moment after the
	// client has closed it: the lock is gone before the host counts as lost.
	waitLockFreed(t, db, ghost)
	if err := db.rescueLost(ctx, h, "me"); err != nil {
		t.Fatal(err)
	}
	if st, _ := jobState(); st != "available" {
		t.Fatalf("a lost host's job is %s, want available", st)
	}
	if _, err := db.pool.Exec(ctx, `UPDATE `+Schema+`.river_job SET state = 'running', attempt = $1`, maxAttempts); err != nil {
		t.Fatal(err)
	}
	if err := db.rescueLost(ctx, h, "me"); err != nil {
		t.Fatal(err)
	}
	if st, _ := jobState(); st != "discarded" {
		t.Fatalf("a job lost on its last attempt is %s, want discarded", st)
	}
	p, err := db.Progress(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if p.Failed != 1 || p.Jobs[0].State != StateFailed || len(p.Jobs[0].Earlier) != 1 || p.Jobs[0].Earlier[0] != "ghost/1" {
		t.Errorf("progress %+v, want the job failed, lost on ghost/1", p)
	}
}

// TestJobPastItsLeaseEndsAsAResult: a product still running when its lease
// is over has its context ended on its (live) host, and what its Work then
// returns is recorded: the job is done, failed, not left running.
func TestJobPastItsLeaseEndsAsAResult(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	_, err := db.Run(ctx, Host{RunID: "r", Action: "migrate", Endpoints: []string{"a"}, Jobs: 1, Lease: 300 * time.Millisecond,
		Log: hclog.NewNullLogger(), Poll: 20 * time.Millisecond,
		Work: func(ctx context.Context, a Args) Result {
			<-ctx.Done()
			return Result{Host: "h", Outcome: "failed", Reason: "stopped: " + context.Cause(ctx).Error()}
		}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.Progress(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if j := p.Jobs[0]; j.State != StateDone || j.Result == nil || j.Result.Outcome != "failed" || p.Failed != 1 {
		t.Errorf("job %+v (progress %+v), want done and failed", j, p)
	}
}

// TestProgressWithoutRiverTablesWritesNothing: reading a run (status
// --run-id) from a config database River was never installed in finds no
// run, and installs nothing.
func TestProgressWithoutRiverTablesWritesNothing(t *testing.T) {
	c := pgtest.Start(t)
	c.CreateDatabase(t, "config")
	ctx := context.Background()
	db, err := Open(ctx, dbconn.Target{Dialect: dbconn.Postgres, Host: c.Host, Port: c.Port,
		User: c.User, Database: "config", Password: c.Password}, hclog.NewNullLogger(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := db.Progress(ctx, "r")
	if err != nil || len(p.Jobs) != 0 {
		t.Fatalf("progress %+v, %v; want no jobs, no error", p, err)
	}
	var n int
	if err := db.pool.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", Schema).Scan(&n); err != nil || n != 0 {
		t.Errorf("schema %s: %d (%v), want none", Schema, n, err)
	}
}

// lockHeld says whether a session holds host's heartbeat lock.
func lockHeld(t *testing.T, db *DB, host string) bool {
	t.Helper()
	var held bool
	if err := db.pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT FROM pg_locks
		WHERE locktype = 'advisory' AND classid = $1::int8::oid AND objid = (hashtext($2)::int8 & 4294967295)::oid AND granted)`,
		int32(heartbeatClass), host).Scan(&held); err != nil {
		t.Fatal(err)
	}
	return held
}

// waitLockFreed waits until no session holds host's heartbeat lock (the
// server frees it as it ends the session, after the client closed it).
func waitLockFreed(t *testing.T, db *DB, host string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); lockHeld(t, db, host); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the heartbeat lock of %s is still held 10 s after its session closed", host)
		}
	}
}
