// Package coop runs one fleet run from several hosts at once (a cooperative
// run, --run-id) on River (github.com/riverqueue/river), a job queue in the
// PostgreSQL config database: every product of the run is one River job,
// unique per run id and endpoint so that every host may insert them all;
// each host works them with its own slots, one worker OS process per job as
// in a run of one host (the caller's Work runs it); a job's outcome, failure
// included, is the job's recorded output, never a River error to retry.
//
// A host that dies loses nothing. River's rescuer gives back a job that ran
// longer than the lease (--timeout plus a margin, or an hour), but it runs
// only on River's leader every 30 s, and the lease must outlast the longest
// product. So every host also holds a session advisory lock of its own for
// as long as it runs, its heartbeat: a host that finds a job running on a
// host whose lock it can take knows that host's session with the config
// database ended (the process died, or lost its server) and makes the job
// available again at once, with River's own rescue query, in a transaction
// that holds the job's row. The per-product advisory lock in the product's
// database stays the safety net against a double apply: a worker orphaned
// by a killed host holds it until it has rolled back and exited.
//
// River's tables live in a schema of their own, Schema, installed and
// upgraded through River's migrator (Install).
package coop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"supervisor/internal/dbconn"
)

// Schema is the PostgreSQL schema of River's tables in the config database.
const Schema = "supervisor_river"

const (
	queue = "supervisor"
	// maxAttempts bounds how often a product is started: a product whose
	// every attempt lost its host (a product that takes its host down) is
	// discarded after this many, as failed.
	maxAttempts = 3
	// heartbeatClass is the first key of the hosts' heartbeat locks
	// (pg_advisory_lock(int4, int4)); the second is hashtext(client id).
	heartbeatClass = 0x53555052 // "SUPR"
	// installKey serialises River's migrations between hosts that start
	// at once (pg_advisory_xact_lock).
	installKey = 0x5355505249564552 // "SUPRIVER"
	// DefaultLease is how long a job may run before River's rescuer gives
	// it to another host, without --timeout (River's own default).
	DefaultLease = time.Hour
	// leaseMargin is added to --timeout: a worker is killed at --timeout,
	// so a job still running after the lease has lost its host.
	leaseMargin = time.Minute
	// retention is how long the jobs of a finished run stay readable
	// (status --run-id; a late host joining a finished run).
	retention = 30 * 24 * time.Hour
)

// Lease is the per-product lease of a run whose workers stop at timeout (0:
// no limit).
func Lease(timeout time.Duration) time.Duration {
	if timeout <= 0 {
		return DefaultLease
	}
	return timeout + leaseMargin
}

// Args are a job's arguments: which run, what to do and to which product.
// Never a password or a connection: every host resolves the product from
// the registry it read, and its password itself.
type Args struct {
	RunID    string `json:"run_id" river:"unique"`
	Action   string `json:"action"`
	Endpoint string `json:"endpoint" river:"unique"`
}

// Kind is River's name for the job kind.
func (Args) Kind() string { return "supervisor_product" }

// InsertOpts make the job unique per run and endpoint in every state, a
// finished or discarded one included: a host joining late adds nothing to
// a run that is done.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue, MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateCompleted, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
			rivertype.JobStateDiscarded, rivertype.JobStateCancelled},
	}}
}

// Result is what became of one product, recorded as its job's output.
type Result struct {
	// Host is the host (hostname/pid) that ran it.
	Host string `json:"host"`
	// Outcome is pass's outcome word; Reason says why it is not ok.
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	// From and To are its schema versions before and after; Applied the
	// files its worker committed (migrate, up).
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Applied int    `json:"applied,omitempty"`
	// DurationMS is the wall time of its worker(s).
	DurationMS int64 `json:"duration_ms"`
	// Interrupted: this host was stopped by a signal while the product
	// ran; the job goes back to the run for another host.
	Interrupted bool `json:"-"`
}

// DB is a pool of connections to the PostgreSQL config database.
type DB struct {
	pool   *pgxpool.Pool
	driver *riverpgxv5.Driver
}

// Open connects to the config database t (its password resolved) and,
// with install, installs or upgrades River's tables (a reader, status
// --run-id, writes nothing).
func Open(ctx context.Context, t dbconn.Target, log hclog.Logger, install bool) (*DB, error) {
	if t.Dialect != dbconn.Postgres {
		return nil, errors.New("a cooperative run needs a PostgreSQL config database")
	}
	conn := fmt.Sprintf("host=%s port=%d dbname=%s connect_timeout=%d pool_max_conns=10",
		quote(t.Host), t.Port, quote(t.Database), int(dbconn.DefaultConnectTimeout.Seconds()))
	if t.User != "" {
		conn += " user=" + quote(t.User)
	}
	cfg, err := pgxpool.ParseConfig(conn)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if t.Password != "" {
		cfg.ConnConfig.Password = t.Password
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "supervisor"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	db := &DB{pool: pool, driver: riverpgxv5.New(pool)}
	if !install {
		return db, nil
	}
	if err := db.Install(ctx, log); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() { db.pool.Close() }

// Install creates Schema and brings River's tables in it to the version
// this binary's River needs, through River's migrator (each migration in a
// transaction of its own, as River requires), under a session advisory
// lock: hosts that start at once install them once.
func (db *DB) Install(ctx context.Context, log hclog.Logger) error {
	migrator, err := rivermigrate.New(db.driver, &rivermigrate.Config{Schema: Schema})
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("install river tables: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(installKey)); err != nil {
		return fmt.Errorf("install river tables: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(installKey))
	}()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+Schema); err != nil {
		return fmt.Errorf("install river tables: %w", err)
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("install river tables: %w", err)
	}
	if len(res.Versions) > 0 && log != nil {
		log.Info("river tables installed in the config database", "schema", Schema,
			"version", res.Versions[len(res.Versions)-1].Version)
	}
	return nil
}

// RunAction is the action of the run's jobs ("" when it has none yet).
func (db *DB) RunAction(ctx context.Context, runID string) (string, error) {
	var action string
	err := db.pool.QueryRow(ctx, `SELECT args->>'action' FROM `+Schema+`.river_job
		WHERE kind = $1 AND args->>'run_id' = $2 LIMIT 1`, Args{}.Kind(), runID).Scan(&action)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read run %s: %w", runID, err)
	}
	return action, nil
}

// HostName is this process's name in a run: hostname/pid.
func HostName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "unknown"
	}
	return fmt.Sprintf("%s/%d", h, os.Getpid())
}

// hostOf is the host (hostname/pid) of a River client id made by clientID.
func hostOf(clientID string) string {
	if i := strings.LastIndexByte(clientID, '/'); i > 0 && strings.Count(clientID, "/") >= 2 {
		return clientID[:i]
	}
	return clientID
}

// clientID is this host's River client id: its name and a random suffix
// (a pid is reused; a client id must be unique).
func clientID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := HostName() + "/" + hex.EncodeToString(b)
	if len(id) > 100 {
		id = id[len(id)-100:]
	}
	return id
}

// quote quotes a keyword/value connection setting.
func quote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// rescueError is the attempt error recorded on a job taken back from a
// lost host.
func rescueError(job rivertype.JobRow, host string) []byte {
	b, _ := json.Marshal(rivertype.AttemptError{At: time.Now().UTC(), Attempt: max(job.Attempt, 0),
		Error: "host " + host + " was lost (its session with the config database ended): the job goes to another host"})
	return b
}
