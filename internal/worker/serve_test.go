package worker_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/dbconn"
	"supervisor/internal/event"
	"supervisor/internal/job"
	"supervisor/internal/status"
	"supervisor/internal/worker"
)

// The test binary doubles as a worker (go-plugin's helperProcess pattern):
// with helperEnv set it serves one job and exits instead of running tests.
const helperEnv = "GO_WANT_HELPER_PROCESS"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "1":
		os.Exit(worker.ServeWith(os.Stdin, os.Stderr, helperRun))
	case "real":
		os.Exit(worker.Serve(os.Stdin, os.Stderr)) // what the mains do
	}
	os.Exit(m.Run())
}

// helperRun does what the spec's endpoint names.
func helperRun(ctx context.Context, spec job.Spec, log hclog.Logger) job.Result {
	switch spec.Endpoint {
	case "ok":
		log.Info("working", "step", 1)
		return job.Result{OK: true, Status: "ok"}
	case "block":
		// Say so on stderr, so the test knows signal handling is in place.
		log.Info("blocking")
		<-ctx.Done()
		log.Info("rolled back")
		return job.Result{OK: false, Status: "schema_upgrade_failed", Error: "rolled back: " + context.Cause(ctx).Error()}
	case "own-fields":
		// Serve alone fills these: whatever run says is overwritten.
		return job.Result{OK: true, Status: "ok", Endpoint: "someone-else", Duration: time.Nanosecond}
	case "fail":
		log.Error("it broke")
		return job.Result{Status: status.SchemaUpgradeFailed, Applied: 2, Error: "version 003: it broke"}
	case "survive-eof":
		// Run by hand: stdin at EOF right after the spec must not cancel.
		select {
		case <-ctx.Done():
			return job.Result{Error: "cancelled: " + context.Cause(ctx).Error()}
		case <-time.After(300 * time.Millisecond):
			return job.Result{OK: true, Status: "ok"}
		}
	}
	return job.Result{Error: "unknown behaviour " + spec.Endpoint}
}

// helperCmd runs the test binary as a worker serving helperRun.
func helperCmd(t *testing.T) *osexec.Cmd {
	t.Helper()
	return helperMode(t, "1")
}

// helperMode runs the test binary as a worker in mode: "1" serves
// helperRun, "real" serves Run.
func helperMode(t *testing.T, mode string) *osexec.Cmd {
	t.Helper()
	cmd := osexec.Command(os.Args[0], "-test.run=^$")
	// The race detector sleeps 1 s before a successful exit; not needed here.
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	return cmd
}

func specJSON(t *testing.T, endpoint string) []byte {
	t.Helper()
	return marshalSpec(t, job.Spec{Action: job.ActionMigrate, Endpoint: endpoint, Target: dbconn.Target{Dialect: "sqlite", Path: "x.sqlite"}})
}

func marshalSpec(t *testing.T, s job.Spec) []byte {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// supervised is a helper worker started the way the supervisor starts one:
// stdin and fd 3 are pipes the test holds.
type supervised struct {
	cmd    *osexec.Cmd
	stdin  *os.File // our end; closing it is the parent's death
	result *os.File
	stderr *bufio.Reader
	errR   io.ReadCloser // the pipe under stderr
	done   chan error
}

func startSupervised(t *testing.T, endpoint string) *supervised {
	t.Helper()
	cmd := helperCmd(t)
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = inR
	cmd.ExtraFiles = []*os.File{resW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	resW.Close()
	w := &supervised{cmd: cmd, stdin: inW, result: resR, stderr: bufio.NewReader(errR), errR: errR, done: make(chan error, 1)}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		inW.Close()
		resR.Close()
	})
	if _, err := inW.Write(specJSON(t, endpoint)); err != nil {
		t.Fatal(err)
	}
	return w
}

// waitFor reads the worker's stderr until a line's @message is msg.
func (w *supervised) waitFor(t *testing.T, msg string) {
	t.Helper()
	for {
		line, err := w.stderr.ReadBytes('\n')
		var e struct {
			Message string `json:"@message"`
		}
		if json.Unmarshal(line, &e) == nil && e.Message == msg {
			return
		}
		if err != nil {
			t.Fatalf("worker stderr ended before %q: %v", msg, err)
		}
	}
}

