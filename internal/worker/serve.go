package worker

// The process side of a worker: the job protocol (package job) from the
// child's end. One process, one job. The supervisor writes the spec on the
// worker's stdin and keeps that pipe open for the worker's whole life; the
// worker logs hclog JSON lines on stderr and writes its one Result line on
// fd 3.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/event"
	"supervisor/internal/job"
	"supervisor/internal/tty"
)

// EnvMarker is the environment variable (value "1") with which the
// supervisor re-executes itself as a worker. It selects a mode, it is not a
// secret and carries no data.
const EnvMarker = "SUPERVISOR_WORKER"

// EnvLogLevel optionally sets the level of the worker's own log lines (trace,
// debug, info, warn, error); the default is debug. The supervisor filters
// what it re-logs by its own --log-level anyway.
const EnvLogLevel = "SUPERVISOR_WORKER_LOG_LEVEL"

// EnvCPUProfile, when set to a file name, makes the worker write a CPU
// profile of its whole job there (go tool pprof): for measuring a worker
// by hand (bench/profile-cleanup.sh), off by default.
const EnvCPUProfile = "SUPERVISOR_WORKER_CPUPROFILE"

// ResultFD is the file descriptor of the result pipe (exec.Cmd.ExtraFiles[0]).
const ResultFD = 3

// Exit codes of Serve.
const (
	ExitOK      = 0 // the result says OK
	ExitFailed  = 1 // the job failed (or its result could not be written)
	ExitBadSpec = 2 // no job, unreadable spec, or run by hand on a terminal
)

// ErrParentGone is the cancellation cause when the worker's stdin reaches
// end of file: the supervisor died or gave up on the worker.
var ErrParentGone = errors.New("supervisor gone: stdin closed")

// ErrTerminated is the cancellation cause when the worker receives SIGTERM.
var ErrTerminated = errors.New("terminated by SIGTERM")

// RunFunc is what a worker does for one job (Run; a fake in tests). It must honour ctx (cancelled
// on SIGTERM or parent death; context.Cause says which), roll back what it
// has not committed, and return a Result (OK false with Error on failure).
type RunFunc func(ctx context.Context, spec job.Spec, log hclog.Logger) job.Result

// usage is printed when the worker is started without a job.
const usage = `This program is a supervisor worker: it runs one job, read as a JSON job
spec on stdin, and is normally started by 'supervisor migrate' or
'supervisor cleanup' (one worker process per product), not by hand.
To run one job by hand, pipe a spec into it:  worker < spec.json
The result is written on fd 3 when that is a pipe, otherwise on stdout.
`

// Serve runs one job with Run: see ServeWith. It is the whole of the hidden
// worker mode of the supervisor binary (switched on by EnvMarker) and of
// cmd/worker, which runs one job by hand.
func Serve(stdin io.Reader, stderr io.Writer) int {
	return ServeWith(stdin, stderr, Run)
}

