package supervise

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/dbconn"
	"supervisor/internal/event"
	"supervisor/internal/job"
	"supervisor/internal/logging"
	"supervisor/internal/status"
	"supervisor/internal/worker"
)

// The test binary doubles as the worker (go-plugin's helperProcess): with
// helperEnv=1 it serves one job through worker.ServeWith and exits. The
// behaviour is the spec's endpoint up to the first dot ("hang.2" hangs).
const (
	helperEnv    = "GO_WANT_HELPER_PROCESS"
	helperDirEnv = "HELPER_DIR" // for "slow": where running workers are counted
	secret       = "hunter2-do-not-leak"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(worker.ServeWith(os.Stdin, os.Stderr, fakeWorker))
	}
	os.Exit(m.Run())
}

func fakeWorker(ctx context.Context, spec job.Spec, log hclog.Logger) job.Result {
	behaviour, _, _ := strings.Cut(spec.Endpoint, ".")
	switch behaviour {
	case "ok":
		log.Debug("connecting", "dialect", spec.Target.Dialect)
		log.Info("applied file", "version", 2, "file", "2.sql")
		log.Warn("slow statement", "ms", 1500, "multi", "line1\nline2")
		st := "ok"
		all := strings.Join(append(os.Args, os.Environ()...), "\n")
		if spec.Target.Password != secret {
			st = "no-secret-on-stdin"
		} else if strings.Contains(all, secret) {
			st = "secret-leaked"
		}
		// The supervisor keeps stdin open while we run.
		select {
		case <-ctx.Done():
			return job.Result{Error: "cancelled early: " + context.Cause(ctx).Error()}
		case <-time.After(50 * time.Millisecond):
		}
		return job.Result{OK: true, Status: status.Status(st), FromVersion: "1", ToVersion: "2", Applied: 1}
	case "fail":
		log.Error("migration failed", "version", 3)
		return job.Result{Status: "schema_upgrade_failed", Error: "migration 3 failed:\n  no such table"}
	case "panic":
		log.Info("about to panic")
		panic("boom")
	case "exit3":
		log.Error("giving up", "reason", "disk full")
		os.Exit(3)
	case "hang":
		log.Info("hanging")
		<-ctx.Done()
		log.Info("rolled back")
		return job.Result{Status: "schema_upgrade_failed", Error: "rolled back: " + context.Cause(ctx).Error()}
	case "hang-ignore-term":
		signal.Ignore(syscall.SIGTERM)
		log.Info("hanging")
		time.Sleep(time.Hour)
	case "garbage":
		for _, l := range []string{
			"this is not json",
			`{"@message":5,"@level":"info"}`,
			`{"@level":null,"@message":"null level"}`,
			`[1,2,3]`,
			`{"@level":"info","@message":{"nested":true}}`,
			`{"@level":"loud","@message":"unknown level"}`,
			`{"@level":"info","@message":"bad time","@timestamp":7}`,
			`{"@level":"info","@message":"nested value","obj":{"a":[1,2]},"n":1.5,"b":true,"z":null}`,
			`{"@level":"warn","@message":"cut short"`,
		} {
			fmt.Fprintln(os.Stderr, l)
		}
		fmt.Fprint(os.Stderr, "last words without a newline")
		os.NewFile(worker.ResultFD, "result").WriteString("garbage result \x00\xff\n")
		os.Exit(0)
	case "huge":
		line := bytes.Repeat([]byte("x"), hugeLine)
		line = append(line, '\n')
		os.Stderr.Write(line)
		log.Info("after huge")
		return job.Result{OK: true, Status: "ok"}
	case "flood":
		for i := range floodLines {
			log.Info("flood line", "i", i)
		}
		return job.Result{OK: true, Status: "ok"}
	case "selfkill":
		log.Info("killing myself")
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Hour)
	case "bigresult":
		os.NewFile(worker.ResultFD, "result").Write(bytes.Repeat([]byte("{"), 2<<20))
		os.Exit(0)
	case "stamped":
		// A line from long ago: the supervisor must keep its time.
		fmt.Fprintln(os.Stderr, `{"@level":"info","@message":"from the past","@timestamp":"2001-02-03T04:05:06.789012Z","k":"v"}`)
		fmt.Fprintln(os.Stderr, `{"@level":"info","@message":"unreadable time","@timestamp":"yesterday"}`)
		fmt.Fprintln(os.Stderr, "plain line")
		return job.Result{OK: true, Status: "ok"}
	case "binary":
		// Lines of bytes that are mostly not UTF-8, some longer than
		// maxLine, written in writes of random sizes, the last one
		// without a newline.
		stream := bytes.Join(binaryLines(), []byte("\n"))
		r := rand.New(rand.NewPCG(7, 7))
		for len(stream) > 0 {
			n := min(1+r.IntN(100000), len(stream))
			os.Stderr.Write(stream[:n])
			stream = stream[n:]
		}
		// Ends here, not in Serve, whose result event line would end the
		// unterminated last line.
		exitWith(job.Result{Endpoint: spec.Endpoint, OK: true, Status: "ok"})
	case "replay":
		replay(spec)
	case "noresult":
		log.Info("forgot the result")
		os.Exit(0)
	case "slow":
		return slowWorker(ctx, spec)
	case "grandchild":
		// A child that outlives us and holds stderr and fd 3 open.
		cmd := exec.Command("sleep", "30")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return job.Result{Error: err.Error()}
		}
		return job.Result{OK: true, Status: "ok", Removed: map[string]int64{"grandchild": int64(cmd.Process.Pid)}}
	}
	return job.Result{Error: "unknown behaviour " + behaviour}
}