// finish drains the pipes and waits for the worker, at most 5 s.
func (w *supervised) finish(t *testing.T) (job.Result, int) {
	t.Helper()
	go func() {
		_, _ = io.Copy(io.Discard, w.stderr)
		w.done <- w.cmd.Wait()
	}()
	var res job.Result
	_ = w.result.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(w.result)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		t.Fatal("worker did not exit within 5s")
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("result %q: %v", b, err)
	}
	return res, w.cmd.ProcessState.ExitCode()
}

func TestParentDeathCancelsJob(t *testing.T) {
	w := startSupervised(t, "block")
	w.waitFor(t, "blocking")
	w.stdin.Close() // what the kernel does when the supervisor dies
	res, code := w.finish(t)
	if code != worker.ExitFailed {
		t.Errorf("exit code = %d, want %d", code, worker.ExitFailed)
	}
	if res.OK || !strings.Contains(res.Error, worker.ErrParentGone.Error()) || res.Endpoint != "block" {
		t.Errorf("result = %+v, want a failure caused by %q", res, worker.ErrParentGone)
	}
}

// When the supervisor dies, the read ends of the worker's stderr and result
// pipes go with it. The worker must still wind its job down (roll back) and
// exit by itself, not die of SIGPIPE at its first log line after the
// cancellation, which is what Go does to a write to a broken fd 2 by default.
func TestParentDeathWithPipesGone(t *testing.T) {
	w := startSupervised(t, "block")
	w.waitFor(t, "blocking")
	w.errR.Close()
	w.result.Close()
	w.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- w.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("worker did not exit within 5s")
	}
	ws := w.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		t.Fatalf("worker killed by %v; want it to roll back and exit %d", ws.Signal(), worker.ExitFailed)
	}
	if code := ws.ExitStatus(); code != worker.ExitFailed {
		t.Errorf("exit code = %d, want %d (its result could not be written)", code, worker.ExitFailed)
	}
}

func TestSIGTERMCancelsJobAndSIGINTIsIgnored(t *testing.T) {
	w := startSupervised(t, "block")
	w.waitFor(t, "blocking")
	// SIGINT first: were it not ignored, the worker would die of it and
	// write no result.
	if err := w.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	res, code := w.finish(t)
	if code != worker.ExitFailed {
		t.Errorf("exit code = %d, want %d", code, worker.ExitFailed)
	}
	if res.OK || !strings.Contains(res.Error, worker.ErrTerminated.Error()) {
		t.Errorf("result = %+v, want a failure caused by %q", res, worker.ErrTerminated)
	}
}

func TestSupervisedOK(t *testing.T) {
	w := startSupervised(t, "ok")
	res, code := w.finish(t)
	if code != worker.ExitOK || !res.OK || res.Endpoint != "ok" || res.Duration <= 0 {
		t.Errorf("got %+v, exit %d; want OK, exit 0", res, code)
	}
}

// Endpoint and Duration are Serve's to fill, once, whatever run returned.
func TestServeFillsEndpointAndDuration(t *testing.T) {
	w := startSupervised(t, "own-fields")
	res, code := w.finish(t)
	if code != worker.ExitOK || res.Endpoint != "own-fields" || res.Duration <= 0 || res.Duration == time.Nanosecond {
		t.Errorf("got %+v, exit %d; want endpoint own-fields and Serve's own duration, exit 0", res, code)
	}
}

// Serve runs Run: a by-hand migrate of a fresh SQLite product, as cmd/worker
// does it, answers with a result that says so and carries the spec's
// endpoint and a measured duration, which Run itself leaves empty.
func TestServeRunsRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Default.sqlite")
	cmd := helperMode(t, "real")
	cmd.Stdin = bytes.NewReader(marshalSpec(t, job.Spec{Action: job.ActionMigrate, Endpoint: "Default",
		Target: dbconn.Target{Dialect: "sqlite", Path: path}, Options: job.Options{LockTimeout: 5 * time.Second}}))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var res job.Result
	if jerr := json.Unmarshal(stdout.Bytes(), &res); jerr != nil {
		t.Fatalf("stdout %q is not a result: %v (run: %v; stderr %s)", stdout.String(), jerr, err, stderr.String())
	}
	if err != nil || !res.OK || res.Status != status.OK || res.Endpoint != "Default" || res.Duration <= 0 || res.Applied == 0 {
		t.Errorf("run: %v, result %+v; want OK, status ok, endpoint Default, files applied, a duration; stderr:\n%s", err, res, stderr.String())
	}
}

