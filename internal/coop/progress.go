package coop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5/pgconn"
)

// Job is one product of a run as the config database has it.
type Job struct {
	Endpoint string `json:"endpoint"`
	Action   string `json:"action"`
	// State is the job's: pending (not started, or given back), running,
	// done (finished; Result says how) or failed (lost its host on every
	// attempt, or otherwise never finished).
	State string `json:"state"`
	// Host is the host running it (running) or that ran it (done).
	Host string `json:"host,omitempty"`
	// Attempts counts the times a host started it; Earlier names the
	// hosts that started it before and did not finish it (lost while they
	// ran it, or stopped by a signal, which gives it back).
	Attempts int      `json:"attempts"`
	Earlier  []string `json:"earlier_hosts,omitempty"`
	// Result is its outcome (done).
	Result *Result `json:"result,omitempty"`
}

// Job states of a run, as status --run-id shows them.
const (
	StatePending = "pending"
	StateRunning = "running"
	StateDone    = "done"
	StateFailed  = "failed"
)

// Progress is a run across its hosts.
type Progress struct {
	RunID  string `json:"run_id"`
	Action string `json:"action"`
	// Counts of the jobs by state; Done counts the finished jobs whose
	// outcome is ok, Failed the others (and those lost on every attempt).
	Pending int `json:"pending"`
	Running int `json:"running"`
	Done    int `json:"done"`
	Failed  int `json:"failed"`
	// RunningBy counts the running jobs by host.
	RunningBy map[string]int `json:"running_by_host,omitempty"`
	// Hosts are the hosts that finished a product of the run, with how many.
	Hosts map[string]int `json:"done_by_host,omitempty"`
	// Jobs are the run's products, in endpoint order.
	Jobs []Job `json:"jobs"`
}

// Progress reads run runID from the config database (no jobs: no such
// run, River's tables not installed included).
func (db *DB) Progress(ctx context.Context, runID string) (Progress, error) {
	p := Progress{RunID: runID, RunningBy: map[string]int{}, Hosts: map[string]int{}}
	rows, err := db.pool.Query(ctx, `SELECT args->>'endpoint', args->>'action', state::text, attempt,
			coalesce(attempted_by, '{}'), metadata->'output'
		FROM `+Schema+`.river_job WHERE kind = $1 AND args->>'run_id' = $2 ORDER BY args->>'endpoint'`, Args{}.Kind(), runID)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table: no run ever
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("read run %s: %w", runID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			j      Job
			state  string
			by     []string
			output []byte
		)
		if err := rows.Scan(&j.Endpoint, &j.Action, &state, &j.Attempts, &by, &output); err != nil {
			return p, fmt.Errorf("read run %s: %w", runID, err)
		}
		p.Action = j.Action
		// Every host but the one running or that finished it was lost
		// while it ran it, or was stopped and gave it back.
		lost := by
		if len(output) > 0 && string(output) != "null" {
			var r Result
			if err := json.Unmarshal(output, &r); err == nil {
				j.Result = &r
				j.Host = r.Host
			}
		}
		switch state {
		case "available", "scheduled", "retryable", "pending":
			j.State = StatePending
		case "running":
			j.State = StateRunning
			if len(by) > 0 {
				j.Host = hostOf(by[len(by)-1])
				lost = by[:len(by)-1]
			}
			p.RunningBy[j.Host]++
		case "completed":
			j.State = StateDone
			if len(by) > 0 {
				lost = by[:len(by)-1]
			}
		default: // discarded, cancelled
			j.State = StateFailed
		}
		for _, c := range lost {
			j.Earlier = append(j.Earlier, hostOf(c))
		}
		switch {
		case j.State == StatePending:
			p.Pending++
		case j.State == StateRunning:
			p.Running++
		case j.State == StateDone && j.Result != nil && j.Result.Outcome == "ok":
			p.Done++
			p.Hosts[j.Host]++
		default:
			if j.State == StateDone {
				p.Hosts[j.Host]++
			}
			p.Failed++
		}
		p.Jobs = append(p.Jobs, j)
	}
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("read run %s: %w", runID, err)
	}
	sort.SliceStable(p.Jobs, func(a, b int) bool { return p.Jobs[a].Endpoint < p.Jobs[b].Endpoint })
	return p, nil
}

// Complete says whether every product of the run is done and ok.
func (p Progress) Complete() bool { return p.Pending+p.Running+p.Failed == 0 }

// HostNames are the hosts of p (those that finished or run a product), sorted.
func (p Progress) HostNames() []string {
	var hs []string
	for h := range p.Hosts {
		hs = append(hs, h)
	}
	for h := range p.RunningBy {
		if !slices.Contains(hs, h) {
			hs = append(hs, h)
		}
	}
	slices.Sort(hs)
	return hs
}

// riverLogger hands River's warnings and errors to log (River's own
// information, a leader elected, a queue started, is left out).
func riverLogger(log hclog.Logger) *slog.Logger {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return slog.New(&slogHandler{log: log.Named("river")})
}

type slogHandler struct {
	log   hclog.Logger
	attrs []any
}

func (h *slogHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *slogHandler) Handle(_ context.Context, r slog.Record) error {
	args := slices.Clone(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		args = append(args, a.Key, a.Value.String())
		return true
	})
	if r.Level >= slog.LevelError {
		h.log.Error(r.Message, args...)
	} else {
		h.log.Warn(r.Message, args...)
	}
	return nil
}

func (h *slogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := &slogHandler{log: h.log, attrs: slices.Clone(h.attrs)}
	for _, a := range as {
		n.attrs = append(n.attrs, a.Key, a.Value.String())
	}
	return n
}

func (h *slogHandler) WithGroup(string) slog.Handler { return h }