// exitWith writes res on the result pipe and exits 0 at once, as a worker
// that bypasses Serve's ending (its result event line) would.
func exitWith(res job.Result) {
	_ = job.WriteResult(os.NewFile(worker.ResultFD, "result"), res)
	os.Exit(0)
}

// recordedStream is a real worker's stderr for three jobs, one after the
// other: a migrate and then a cleanup of one SQLite product, then a migrate of
// a PostgreSQL product whose lock another session held (testdata/README.md).
const recordedStream = "testdata/worker-migrate-cleanup.jsonl"

// recordedParts names the recorded stream's parts, in their order; each part
// ends with its job's result event line.
var recordedParts = []string{"sqlite-migrate", "sqlite-cleanup", "postgres-migrate"}

// replay is the "replay" worker: it writes on stderr, as it is, the part of
// the recorded stream its endpoint names after the dot ("replay.sqlite-cleanup"),
// then the result that part's result event and routines say, and exits. It
// ends by itself, not in Serve, whose own result event would come twice.
func replay(spec job.Spec) {
	data, err := os.ReadFile(recordedStream)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var parts [][]string
	var part []string
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if l == "" {
			continue
		}
		part = append(part, l)
		if e, ok := decodeLine(l); ok && e.Kind == event.Result {
			parts, part = append(parts, part), nil
		}
	}
	_, name, _ := strings.Cut(spec.Endpoint, ".")
	n := slices.Index(recordedParts, name)
	if n < 0 || len(parts) != len(recordedParts) {
		fmt.Fprintf(os.Stderr, "no recorded part %q among the %d parts of %s\n", name, len(parts), recordedStream)
		os.Exit(3)
	}
	res := job.Result{Endpoint: spec.Endpoint}
	for _, l := range parts[n] {
		os.Stderr.WriteString(l)
		e, _ := decodeLine(l)
		switch e.Kind {
		case event.RoutineDone:
			if res.Removed == nil {
				res.Removed = map[string]int64{}
			}
			maps.Copy(res.Removed, e.Rows)
		case event.Result:
			res.OK, res.Status, res.Applied, res.Error = e.OK, status.Status(e.Status), e.Applied, e.Error
		}
	}
	exitWith(res)
}

