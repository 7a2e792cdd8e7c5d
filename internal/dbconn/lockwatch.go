package dbconn

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"supervisor/internal/logging"
)

// LockWatchInterval is how often a lock watch asks the server whether a
// session of its pool waits for a lock.
const LockWatchInterval = 250 * time.Millisecond

// LockWait is a session of the pool waiting for a lock held by another
// session: a table lock of a leftover backend (a killed worker's statement
// still running), a long transaction of CodeChecker's server.
type LockWait struct {
	// PID is the waiting backend, Statement what it runs, Lock the kind of
	// lock (pg_stat_activity's wait_event: relation, tuple, transactionid).
	PID       uint32
	Statement string
	Lock      string
	// Blockers are the sessions that hold or queue before it for the lock.
	Blockers []Blocker
}

// Blocker is a session that holds a lock another waits for.
type Blocker struct {
	PID         int
	Application string
	State       string
	Statement   string
}

func (b Blocker) String() string {
	s := fmt.Sprintf("pid %d", b.PID)
	var about []string
	if b.Application != "" {
		about = append(about, "application "+b.Application)
	}
	if b.State != "" {
		about = append(about, b.State)
	}
	// pg_stat_activity's query is the running statement of an active
	// session, the last one of an idle one (a transaction left open).
	switch {
	case b.Statement == "":
	case b.State == "active":
		about = append(about, "running "+logging.OneLineCut(b.Statement, 120))
	default:
		about = append(about, "last statement "+logging.OneLineCut(b.Statement, 120))
	}
	if len(about) > 0 {
		s += " (" + strings.Join(about, ", ") + ")"
	}
	return s
}

// lockWatch polls pg_stat_activity, on a connection of its own, for the
// backends of a pool that wait for a lock (wait_event_type Lock) and tells
// report once per statement that waits. Polling from the outside sees every
// statement, whoever runs it (atlas's executor, a cleanup routine), with no
// statement of its own to change; PostgreSQL tells a waiting session nothing
// until lock_timeout fails it.
type lockWatch struct {
	cfg    *pgx.ConnConfig
	report func(LockWait)

	mu   sync.Mutex
	pids map[uint32]bool

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newLockWatch(cfg *pgx.ConnConfig, report func(LockWait)) *lockWatch {
	c := cfg.Copy()
	c.RuntimeParams["application_name"] = "supervisor lock watch"
	// Its own queries must not wait behind anything the pool waits for.
	delete(c.RuntimeParams, "lock_timeout")
	w := &lockWatch{cfg: c, report: report, pids: map[uint32]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *lockWatch) add(pid uint32) {
	w.mu.Lock()
	w.pids[pid] = true
	w.mu.Unlock()
}

func (w *lockWatch) remove(pid uint32) {
	w.mu.Lock()
	delete(w.pids, pid)
	w.mu.Unlock()
}

func (w *lockWatch) watched() []int32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	pids := make([]int32, 0, len(w.pids))
	for p := range w.pids {
		pids = append(pids, int32(p))
	}
	slices.Sort(pids)
	return pids
}

func (w *lockWatch) close() {
	w.once.Do(func() { close(w.stop) })
	<-w.done
}

// waitQuery lists the watched backends that wait for a lock, with the
// sessions that block them (pg_blocking_pids), one row per blocker.
const waitQuery = `SELECT w.pid, coalesce(w.wait_event, ''), coalesce(w.query, ''), coalesce(w.query_start::text, ''),
	b.pid, coalesce(s.application_name, ''), coalesce(s.state, ''), coalesce(s.query, '')
FROM pg_stat_activity w
CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS b(pid)
LEFT JOIN pg_stat_activity s ON s.pid = b.pid
WHERE w.pid = ANY($1) AND w.wait_event_type = 'Lock'
ORDER BY w.pid, b.pid`

func (w *lockWatch) run() {
	defer close(w.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-w.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	// A statement that waits is told once: its backend and query_start.
	told := map[string]bool{}
	tick := time.NewTicker(LockWatchInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		pids := w.watched()
		if len(pids) == 0 {
			continue
		}
		if conn == nil || conn.IsClosed() {
			// The watch only informs: a server that cannot be reached now
			// is the pool's failure to report, not the watch's.
			cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
			c, err := pgx.ConnectConfig(cctx, w.cfg)
			ccancel()
			if err != nil {
				continue
			}
			conn = c
		}
		waits, keys, err := w.poll(ctx, conn, pids)
		if err != nil {
			continue
		}
		for i, lw := range waits {
			if !told[keys[i]] {
				told[keys[i]] = true
				w.report(lw)
			}
		}
	}
}

func (w *lockWatch) poll(ctx context.Context, conn *pgx.Conn, pids []int32) ([]LockWait, []string, error) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rows, err := conn.Query(qctx, waitQuery, pids)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var (
		waits []LockWait
		keys  []string
	)
	for rows.Next() {
		var (
			pid          int32
			lock, query  string
			start        string
			b            Blocker
			blockerState string
		)
		if err := rows.Scan(&pid, &lock, &query, &start, &b.PID, &b.Application, &blockerState, &b.Statement); err != nil {
			return nil, nil, err
		}
		b.State = blockerState
		key := fmt.Sprint(pid, " ", start)
		if n := len(waits); n > 0 && keys[n-1] == key {
			waits[n-1].Blockers = append(waits[n-1].Blockers, b)
			continue
		}
		waits = append(waits, LockWait{PID: uint32(pid), Statement: query, Lock: lock, Blockers: []Blocker{b}})
		keys = append(keys, key)
	}
	return waits, keys, rows.Err()
}
