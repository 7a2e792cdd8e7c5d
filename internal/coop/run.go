package coop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// Host says how this host takes part in a run.
type Host struct {
	// RunID, Action and Endpoints are the run, what its jobs do and this
	// host's selection, in endpoint order (the order of insertion, which is
	// the order River hands the jobs out in).
	RunID     string
	Action    string
	Endpoints []string
	// Jobs is this host's number of slots.
	Jobs int
	// Lease is how long a job may run before River's rescuer takes it back.
	Lease time.Duration
	// Work runs one product, in a worker process, and says what became of it.
	Work func(ctx context.Context, a Args) Result
	// Poll is how often the host looks at the run: whether it is done, and
	// whether a lost host's jobs are to be taken back (0: half a second).
	Poll time.Duration
	Log  hclog.Logger
}

// ErrOtherAction says the run id names a run of another command.
var ErrOtherAction = errors.New("the run is another command's")

// Run joins the run: it inserts the jobs of h's products (those some host
// inserted already are left as they are), works the run's jobs with h.Jobs
// slots and returns when no job of the run is pending or running, or ctx
// ends (then with ctx's error, the jobs this host was working handed back
// to the run). The returned name is this host's (hostname/pid).
func (db *DB) Run(ctx context.Context, h Host) (string, error) {
	if action, err := db.RunAction(ctx, h.RunID); err != nil {
		return "", err
	} else if action != "" && action != h.Action {
		return "", fmt.Errorf("run %s is a %s run, not %s: %w", h.RunID, action, h.Action, ErrOtherAction)
	}
	id := clientID()
	// The heartbeat: held on a connection of its own for as long as the
	// host runs, taken before the client can fetch a job.
	beat, err := db.pool.Acquire(ctx)
	if err != nil {
		return "", fmt.Errorf("config database: %w", err)
	}
	defer beat.Release()
	if _, err := beat.Exec(ctx, "SELECT pg_advisory_lock($1, hashtext($2))", int32(heartbeatClass), id); err != nil {
		return "", fmt.Errorf("config database: heartbeat lock: %w", err)
	}
	defer func() {
		_, _ = beat.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1, hashtext($2))", int32(heartbeatClass), id)
	}()
	workers := river.NewWorkers()
	river.AddWorker(workers, &productWorker{db: db, log: h.Log, work: h.Work})
	client, err := river.NewClient(db.driver, &river.Config{
		ID:      id,
		Schema:  Schema,
		Queues:  map[string]river.QueueConfig{queue: {MaxWorkers: max(h.Jobs, 1)}},
		Workers: workers,
		// The lease. River's rescuer ignores a job without a timeout, and
		// a job running past its timeout on a live host is stopped there
		// (Work: the job's context stops its worker) and fails, as one past
		// --timeout does.
		JobTimeout:                  h.Lease,
		RescueStuckJobsAfter:        h.Lease,
		FetchPollInterval:           200 * time.Millisecond,
		FetchCooldown:               50 * time.Millisecond,
		CompletedJobRetentionPeriod: retention,
		DiscardedJobRetentionPeriod: retention,
		CancelledJobRetentionPeriod: retention,
		Logger:                      riverLogger(h.Log),
	})
	if err != nil {
		return "", fmt.Errorf("river client: %w", err)
	}
	params := make([]river.InsertManyParams, len(h.Endpoints))
	for i, e := range h.Endpoints {
		params[i] = river.InsertManyParams{Args: Args{RunID: h.RunID, Action: h.Action, Endpoint: e}}
	}
	if len(params) > 0 {
		res, err := client.InsertMany(ctx, params)
		if err != nil {
			return "", fmt.Errorf("insert the run's jobs: %w", err)
		}
		n := 0
		for _, r := range res {
			if !r.UniqueSkippedAsDuplicate {
				n++
			}
		}
		h.Log.Info("joined the run", "run_id", h.RunID, "host", hostOf(id), "inserted", n, "already_there", len(res)-n, "jobs", h.Jobs)
	}
	// Started on a context that a signal does not end: stop (below) lets
	// the jobs at hand hand themselves back to the run first.
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return "", fmt.Errorf("river client: %w", err)
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := client.Stop(sctx); err != nil {
			h.Log.Warn("river client did not stop cleanly", "error", err)
		}
	}
	poll := h.Poll
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			stop()
			return hostOf(id), ctx.Err()
		case <-tick.C:
		}
		if err := db.rescueLost(ctx, h, id); err != nil && ctx.Err() == nil {
			h.Log.Warn("could not look for lost hosts", "error", err)
		}
		open, err := db.open(ctx, h.RunID)
		if err != nil {
			if ctx.Err() != nil {
				continue
			}
			stop()
			return hostOf(id), err
		}
		if open == 0 {
			stop()
			return hostOf(id), nil
		}
	}
}