// decodeLine decodes the event of one hclog JSON line, if it is one.
func decodeLine(l string) (event.Event, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(l), &m) != nil {
		return event.Event{}, false
	}
	return event.Decode(time.Time{}, m)
}

const (
	hugeLine   = 10 << 20
	floodLines = 5000
)

// binaryLines is what the "binary" worker writes: 40 lines, each starting
// with a letter, of bytes without '\n', '\r', '\\', '{' or white space,
// most of them not UTF-8 (some forming C1 controls, U+2028 or é).
func binaryLines() [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	var lines [][]byte
	for i := range 40 {
		n := 1 + r.IntN(2000)
		if i%8 == 3 {
			n = maxLine - 2 + r.IntN(3*maxLine) // around and beyond maxLine
		}
		l := []byte{byte('a' + i%26)}
		for len(l) < n {
			switch k := r.IntN(10); {
			case k < 5:
				l = append(l, byte(0x80+r.IntN(0x80)))
			case k < 7:
				l = append(l, byte('a'+r.IntN(26)))
			case k == 7:
				l = append(l, 0xc2, byte(0x80+r.IntN(0x20))) // C1 control
			case k == 8:
				l = append(l, "é\u2028"...)
			default:
				l = append(l, 0xe2, 0x80) // a sequence cut short, maybe at a piece's end
			}
		}
		lines = append(lines, l)
	}
	return lines
}

// slowWorker records how many slow workers run at once (files in the helper
// dir) and its start in the order file.
func slowWorker(ctx context.Context, spec job.Spec) job.Result {
	dir := os.Getenv(helperDirEnv)
	order, err := os.OpenFile(filepath.Join(dir, "order"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return job.Result{Error: err.Error()}
	}
	fmt.Fprintln(order, spec.Endpoint)
	order.Close()
	mark := filepath.Join(dir, "running."+spec.Endpoint)
	if err := os.WriteFile(mark, nil, 0o644); err != nil {
		return job.Result{Error: err.Error()}
	}
	count := func() int64 {
		m, _ := filepath.Glob(filepath.Join(dir, "running.*"))
		return int64(len(m))
	}
	most := count()
	select {
	case <-ctx.Done():
	case <-time.After(500 * time.Millisecond):
	}
	most = max(most, count())
	os.Remove(mark)
	return job.Result{OK: true, Status: "ok", Removed: map[string]int64{"running": most}}
}

// helperCommand runs the test binary as a worker.
func helperCommand(env ...string) func(context.Context) *exec.Cmd {
	return func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		// The race detector sleeps 1 s before a successful exit; not here.
		cmd.Env = append(os.Environ(), helperEnv+"=1", "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
		cmd.Env = append(cmd.Env, env...)
		return cmd
	}
}

func specs(endpoints ...string) []job.Spec {
	out := make([]job.Spec, len(endpoints))
	for i, e := range endpoints {
		out[i] = job.Spec{
			Action:   job.ActionMigrate,
			Endpoint: e,
			Target:   dbconn.Target{Dialect: "postgres", Host: "db", Port: 5432, User: "cc", Database: e, Password: secret},
		}
	}
	return out
}

// output is the supervisor's log stream, safe to read while Run writes it.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

func (o *output) Lines() []string {
	return strings.Split(strings.TrimSuffix(o.String(), "\n"), "\n")
}

// waitFor polls until s occurs n times in the output, at most 10 s.
func (o *output) waitFor(t *testing.T, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(o.String(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%q did not occur %d times within 10s; output:\n%s", s, n, o.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newLogs(t *testing.T, format string) (*logging.Logs, *output) {
	t.Helper()
	out := &output{}
	logs, err := logging.New(out, format, hclog.Trace)
	if err != nil {
		t.Fatal(err)
	}
	return logs, out
}
