package supervise

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/event"
	"supervisor/internal/job"
	"supervisor/internal/logging"
)

const (
	// maxResult bounds what is read from the result pipe.
	maxResult = 1 << 20
	// errLines is how many of the last stderr lines go into Outcome.Err.
	errLines = 5
)

// drainDelay bounds the wait for a worker's pipes to reach end of file once
// it has exited (a grandchild may still hold them). A variable for tests.
var drainDelay = 2 * time.Second

// stopKind records why Run signalled a worker.
type stopKind int

const (
	stopNone      stopKind = iota
	stopTimeout            // Config.Timeout passed
	stopInterrupt          // ctx cancelled
	stopKill               // Config.Kill closed
)

// runWorker runs one job in one worker process and says what became of it:
// start the process with its pipes, wait for it to end while watching it
// (timeout, interrupt, kill), then classify how it ended.
func runWorker(ctx context.Context, cfg Config, spec job.Spec) Outcome {
	o := Outcome{Spec: spec}
	log := cfg.Logs.Product(spec.Endpoint)
	p, err := startProcess(ctx, cfg, spec, log)
	if err != nil {
		o.Err = err
		return o
	}
	defer p.close()
	end := p.wait(ctx, cfg)
	o.Duration = end.duration
	o.LastOutput = p.sink.LastLines()

	if end.err != nil && !errors.Is(end.err, exec.ErrWaitDelay) && end.state == nil {
		o.Err = fmt.Errorf("wait for worker: %w", end.err)
		return o
	}
	if errors.Is(end.err, exec.ErrWaitDelay) {
		log.Warn("worker exited but its output pipes stayed open (a child process?); stopped reading them")
	}
	classify(&o, end, cfg.Timeout, p.sink)
	if ru, ok := end.state.SysUsage().(*syscall.Rusage); ok {
		o.PeakRSS = ru.Maxrss << 10 // Linux reports KiB
	}
	logOutcome(log, o)
	return o
}

// process is a started worker and the supervisor's ends of its pipes.
type process struct {
	cmd     *exec.Cmd
	cmdDone context.CancelFunc // ends the command's ctx
	payload []byte             // the job spec, for stdin
	stdin   *os.File           // the write end of stdin: spec, then the parent-death pipe
	result  *os.File           // the read end of fd 3
	sink    *stderrSink        // stderr and stdout
	start   time.Time
	log     hclog.Logger
}

// startProcess starts the worker command for spec with its three pipes:
// stdin (the spec, then held open as the parent-death pipe), stderr+stdout
// (exec copies it into the sink; WaitDelay bounds that copy) and fd 3 (the
// result). The worker is in a process group of its own.
func startProcess(ctx context.Context, cfg Config, spec job.Spec, log hclog.Logger) (*process, error) {
	// The spec carries the product's secret: it goes to the worker's stdin
	// and nowhere else (never argv, env or a log line).
	payload, err := job.EncodeSpec(spec)
	if err != nil {
		return nil, fmt.Errorf("encode job spec: %w", err)
	}
	payload = append(payload, '\n')

	// ctx for the command outlives the run's ctx: Run itself decides when
	// and how a worker is stopped (group SIGTERM, then group SIGKILL).
	cmdCtx, cmdDone := context.WithCancel(context.WithoutCancel(ctx))
	var cmd *exec.Cmd
	if cfg.Command != nil {
		cmd = cfg.Command(cmdCtx)
	}
	if cmd == nil {
		cmdDone()
		return nil, errors.New("start worker: no worker command")
	}
	cannot := func(err error) (*process, error) {
		cmdDone()
		// EMFILE from pipe2 or fork/exec is the supervisor's limit, not the
		// product's fault: say which limit (fdError).
		err = fmt.Errorf("start worker: %w", fdError(err))
		log.Error("cannot start worker", "error", err.Error())
		return nil, err
	}

	stdinR, stdinW, resultR, resultW, err := pipes()
	if err != nil {
		return cannot(err)
	}
	var events func(event.Event)
	if cfg.Events != nil {
		events = func(e event.Event) { cfg.Events(spec.Endpoint, e) }
	}
	sink := newStderrSink(cfg.Logs.Relay(spec.Endpoint), events)
	attach(cmd, stdinR, resultW, sink)

	err = cmd.Start()
	// The child has its copies; ours would keep the pipes from reaching EOF.
	stdinR.Close()
	resultW.Close()
	if err != nil {
		stdinW.Close()
		resultR.Close()
		return cannot(err)
	}
	p := &process{cmd: cmd, cmdDone: cmdDone, payload: payload, stdin: stdinW, result: resultR, sink: sink, start: time.Now(), log: log}
	log.Debug("worker started", "pid", cmd.Process.Pid)
	return p, nil
}