// The result goes on the log stream too, as one event.Result line written
// before the result record: by hand, with stdout and stderr one stream, the
// event line comes first, and says what the record says.
func TestServeEmitsResultEventBeforeResult(t *testing.T) {
	for _, tc := range []struct {
		endpoint string
		want     event.Event
	}{
		{"ok", event.Event{Kind: event.Result, OK: true, Status: "ok"}},
		{"fail", event.Event{Kind: event.Result, Status: "schema_upgrade_failed", Applied: 2, Error: "version 003: it broke"}},
	} {
		t.Run(tc.endpoint, func(t *testing.T) {
			cmd := helperCmd(t)
			cmd.Stdin = bytes.NewReader(specJSON(t, tc.endpoint))
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out // one pipe: the order is the worker's
			_ = cmd.Run()
			var events []event.Event
			var resultAt, eventAt int
			for i, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				var m map[string]json.RawMessage
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("line %q: %v", l, err)
				}
				if _, ok := m["@message"]; !ok {
					resultAt = i + 1 // the result record
					continue
				}
				if e, ok := event.Decode(time.Time{}, m); ok {
					events = append(events, e)
					eventAt = i + 1
				}
			}
			if want := []event.Event{tc.want}; !reflect.DeepEqual(events, want) {
				t.Errorf("events %+v, want %+v\n%s", events, want, out.String())
			}
			if eventAt == 0 || resultAt <= eventAt {
				t.Errorf("event on line %d, result on line %d; want the event first\n%s", eventAt, resultAt, out.String())
			}
		})
	}
}

// By hand there is no fd 3 (whatever the runtime opened there is not a
// pipe): the result goes to stdout, and stdin at EOF does not cancel.
func TestByHandResultOnStdout(t *testing.T) {
	cmd := helperCmd(t)
	cmd.Stdin = bytes.NewReader(specJSON(t, "survive-eof"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var res job.Result
	if jerr := json.Unmarshal(stdout.Bytes(), &res); jerr != nil {
		t.Fatalf("stdout %q is not a result: %v (run: %v; stderr %s)", stdout.String(), jerr, err, stderr.String())
	}
	if err != nil || !res.OK {
		t.Errorf("run: %v, result %+v; stderr:\n%s", err, res, stderr.String())
	}
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["@level"] == nil || m["@message"] == nil || m["@timestamp"] == nil {
			t.Errorf("stderr line %q is not an hclog JSON line", l)
		}
	}
}

func TestNoJobOrBadSpec(t *testing.T) {
	for _, tc := range []struct {
		name, stdin, want string
	}{
		{"empty", "", "supervisor worker"},
		{"garbage", "not json\n", "bad job spec"},
		{"no endpoint", `{"action":"migrate"}`, "bad job spec"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := helperCmd(t)
			cmd.Stdin = strings.NewReader(tc.stdin)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != worker.ExitBadSpec {
				t.Errorf("exit code = %d (%v), want %d", code, err, worker.ExitBadSpec)
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("output %q does not contain %q", out.String(), tc.want)
			}
		})
	}
}

func TestUsageMentionsSupervisor(t *testing.T) {
	cmd := helperCmd(t)
	devnull, err := os.Open(os.DevNull) // a character device, like a terminal
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	cmd.Stdin = devnull
	out, _ := cmd.CombinedOutput()
	for _, want := range []string{"supervisor worker", "JSON job", "stdin", "supervisor migrate", "supervisor cleanup"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("usage %q does not mention %q", out, want)
		}
	}
	if code := cmd.ProcessState.ExitCode(); code != worker.ExitBadSpec {
		t.Errorf("exit code = %d, want %d", code, worker.ExitBadSpec)
	}
}
