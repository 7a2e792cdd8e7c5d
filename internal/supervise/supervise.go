// Package supervise runs jobs in worker processes, N at a time: one process
// per product, in its own process group, with the job spec on its stdin, its
// hclog JSON lines on stderr re-logged under the product's name, and its
// result read from fd 3. A worker that crashes, hangs, floods or prints
// garbage fails its own product only.
package supervise

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"supervisor/internal/event"
	"supervisor/internal/job"
	"supervisor/internal/logging"
)

// Config says how to run workers.
type Config struct {
	// Command returns a fresh, unstarted worker command, e.g. the supervisor
	// binary itself with SUPERVISOR_WORKER=1 in its environment. Run sets
	// its Stdin, Stdout, Stderr, ExtraFiles and SysProcAttr.Setpgid itself
	// (Stdout is merged into Stderr). ctx ends once the worker is over:
	// Run does the signalling itself, so exec.CommandContext is optional.
	Command func(ctx context.Context) *exec.Cmd
	// Parallel is the number of workers running at once (-j N); below 1
	// means 1. Run caps it by the file-descriptor limit (LimitParallel).
	Parallel int
	// Timeout bounds each worker; 0 means none. Past it the worker's
	// process group gets SIGTERM, then SIGKILL after Grace.
	Timeout time.Duration
	// Grace is the time between SIGTERM and SIGKILL; 0 means 5s.
	Grace time.Duration
	// FailFast stops starting jobs after the first failure, or after more
	// than MaxFailures of them; running ones finish.
	FailFast    bool
	MaxFailures int
	// Logs receives every worker's lines under its product's name; nil discards.
	Logs *logging.Logs
	// Kill, once closed (second interrupt), SIGKILLs every running worker's
	// process group at once. nil never fires.
	Kill <-chan struct{}
	// Events, when set, receives every event a worker logs (an hclog JSON
	// line carrying event.Key, decoded by event.Decode; kinds this build
	// does not know included), with the worker's endpoint, in the order
	// that worker logged them, after the line is relayed to Logs as any
	// other. It is called from the goroutine that reads that worker's
	// stderr: calls for different products may be concurrent, and a call
	// that blocks holds up that worker's log stream (and, once the pipe is
	// full, the worker), so it must return quickly. The supervisor's own
	// verdicts (crashed, timed out, never started) are not events: the
	// Outcome says them.
	Events func(endpoint string, e event.Event)
	// Started and Finished, when set, are told when a job's worker is
	// about to start and when its outcome is known (before its slot is
	// given back), from that job's goroutine: concurrent for different
	// jobs, and quick, like Events. A job never started gets neither.
	Started  func(spec job.Spec)
	Finished func(o Outcome)
}

// DefaultGrace is the SIGTERM-to-SIGKILL delay when Config.Grace is 0.
const DefaultGrace = 5 * time.Second

// Outcome is what became of one job.
type Outcome struct {
	Spec job.Spec
	// Result is the worker's result record; nil if it wrote none or garbage.
	Result *job.Result
	// Err is a one-line reason when the product failed or was not done, nil
	// on success. It wraps one of the Err* sentinels where one applies.
	Err error
	// Interrupted is set when a signal to the supervisor stopped the job
	// (running or, with Skipped, before it started).
	Interrupted bool
	// Skipped is set when the job was never started (interrupt or fail-fast).
	Skipped bool
	// Duration is the worker's wall time, from start to exit.
	Duration time.Duration
	// PeakRSS is the worker's peak resident set size in bytes (0 if unknown).
	PeakRSS int64
	// LastOutput holds the worker's last stderr lines (at most 10, each
	// shortened), for the failure report.
	LastOutput []string
}

// OK reports whether the job ran and its worker reported success.
func (o Outcome) OK() bool {
	return o.Err == nil && !o.Skipped && o.Result != nil && o.Result.OK
}

// Sentinels wrapped by Outcome.Err.
var (
	// ErrJobFailed: the worker ran and reported a failure in its result.
	ErrJobFailed = errors.New("job failed")
	// ErrTimeout: the worker outlived Config.Timeout.
	ErrTimeout = errors.New("timed out")
	// ErrInterrupted: a signal to the supervisor stopped the job.
	ErrInterrupted = errors.New("interrupted")
	// ErrNoResult: the worker exited 0 without writing a result.
	ErrNoResult = errors.New("worker exited without a result")
	// ErrBadResult: the result pipe held something other than one Result.
	ErrBadResult = errors.New("garbage result")
	// ErrSkipped: the job was never started.
	ErrSkipped = errors.New("not started")
)

// Run starts jobs in slice order, Parallel at a time; a freed slot starts
// the next one. When ctx is cancelled (first SIGINT/SIGTERM) or Kill is
// closed, Run starts nothing new, sends SIGTERM to the running workers (they
// roll back and exit; SIGKILL after Grace, or at once when Kill closes),
// marks them Interrupted and returns. It returns one Outcome per job, in the
// order of jobs, and leaves no goroutine or worker process of its own behind.
func Run(ctx context.Context, cfg Config, jobs []job.Spec) []Outcome {
	if cfg.Parallel < 1 {
		cfg.Parallel = 1
	}
	cfg.Parallel = LimitParallel(min(cfg.Parallel, max(len(jobs), 1)), cfg.Logs.Logger())
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}

	out := make([]Outcome, len(jobs))
	for i := range jobs {
		out[i].Spec = jobs[i]
	}

	// Like cmd/go's -p: a semaphore of Parallel slots, filled in order.
	slots := make(chan struct{}, cfg.Parallel)
	var failed atomic.Int64
	var wg sync.WaitGroup
	next := 0
	for ; next < len(jobs); next++ {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		case <-cfg.Kill:
		}
		// Checked after the slot is ours: a job that failed set failed
		// before it gave its slot back, so fail-fast never starts one more.
		if stopped(ctx, cfg.Kill) || (cfg.FailFast && failed.Load() > int64(max(cfg.MaxFailures, 0))) {
			break
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if cfg.Started != nil {
				cfg.Started(jobs[i])
			}
			o := runWorker(ctx, cfg, jobs[i])
			out[i] = o // each goroutine owns its element; read after wg.Wait
			if cfg.Finished != nil {
				cfg.Finished(o)
			}
			if !o.OK() {
				failed.Add(1)
			}
			<-slots
		}(next)
	}
	interrupted := stopped(ctx, cfg.Kill)
	for i := next; i < len(jobs); i++ {
		out[i].Skipped = true
		if interrupted {
			out[i].Interrupted = true
			out[i].Err = fmt.Errorf("%w: %w", ErrSkipped, ErrInterrupted)
		} else {
			out[i].Err = fmt.Errorf("%w: an earlier product failed (fail-fast)", ErrSkipped)
		}
	}
	wg.Wait()
	return out
}

func stopped(ctx context.Context, kill <-chan struct{}) bool {
	if ctx.Err() != nil {
		return true
	}
	select {
	case <-kill:
		return true
	default:
		return false
	}
}