// pipes makes the stdin and result pipes (read end, write end each), or
// none.
func pipes() (stdinR, stdinW, resultR, resultW *os.File, err error) {
	stdinR, stdinW, err = os.Pipe()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	resultR, resultW, err = os.Pipe()
	if err != nil {
		stdinR.Close()
		stdinW.Close()
		return nil, nil, nil, nil, err
	}
	return stdinR, stdinW, resultR, resultW, nil
}

// attach gives cmd its stdin, its stderr and stdout (both sink), the result
// pipe as fd 3, a process group of its own and a bound on draining its
// pipes after it exits.
func attach(cmd *exec.Cmd, stdin, result *os.File, sink *stderrSink) {
	cmd.Stdin = stdin
	cmd.Stdout = sink // the same writer as Stderr: one pipe, one copier
	cmd.Stderr = sink
	cmd.ExtraFiles = []*os.File{result}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true // signals to the group reach grandchildren; a terminal's Ctrl-C does not
	cmd.SysProcAttr.Pgid = 0
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = drainDelay
	}
}

// close releases the supervisor's ends of the pipes and the command's ctx.
func (p *process) close() {
	p.stdin.Close()
	p.result.Close()
	p.cmdDone()
}

// exit is how a worker process ended.
type exit struct {
	state    *os.ProcessState // nil when Wait failed before the process ended
	err      error            // Wait's
	result   resultData
	stop     stopKind // why the supervisor stopped it, if it did
	duration time.Duration
}

// wait feeds the spec to the worker, reads its result and watches it until
// it has exited and its pipes are drained (or given up on, WaitDelay). All
// its goroutines are done when it returns.
func (p *process) wait(ctx context.Context, cfg Config) exit {
	var wg sync.WaitGroup
	exited := make(chan struct{})

	wg.Add(1)
	go func() {
		defer wg.Done()
		// Blocks only if the worker does not read a spec bigger than the
		// pipe buffer; closing stdin after exit releases it.
		if _, err := p.stdin.Write(p.payload); err != nil {
			p.log.Debug("cannot write the job spec", "error", err)
		}
	}()

	var e exit
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.result = readResult(p.result)
	}()

	wg.Add(1)
	go func() {
		defer wg.Done()
		e.stop = watch(ctx, cfg, p.cmd.Process.Pid, exited, p.log)
	}()

	e.err = p.cmd.Wait()
	e.duration = time.Since(p.start)
	e.state = p.cmd.ProcessState
	close(exited)
	// The parent-death pipe has served: the worker is gone.
	p.stdin.Close()
	// A grandchild may hold fd 3 open; what the worker wrote is in by now.
	_ = p.result.SetReadDeadline(time.Now().Add(drainDelay))
	wg.Wait()
	p.sink.Flush()
	return e
}

// logOutcome says in the product's log how its worker ended.
func logOutcome(log hclog.Logger, o Outcome) {
	switch {
	case o.OK():
		log.Debug("worker done", "duration", o.Duration.Round(time.Millisecond).String(), "peak_rss_mib", o.PeakRSS>>20)
	case o.Interrupted:
		log.Warn("worker interrupted", "error", o.Err.Error())
	default:
		log.Error("worker failed", "error", o.Err.Error())
	}
}