// open counts the run's jobs not finalized yet.
func (db *DB) open(ctx context.Context, runID string) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM `+Schema+`.river_job
		WHERE kind = $1 AND args->>'run_id' = $2 AND finalized_at IS NULL`, Args{}.Kind(), runID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read run %s: %w", runID, err)
	}
	return n, nil
}

// rescueLost makes every job of the run running on a lost host (one whose
// heartbeat lock is free) available again, or discards it after its last
// attempt.
func (db *DB) rescueLost(ctx context.Context, h Host, self string) error {
	rows, err := db.pool.Query(ctx, `SELECT id, attempted_by[array_upper(attempted_by, 1)] FROM `+Schema+`.river_job
		WHERE kind = $1 AND args->>'run_id' = $2 AND state = 'running'`, Args{}.Kind(), h.RunID)
	if err != nil {
		return err
	}
	type running struct {
		id     int64
		client string
	}
	var jobs []running
	for rows.Next() {
		var r running
		var c *string
		if err := rows.Scan(&r.id, &c); err != nil {
			rows.Close()
			return err
		}
		if c != nil && *c != self {
			r.client = *c
			jobs = append(jobs, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, j := range jobs {
		if err := db.rescueIfLost(ctx, h, j.id, j.client); err != nil {
			return err
		}
	}
	return nil
}

// rescueIfLost takes job id back from client if it still runs there and
// client's heartbeat is gone, in one transaction holding the job's row: no
// host can fetch, complete or rescue it meanwhile.
func (db *DB) rescueIfLost(ctx context.Context, h Host, id int64, client string) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var (
			state, by   string
			attempt     int
			maxAttempts int
			endpoint    string
		)
		err := tx.QueryRow(ctx, `SELECT state, coalesce(attempted_by[array_upper(attempted_by, 1)], ''), attempt, max_attempts, args->>'endpoint'
			FROM `+Schema+`.river_job WHERE id = $1 FOR UPDATE`, id).Scan(&state, &by, &attempt, &maxAttempts, &endpoint)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if state != string(rivertype.JobStateRunning) || by != client {
			return nil
		}
		var free bool
		if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock($1, hashtext($2))", int32(heartbeatClass), client).Scan(&free); err != nil {
			return err
		}
		if !free {
			return nil
		}
		now := time.Now().UTC()
		st, finalized := rivertype.JobStateAvailable, (*time.Time)(nil)
		if attempt >= maxAttempts {
			st, finalized = rivertype.JobStateDiscarded, &now
		}
		h.Log.Warn("a host was lost: its product goes back to the run", "run_id", h.RunID, "lost_host", hostOf(client),
			"endpoint", endpoint, "attempt", attempt, "state", string(st))
		_, err = db.driver.UnwrapExecutor(tx).JobRescueMany(ctx, &riverdriver.JobRescueManyParams{
			ID: []int64{id}, Error: [][]byte{rescueError(rivertype.JobRow{Attempt: attempt}, hostOf(client))},
			FinalizedAt: []*time.Time{finalized}, ScheduledAt: []time.Time{now}, Schema: Schema,
			State: []string{string(st)}, StuckHorizon: now.Add(time.Hour),
		})
		return err
	})
}

// productWorker is the River worker of every product job.
type productWorker struct {
	river.WorkerDefaults[Args]
	db   *DB
	log  hclog.Logger
	work func(ctx context.Context, a Args) Result
}

// Work runs the product and records its outcome as the job's output: a
// failure is a result, not an error for River to retry. The job is marked
// completed at once, in a transaction of its own (River's completer would
// batch it a moment later: a host killed in that moment would leave a
// finished product to be taken back and done again, as a no-op). A job
// this host was stopped in the middle of goes back to the run at once
// (JobSnooze(0) does not count an attempt).
func (w *productWorker) Work(ctx context.Context, job *river.Job[Args]) error {
	res := w.work(ctx, job.Args)
	if res.Interrupted {
		return river.JobSnooze(0)
	}
	if err := river.RecordOutput(ctx, res); err != nil {
		return err
	}
	// Past the lease the job's context is done: the outcome is recorded all
	// the same.
	ctx = context.WithoutCancel(ctx)
	err := pgx.BeginFunc(ctx, w.db.pool, func(tx pgx.Tx) error {
		_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
	if err != nil {
		// River's completer records it instead.
		w.log.Debug("could not complete the job in a transaction", "endpoint", job.Args.Endpoint, "error", err)
	}
	return nil
}