// ServeWith runs one job: it reads the spec from stdin, logs hclog JSON lines
// to stderr, runs run, fills the Result's Endpoint and Duration, logs it as
// one event.Result line, writes it on fd 3 (the result pipe; on stdout when
// fd 3 is not a pipe, i.e. when run by hand) and returns the process exit
// code: ExitOK, ExitFailed or ExitBadSpec.
//
// When the result goes to the pipe, Serve is supervised: after the spec it
// keeps reading stdin, and end of file (the supervisor closes its end only
// when it is done or dead) cancels the job. SIGTERM cancels the job; SIGINT
// is ignored, the supervisor alone decides when workers stop.
//
// A panic in run is not recovered: the process dies with its stack trace on
// stderr, which the supervisor reports as the product's failure.
func ServeWith(stdin io.Reader, stderr io.Writer, run RunFunc) int {
	// Look at fd 3 before anything else opens files: unless the supervisor
	// passed it, the lowest free descriptor belongs to someone else (the Go
	// runtime itself keeps cgroup files open from start-up).
	result, supervised := resultPipe()
	if !supervised {
		result = os.Stdout
	}

	if tty.IsTerminal(stdin) {
		fmt.Fprint(stderr, usage)
		return ExitBadSpec
	}
	if path := os.Getenv(EnvCPUProfile); path != "" {
		stop, err := startCPUProfile(path)
		if err != nil {
			fmt.Fprintf(stderr, "cpu profile: %v\n", err)
			return ExitBadSpec
		}
		defer stop()
	}

	log := hclog.New(&hclog.LoggerOptions{
		Output:     stderr,
		JSONFormat: true,
		Level:      workerLevel(),
		TimeFn:     func() time.Time { return time.Now().UTC() },
	})

	spec, err := job.ReadSpec(stdin)
	if err != nil {
		if errors.Is(err, io.EOF) {
			fmt.Fprint(stderr, usage)
		} else {
			log.Error("bad job spec", "error", err)
		}
		return ExitBadSpec
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)

	// SIGINT goes to the whole foreground process group on Ctrl-C; workers
	// have their own group, but ignore it anyway when run under a shell.
	signal.Ignore(syscall.SIGINT)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	defer signal.Stop(term)
	go func() {
		select {
		case <-term:
			cancel(ErrTerminated)
		case <-ctx.Done():
		}
	}()

	if supervised {
		// When the supervisor dies, the read ends of our stderr and result
		// pipes die with it. Go kills a process that writes to a broken
		// pipe on fd 1 or 2 with SIGPIPE unless SIGPIPE is ignored or
		// notified, and the first log line after the parent's death (the
		// statement the cancellation interrupted, say) would kill the
		// worker before it rolls back, leaving a hot journal (SQLite) or a
		// half-done job. Ignored, such writes fail with EPIPE instead and
		// the job winds down as on SIGTERM.
		signal.Ignore(syscall.SIGPIPE)
		// Parent-death pipe. This goroutine may stay blocked in Read after
		// Serve returns; the process is about to exit, so that is harmless.
		go func() {
			_, _ = io.Copy(io.Discard, stdin)
			cancel(ErrParentGone)
		}()
	}

	log.Debug("job started", "action", string(spec.Action), "endpoint", spec.Endpoint, "pid", os.Getpid())
	start := time.Now()
	res := run(ctx, spec, log)
	if cause := context.Cause(ctx); cause != nil {
		log.Warn("job cancelled", "cause", cause.Error())
	}
	// Filled here, for every run alike: the supervisor checks the endpoint
	// against its job, and the duration is the whole job, spec to result.
	res.Endpoint = spec.Endpoint
	res.Duration = time.Since(start)
	if !res.OK && res.Error == "" {
		res.Error = "job failed"
		if err := context.Cause(ctx); err != nil {
			res.Error = err.Error()
		}
	}

	// The same result as an event on the log stream, for the supervisor's
	// live consumers; the record on the result pipe stays the authority. At
	// DEBUG, as "job started": the operator's log shows the outcome in the
	// supervisor's own words already.
	event.Emit(log, hclog.Debug, "job finished", resultEvent(res))
	if err := job.WriteResult(result, res); err != nil {
		log.Error("cannot write result", "error", err)
		return ExitFailed
	}
	if supervised {
		_ = result.Close()
	}
	if !res.OK {
		return ExitFailed
	}
	return ExitOK
}

// startCPUProfile starts a CPU profile written to path; stop ends it.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

// resultEvent is res as an event.Result.
func resultEvent(res job.Result) event.Event {
	return event.Event{Kind: event.Result, OK: res.OK, Status: string(res.Status), Applied: res.Applied, Error: res.Error}
}

// resultPipe returns fd 3 as a file when it is a pipe or a socket: what the
// supervisor passes. Anything else on fd 3 (a file the runtime or a library
// opened, an epoll descriptor) is left alone; wrapping it in an *os.File
// would let the finalizer close it under its owner's feet.
func resultPipe() (*os.File, bool) {
	var st syscall.Stat_t
	if err := syscall.Fstat(ResultFD, &st); err != nil {
		return nil, false
	}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFIFO, syscall.S_IFSOCK:
		return os.NewFile(ResultFD, "result"), true
	}
	return nil, false
}

func workerLevel() hclog.Level {
	if l := hclog.LevelFromString(os.Getenv(EnvLogLevel)); l != hclog.NoLevel {
		return l
	}
	return hclog.Debug
}
