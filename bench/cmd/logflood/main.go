// Command logflood is B3 (BENCHMARKS.md): the log merge under a flood. It
// runs internal/supervise.Run, as the supervisor does, with -workers fake
// workers at once: this same binary re-executed with LOGFLOOD_WORKER=1,
// serving its job through internal/worker.ServeWith (hclog JSON lines on
// stderr, the result on fd 3, as a real worker) and logging -lines lines
// shaped like a cleanup worker's. The supervisor side relays every line
// through internal/logging into a writer that counts, per worker, the lines
// that came through. It prints one JSON object: lines relayed, lost
// (expected minus relayed, which must be 0), seconds and lines per second
// of the whole run (worker start to the last outcome).
//
//	logflood [-workers 2] [-lines 1000000] [-format text|json]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/job"
	"supervisor/internal/logging"
	"supervisor/internal/supervise"
	"supervisor/internal/worker"
)

const (
	workerEnv = "LOGFLOOD_WORKER"
	linesEnv  = "LOGFLOOD_LINES"
	message   = "flood line"
)

func main() {
	if os.Getenv(workerEnv) == "1" {
		os.Exit(worker.ServeWith(os.Stdin, os.Stderr, flood))
	}
	workers := flag.Int("workers", 2, "fake workers, all running at once")
	lines := flag.Int("lines", 1_000_000, "lines each worker logs")
	format := flag.String("format", logging.FormatText, "the supervisor's log format: text or json")
	flag.Parse()
	if err := run(*workers, *lines, *format); err != nil {
		fmt.Fprintln(os.Stderr, "logflood:", err)
		os.Exit(1)
	}
}

// flood is the fake worker's job: lines log lines, then success.
func flood(ctx context.Context, spec job.Spec, log hclog.Logger) job.Result {
	n, err := strconv.Atoi(os.Getenv(linesEnv))
	if err != nil {
		return job.Result{Error: "bad " + linesEnv + ": " + err.Error()}
	}
	for i := range n {
		if i%4096 == 0 && ctx.Err() != nil {
			return job.Result{Error: "interrupted"}
		}
		log.Info(message, "n", i, "routine", "remove unused files", "batch", 5000, "rows", i%5000)
	}
	return job.Result{OK: true}
}

// counter counts the relayed flood lines of each endpoint. hclog writes one
// line per Write, under its output mutex.
type counter struct {
	mu    sync.Mutex
	marks map[string][]byte // endpoint -> how its lines name it
	got   map[string]int
	other int
}

func (c *counter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bytes.Contains(p, []byte(message)) {
		for ep, mark := range c.marks {
			if bytes.Contains(p, mark) {
				c.got[ep]++
				return len(p), nil
			}
		}
	}
	c.other++
	return len(p), nil
}

func run(workers, lines int, format string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	c := &counter{marks: map[string][]byte{}, got: map[string]int{}}
	jobs := make([]job.Spec, workers)
	for i := range jobs {
		ep := fmt.Sprintf("w%d", i)
		jobs[i] = job.Spec{Action: job.ActionCleanup, Endpoint: ep}
		if format == logging.FormatJSON {
			c.marks[ep] = []byte(`"endpoint":"` + ep + `"`)
		} else {
			c.marks[ep] = []byte("[" + ep + "] ")
		}
	}
	logs, err := logging.New(c, format, hclog.Info)
	if err != nil {
		return err
	}
	cfg := supervise.Config{
		Command: func(ctx context.Context) *exec.Cmd {
			cmd := exec.CommandContext(ctx, exe)
			cmd.Env = append(os.Environ(), workerEnv+"=1", linesEnv+"="+strconv.Itoa(lines))
			return cmd
		},
		Parallel: workers,
		Logs:     logs,
	}
	start := time.Now()
	outcomes := supervise.Run(context.Background(), cfg, jobs)
	secs := time.Since(start).Seconds()
	relayed, failed := 0, 0
	for _, o := range outcomes {
		if !o.OK() {
			failed++
			fmt.Fprintf(os.Stderr, "logflood: %s: %v\n", o.Spec.Endpoint, o.Err)
		}
		relayed += c.got[o.Spec.Endpoint]
	}
	out := map[string]any{
		"workers": workers, "lines_per_worker": lines, "format": format,
		"relayed": relayed, "lost": workers*lines - relayed, "failed_workers": failed,
		"seconds": secs, "lines_per_s": float64(relayed) / secs,
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d workers failed", failed)
	}
	return nil
}