// watch stops the worker's process group when asked to — Timeout, ctx,
// Kill — until exited closes: SIGTERM first, SIGKILL after cfg.Grace or as
// soon as Kill closes. It reports the first reason it had to stop the worker.
func watch(ctx context.Context, cfg Config, pid int, exited <-chan struct{}, log hclog.Logger) (stop stopKind) {
	var killed bool
	var timeout, grace <-chan time.Time
	if cfg.Timeout > 0 {
		t := time.NewTimer(cfg.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var graceTimer *time.Timer
	defer func() {
		if graceTimer != nil {
			graceTimer.Stop()
		}
	}()
	terminate := func(why stopKind) {
		if stop == stopNone {
			stop = why
		}
		if graceTimer != nil || killed {
			return
		}
		signalGroup(pid, syscall.SIGTERM, log)
		graceTimer = time.NewTimer(cfg.Grace)
		grace = graceTimer.C
	}
	kill := func() {
		if !killed {
			killed = true
			signalGroup(pid, syscall.SIGKILL, log)
		}
	}

	done, killCh := ctx.Done(), cfg.Kill
	for {
		select {
		case <-exited:
			return stop
		case <-timeout:
			timeout = nil
			log.Warn("worker timed out, sending SIGTERM", "timeout", cfg.Timeout.String())
			terminate(stopTimeout)
		case <-done:
			done = nil
			log.Debug("interrupted, sending SIGTERM to the worker")
			terminate(stopInterrupt)
		case <-grace:
			grace = nil
			log.Warn("worker still running after SIGTERM, sending SIGKILL", "grace", cfg.Grace.String())
			kill()
		case <-killCh:
			killCh = nil
			if stop == stopNone {
				stop = stopKill
			}
			log.Warn("killing worker")
			kill()
		}
	}
}

// signalGroup signals the worker's whole process group (its pgid is its pid).
func signalGroup(pid int, sig syscall.Signal, log hclog.Logger) {
	if err := syscall.Kill(-pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		log.Error("cannot signal worker", "signal", sig.String(), "error", err)
	}
}

// resultData is what came through the result pipe.
type resultData struct {
	data     []byte
	tooLarge int64 // total size when over maxResult
}

// readResult reads the result pipe to EOF, keeping at most maxResult bytes
// and discarding the rest so a babbling worker never blocks on a full pipe.
func readResult(r io.Reader) resultData {
	data, _ := io.ReadAll(io.LimitReader(r, maxResult+1))
	if len(data) <= maxResult {
		return resultData{data: data}
	}
	n, _ := io.Copy(io.Discard, r)
	return resultData{tooLarge: int64(len(data)) + n}
}

// parse decodes the one Result record; nil, nil when there is none.
func (d resultData) parse(endpoint string) (*job.Result, error) {
	if d.tooLarge > 0 {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrBadResult, d.tooLarge, maxResult)
	}
	b := bytes.TrimSpace(d.data)
	if len(b) == 0 {
		return nil, nil
	}
	var r job.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResult, err)
	}
	if r.Endpoint != endpoint {
		return nil, fmt.Errorf("%w: result is for %q", ErrBadResult, r.Endpoint)
	}
	return &r, nil
}

// classify fills o.Result, o.Err and o.Interrupted from how the worker
// ended (e), with the reason: why it was stopped, if it was, else what
// the result said and how the process exited, and the stderr tail where the
// worker's own words do not suffice.
func classify(o *Outcome, e exit, timeout time.Duration, sink *stderrSink) {
	res, resErr := e.result.parse(o.Spec.Endpoint)
	o.Result = res
	stop := e.stop
	exitCode := e.state.ExitCode() // -1 when killed by a signal
	if exitCode == 0 && resErr == nil && res != nil && res.OK {
		return // done, even if a stop signal raced with the end
	}

	how := exitDescription(e.state)
	tail := sink.reason(errLines)
	said := ""
	if res != nil && res.Error != "" {
		said = ": " + reasonLine(res.Error)
	}
	switch {
	case stop == stopTimeout:
		o.Err = fmt.Errorf("%w after %s: %s%s%s", ErrTimeout, timeout, how, said, tail)
	case stop == stopInterrupt || stop == stopKill:
		o.Interrupted = true
		o.Err = fmt.Errorf("%w: %s%s", ErrInterrupted, how, said)
	case resErr != nil:
		o.Err = fmt.Errorf("%w; %s%s", resErr, how, tail)
	case res != nil && !res.OK && exitCode == 1:
		// The worker did its job of failing cleanly: its reason is enough.
		msg := reasonLine(res.Error)
		if msg == "" {
			msg = "no reason given"
		}
		o.Err = fmt.Errorf("%w: %s", ErrJobFailed, msg)
	case res == nil && exitCode == 0:
		o.Err = fmt.Errorf("%w%s", ErrNoResult, tail)
	case res != nil && res.OK:
		o.Err = fmt.Errorf("%s after reporting success%s", how, tail)
	default:
		o.Err = fmt.Errorf("%s%s%s", how, said, tail)
	}
}

// exitDescription says how a worker ended: "worker exited with status 3",
// "worker killed by signal: killed".
func exitDescription(ps *os.ProcessState) string {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "worker killed by signal: " + ws.Signal().String()
	}
	return fmt.Sprintf("worker exited with status %d", ps.ExitCode())
}

// reasonLine makes s one line for a failure reason, which ends up in tables
// on a terminal too: white space runs become one space, and what could still
// move the cursor or fake a line (escape sequences, other control
// characters, bytes that are not UTF-8) is escaped.
func reasonLine(s string) string {
	return logging.Printable(logging.OneLine(s))
}
