package supervise

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"supervisor/internal/job"
)

// runWithin runs Run and fails the test if it takes longer than limit.
func runWithin(t *testing.T, limit time.Duration, ctx context.Context, cfg Config, endpoints ...string) []Outcome {
	t.Helper()
	done := make(chan []Outcome, 1)
	go func() { done <- Run(ctx, cfg, specs(endpoints...)) }()
	select {
	case out := <-done:
		if len(out) != len(endpoints) {
			t.Fatalf("got %d outcomes, want %d", len(out), len(endpoints))
		}
		for i, o := range out {
			if o.Spec.Endpoint != endpoints[i] {
				t.Fatalf("outcome %d is for %q, want %q", i, o.Spec.Endpoint, endpoints[i])
			}
		}
		return out
	case <-time.After(limit):
		t.Fatalf("Run did not return within %s", limit)
		return nil
	}
}

func errContains(o Outcome, parts ...string) bool {
	if o.Err == nil {
		return false
	}
	for _, p := range parts {
		if !strings.Contains(o.Err.Error(), p) {
			return false
		}
	}
	return true
}

func TestAllBehaviours(t *testing.T) {
	logs, out := newLogs(t, "text")
	cfg := Config{Command: helperCommand(), Parallel: 3, Timeout: 3 * time.Second, Grace: time.Second, Logs: logs}
	endpoints := []string{"ok", "panic", "exit3", "hang", "hang-ignore-term", "garbage", "huge", "flood", "selfkill", "fail", "bigresult", "noresult", "ok.2"}
	goroutines := runtime.NumGoroutine()
	got := runWithin(t, 20*time.Second, context.Background(), cfg, endpoints...)
	// Nothing of Run's outlives it (runWithin's own goroutine may still be
	// on its way out).
	for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > goroutines; {
		if time.Now().After(deadline) {
			t.Errorf("%d goroutines after Run, %d before", runtime.NumGoroutine(), goroutines)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}

	checks := map[string]func(o Outcome) bool{
		"ok": func(o Outcome) bool { return o.OK() && o.Result.Status == "ok" && o.Result.ToVersion == "2" },
		"panic": func(o Outcome) bool {
			return errContains(o, "worker exited with status 2", "panic: boom") && o.Result == nil
		},
		"exit3": func(o Outcome) bool {
			return errContains(o, "worker exited with status 3; last output: ", "giving up reason=disk full")
		},
		"hang": func(o Outcome) bool {
			return errors.Is(o.Err, ErrTimeout) && errContains(o, "after 3s", "rolled back: terminated by SIGTERM") &&
				o.Result != nil && !o.Interrupted
		},
		"hang-ignore-term": func(o Outcome) bool {
			return errors.Is(o.Err, ErrTimeout) && errContains(o, "worker killed by signal: killed")
		},
		"garbage": func(o Outcome) bool {
			return errors.Is(o.Err, ErrBadResult) && errContains(o, "worker exited with status 0") && o.Result == nil
		},
		"huge":     func(o Outcome) bool { return o.OK() },
		"flood":    func(o Outcome) bool { return o.OK() },
		"selfkill": func(o Outcome) bool { return errContains(o, "worker killed by signal: killed") && !o.Interrupted },
		"fail": func(o Outcome) bool {
			return errors.Is(o.Err, ErrJobFailed) && o.Err.Error() == "job failed: migration 3 failed: no such table" &&
				o.Result.Status == "schema_upgrade_failed"
		},
		"bigresult": func(o Outcome) bool {
			return errors.Is(o.Err, ErrBadResult) && errContains(o, "2097152 bytes, more than 1048576")
		},
		"noresult": func(o Outcome) bool {
			return errors.Is(o.Err, ErrNoResult) && errContains(o, "forgot the result")
		},
		"ok.2": func(o Outcome) bool { return o.OK() },
	}
	for _, o := range got {
		if o.Skipped || o.Duration <= 0 {
			t.Errorf("%s: skipped %v, duration %v", o.Spec.Endpoint, o.Skipped, o.Duration)
		}
		if !checks[o.Spec.Endpoint](o) {
			t.Errorf("%s: got OK %v, err %v, result %+v, interrupted %v", o.Spec.Endpoint, o.OK(), o.Err, o.Result, o.Interrupted)
		}
		if o.Err != nil && strings.Contains(o.Err.Error(), "\n") {
			t.Errorf("%s: reason %q is not one line", o.Spec.Endpoint, o.Err)
		}
	}

	text := out.String()
	if strings.Contains(text, secret) {
		t.Error("the secret appears in the output")
	}
	for _, l := range out.Lines() {
		if !slices.ContainsFunc(endpoints, func(e string) bool { return strings.Contains(l, "["+e+"] ") }) {
			t.Errorf("line does not name its product: %.200q", l)
		}
	}
	if n := strings.Count(text, "[INFO]  [flood] flood line: i="); n != floodLines {
		t.Errorf("got %d flood lines, want %d", n, floodLines)
	}
	for _, want := range []string{
		"[DEBUG] [ok] connecting: dialect=postgres",
		"[INFO]  [ok] applied file: file=2.sql version=2",
		`[WARN]  [ok] slow statement: ms=1500 multi=line1\nline2`,
		"[ERROR] [panic] panic: boom",
		"[ERROR] [panic] goroutine 1 [running]:",
		"[ERROR] [garbage] this is not json\n",
		`[ERROR] [garbage] {"@message":5,"@level":"info"}` + "\n",
		`[ERROR] [garbage] {"@level":null,"@message":"null level"}` + "\n",
		"[ERROR] [garbage] [1,2,3]\n",
		`[ERROR] [garbage] {"@level":"info","@message":{"nested":true}}` + "\n",
		`[ERROR] [garbage] {"@level":"loud","@message":"unknown level"}` + "\n",
		`[ERROR] [garbage] {"@level":"info","@message":"bad time","@timestamp":7}` + "\n",
		`[INFO]  [garbage] nested value: b=true n=1.5 obj="{\"a\":[1,2]}" z=<nil>` + "\n",
		`[ERROR] [garbage] {"@level":"warn","@message":"cut short"` + "\n",
		"[ERROR] [garbage] last words without a newline\n",
		"[ERROR] [huge] xxxx",
		"x" + continues + "\n",
		"[ERROR] [huge] " + continued + "xxxx",
		"[INFO]  [huge] after huge",
		"[WARN]  [hang] worker timed out, sending SIGTERM: timeout=3s",
		"[WARN]  [hang-ignore-term] worker still running after SIGTERM, sending SIGKILL: grace=1s",
		"[ERROR] [selfkill] worker failed: error=\"worker killed by signal: killed",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output (long lines cut):")
		for _, l := range out.Lines() {
			if !strings.Contains(l, "flood line") {
				t.Logf("%.300s", l)
			}
		}
	}
}

func TestJSONOutput(t *testing.T) {
	logs, out := newLogs(t, "json")
	endpoints := []string{"ok", "garbage", "panic", "exit3"}
	got := runWithin(t, 10*time.Second, context.Background(), Config{Command: helperCommand(), Parallel: 4, Logs: logs}, endpoints...)
	if !got[0].OK() || got[1].OK() || got[2].OK() || got[3].OK() {
		t.Errorf("outcomes: %+v", got)
	}
	rawSeen := false
	for _, l := range out.Lines() {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("line is not JSON (%v): %s", err, l)
			continue
		}
		if !slices.Contains(endpoints, m["endpoint"].(string)) {
			t.Errorf("line has endpoint %v: %s", m["endpoint"], l)
		}
		if m["@message"] == `{"@message":5,"@level":"info"}` && m["@level"] == "error" && m["endpoint"] == "garbage" {
			rawSeen = true
		}
		if m["@message"] == "nested value" {
			if obj, ok := m["obj"].(map[string]any); !ok || m["n"] != 1.5 || obj["a"] == nil {
				t.Errorf("nested value fields not kept as JSON: %s", l)
			}
		}
	}
	if !rawSeen {
		t.Errorf("wrong-typed JSON line not forwarded as text at error level:\n%s", out.String())
	}
}

// A 10 MiB line reaches the log whole, in marked pieces of at most maxLine
// bytes, while another worker goes on (the relay does not block on it).
func TestHugeLineRelayedWholeInPieces(t *testing.T) {
	logs, out := newLogs(t, "text")
	cfg := Config{Command: helperCommand(), Logs: logs, Parallel: 2}
	got := runWithin(t, 20*time.Second, context.Background(), cfg, "huge", "flood")
	for _, o := range got {
		if !o.OK() {
			t.Fatalf("%s: %v", o.Spec.Endpoint, o.Err)
		}
	}
	var xs, pieces int
	for _, l := range out.Lines() {
		if len(l) > maxLine+200 {
			t.Errorf("output line of %d bytes", len(l))
		}
		_, msg, ok := strings.Cut(l, "[ERROR] [huge] ")
		if !ok {
			continue
		}
		pieces++
		msg = strings.TrimPrefix(msg, continued)
		msg = strings.TrimSuffix(msg, continues)
		if strings.Trim(msg, "x") != "" {
			t.Errorf("piece holds more than x's and marks: %.100q", msg)
		}
		xs += len(msg)
	}
	if xs != hugeLine || pieces != (hugeLine+maxLine-1)/maxLine {
		t.Errorf("%d x's in %d pieces, want %d in %d", xs, pieces, hugeLine, (hugeLine+maxLine-1)/maxLine)
	}
	if n := strings.Count(out.String(), "[INFO]  [flood] flood line: i="); n != floodLines {
		t.Errorf("got %d flood lines, want %d", n, floodLines)
	}
}

// A worker writing bytes that are not UTF-8, in lines short and long, gets
// every byte to the merged log, each as an escape that reads back to it.
func TestNonUTF8StreamRelayedWithoutLoss(t *testing.T) {
	logs, out := newLogs(t, "text")
	got := runWithin(t, 20*time.Second, context.Background(), Config{Command: helperCommand(), Logs: logs}, "binary")
	if !got[0].OK() {
		t.Fatalf("binary: %v", got[0].Err)
	}
	var lines [][]byte
	var cur []byte
	for _, l := range out.Lines() {
		_, msg, ok := strings.Cut(l, "[ERROR] [binary] ")
		if !ok {
			continue
		}
		if !utf8.ValidString(msg) {
			t.Fatalf("output line is not UTF-8: %.200q", l)
		}
		more := strings.HasSuffix(msg, continues)
		msg = strings.TrimSuffix(strings.TrimPrefix(msg, continued), continues)
		cur = append(cur, unescape(t, msg)...)
		if !more {
			lines, cur = append(lines, cur), nil
		}
	}
	want := binaryLines()
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d", len(lines), len(want))
	}
	for i := range want {
		if !bytes.Equal(lines[i], want[i]) {
			t.Errorf("line %d: got %d bytes, want %d; they differ from byte %d", i, len(lines[i]), len(want[i]), firstDiff(lines[i], want[i]))
		}
	}
}

// unescape reverses logging's escapes (\xNN, \uNNNN) of a line that held no
// backslash of its own.
func unescape(t *testing.T, s string) []byte {
	t.Helper()
	var b []byte
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			b = append(b, s[i])
			i++
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], `\x`) && i+4 <= len(s):
			v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				t.Fatalf("bad escape %q", s[i:i+4])
			}
			b = append(b, byte(v))
			i += 4
		case strings.HasPrefix(s[i:], `\u`) && i+6 <= len(s):
			v, err := strconv.ParseUint(s[i+2:i+6], 16, 32)
			if err != nil {
				t.Fatalf("bad escape %q", s[i:i+6])
			}
			b = utf8.AppendRune(b, rune(v))
			i += 6
		default:
			t.Fatalf("unknown escape at %.10q", s[i:])
		}
	}
	return b
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// The sink's buffer stays bounded by maxLine whatever the line length: the
// line is never held whole.
func TestSinkBufferBoundedOnHugeLine(t *testing.T) {
	logs, _ := newLogs(t, "text")
	s := newStderrSink(logs.Relay("huge"), nil)
	chunk := bytes.Repeat([]byte("y"), 40000) // not a divisor of maxLine
	for range hugeLine / len(chunk) {
		s.Write(chunk)
		if c := cap(s.buf); c > 2*maxLine {
			t.Fatalf("buffer grew to %d bytes", c)
		}
	}
	s.Write([]byte("\n"))
	if len(s.buf) != 0 || s.cont {
		t.Errorf("after the newline: %d bytes buffered, continuation %v", len(s.buf), s.cont)
	}
}

func TestParallelLimit(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Command: helperCommand(helperDirEnv + "=" + dir), Parallel: 3}
	got := runWithin(t, 15*time.Second, context.Background(), cfg, "slow.1", "slow.2", "slow.3", "slow.4", "slow.5", "slow.6", "slow.7")
	var most int64
	for _, o := range got {
		if !o.OK() {
			t.Fatalf("%s: %v", o.Spec.Endpoint, o.Err)
		}
		most = max(most, o.Result.Removed["running"])
	}
	// At most 3 at once, always; at least 2 unless the machine is very slow.
	if most > 3 || most < 2 {
		t.Errorf("at most %d workers seen running at once, want 2 or 3", most)
	}
}

func TestFailFastSkipsTheRestInOrder(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Command: helperCommand(helperDirEnv + "=" + dir), Parallel: 1, FailFast: true}
	got := runWithin(t, 10*time.Second, context.Background(), cfg, "slow.a", "slow.b", "exit3", "slow.c", "ok")
	if !got[0].OK() || !got[1].OK() {
		t.Errorf("first two: %v, %v", got[0].Err, got[1].Err)
	}
	if got[2].OK() || got[2].Skipped {
		t.Errorf("exit3: %+v", got[2])
	}
	for _, o := range got[3:] {
		if !o.Skipped || o.Interrupted || !errors.Is(o.Err, ErrSkipped) || o.Duration != 0 {
			t.Errorf("%s: skipped %v, interrupted %v, err %v", o.Spec.Endpoint, o.Skipped, o.Interrupted, o.Err)
		}
	}
	order, err := os.ReadFile(filepath.Join(dir, "order"))
	if err != nil {
		t.Fatal(err)
	}
	if string(order) != "slow.a\nslow.b\n" {
		t.Errorf("start order %q, want slow.a then slow.b", order)
	}
}

// FailFast with MaxFailures N lets N failures by and starts nothing after
// the next one (--max-failures).
func TestMaxFailuresSkipsTheRestAfterTheLimit(t *testing.T) {
	cfg := Config{Command: helperCommand(), Parallel: 1, FailFast: true, MaxFailures: 2}
	got := runWithin(t, 10*time.Second, context.Background(), cfg, "fail.a", "ok.a", "fail.b", "fail.c", "ok.b", "fail.d")
	for i, want := range []string{"failed", "ok", "failed", "failed", "skipped", "skipped"} {
		o := got[i]
		word := "failed"
		switch {
		case o.OK():
			word = "ok"
		case o.Skipped:
			word = "skipped"
		}
		if word != want {
			t.Errorf("%s: %s (%v), want %s", o.Spec.Endpoint, word, o.Err, want)
		}
	}
}

func TestInterruptStopsRunningAndSkipsTheRest(t *testing.T) {
	logs, out := newLogs(t, "text")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := Config{Command: helperCommand(), Parallel: 2, Logs: logs}
	go func() {
		out.waitFor(t, "hanging", 2)
		cancel()
	}()
	got := runWithin(t, 15*time.Second, ctx, cfg, "hang.1", "hang.2", "ok.3", "ok.4")
	for _, o := range got[:2] {
		if !o.Interrupted || o.Skipped || !errors.Is(o.Err, ErrInterrupted) || o.Result == nil ||
			!strings.Contains(o.Result.Error, "rolled back: terminated by SIGTERM") {
			t.Errorf("%s: interrupted %v, err %v, result %+v", o.Spec.Endpoint, o.Interrupted, o.Err, o.Result)
		}
	}
	for _, o := range got[2:] {
		if !o.Skipped || !o.Interrupted || !errors.Is(o.Err, ErrSkipped) || !errors.Is(o.Err, ErrInterrupted) {
			t.Errorf("%s: skipped %v, interrupted %v, err %v", o.Spec.Endpoint, o.Skipped, o.Interrupted, o.Err)
		}
	}
	if n := strings.Count(out.String(), "] rolled back\n"); n != 2 {
		t.Errorf("%d workers logged their rollback, want 2", n)
	}
}

func TestKillChannelKillsWorkersIgnoringSIGTERM(t *testing.T) {
	logs, out := newLogs(t, "text")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kill := make(chan struct{})
	cfg := Config{Command: helperCommand(), Parallel: 2, Grace: time.Minute, Logs: logs, Kill: kill}
	go func() {
		out.waitFor(t, "hanging", 2)
		cancel()
		out.waitFor(t, "interrupted, sending SIGTERM", 2)
		close(kill)
	}()
	got := runWithin(t, 15*time.Second, ctx, cfg, "hang-ignore-term.1", "hang-ignore-term.2", "ok.3")
	for _, o := range got[:2] {
		if !o.Interrupted || !errors.Is(o.Err, ErrInterrupted) || !errContains(o, "worker killed by signal: killed") {
			t.Errorf("%s: interrupted %v, err %v", o.Spec.Endpoint, o.Interrupted, o.Err)
		}
	}
	if !got[2].Skipped || !got[2].Interrupted {
		t.Errorf("ok.3: %+v", got[2])
	}
}

func TestGrandchildHoldingPipesDoesNotHangRun(t *testing.T) {
	defer func(d time.Duration) { drainDelay = d }(drainDelay)
	drainDelay = 300 * time.Millisecond
	got := runWithin(t, 10*time.Second, context.Background(), Config{Command: helperCommand()}, "grandchild")
	if got[0].Result != nil {
		if pid := int(got[0].Result.Removed["grandchild"]); pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if !got[0].OK() {
		t.Errorf("grandchild: %v", got[0].Err)
	}
}

func TestCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := Run(ctx, Config{Command: helperCommand()}, specs("ok", "ok.2"))
	for _, o := range got {
		if !o.Skipped || !o.Interrupted {
			t.Errorf("%s: %+v", o.Spec.Endpoint, o)
		}
	}
}

func TestNotifySignals(t *testing.T) {
	logs, out := newLogs(t, "text")
	ctx, kill, received, stop := NotifySignals(context.Background(), logs.Logger())
	defer stop()
	if received() != nil {
		t.Fatalf("received %v before any signal", received())
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("first SIGINT did not cancel ctx")
	}
	select {
	case <-kill:
		t.Fatal("kill closed after one signal")
	default:
	}
	if received() != syscall.SIGINT || ExitCode(received()) != 130 {
		t.Errorf("received %v (exit %d), want interrupt (130)", received(), ExitCode(received()))
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-kill:
	case <-time.After(5 * time.Second):
		t.Fatal("second signal did not close kill")
	}
	if received() != syscall.SIGINT || ExitCode(syscall.SIGTERM) != 143 || ExitCode(nil) != 0 {
		t.Errorf("received %v after SIGTERM, want the first signal", received())
	}
	stop()
	stop()
	if !strings.Contains(out.String(), "interrupted, stopping workers (press Ctrl-C again to kill)") {
		t.Errorf("output lacks the interrupt message:\n%s", out.String())
	}
}

func TestNoCommand(t *testing.T) {
	got := Run(context.Background(), Config{}, specs("ok"))
	if got[0].Err == nil || got[0].OK() {
		t.Errorf("got %+v", got[0])
	}
}

// Relayed lines carry the time the worker logged them, not the time the
// supervisor read them; lines without a readable time get the read time.
func TestRelayedLinesKeepWorkerTimestamp(t *testing.T) {
	for _, tc := range []struct {
		format, past string
	}{
		{"text", "2001-02-03T04:05:06.789Z [INFO]  [stamped] from the past: k=v"},
		{"json", `"@timestamp":"2001-02-03T04:05:06.789012Z"`},
	} {
		t.Run(tc.format, func(t *testing.T) {
			logs, out := newLogs(t, tc.format)
			got := runWithin(t, 10*time.Second, context.Background(), Config{Command: helperCommand(), Logs: logs}, "stamped")
			if !got[0].OK() {
				t.Fatalf("stamped: %v", got[0].Err)
			}
			seen := map[string]bool{}
			for _, l := range out.Lines() {
				for _, msg := range []string{"from the past", "unreadable time", "plain line"} {
					if !strings.Contains(l, msg) {
						continue
					}
					seen[msg] = true
					if old := strings.Contains(l, "2001-02-03T04:05:06.789"); old != (msg == "from the past") {
						t.Errorf("line %q: carries the worker's 2001 time: %v", l, old)
					}
					if msg == "from the past" && !strings.Contains(l, tc.past) {
						t.Errorf("line %q lacks %q", l, tc.past)
					}
				}
			}
			if len(seen) != 3 {
				t.Errorf("saw %v of the three lines:\n%s", seen, out.String())
			}
		})
	}
}

func TestParseTimestamp(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2001-02-03T04:05:06.789012Z":      time.Date(2001, 2, 3, 4, 5, 6, 789012000, time.UTC),
		"2001-02-03T04:05:06.789012+01:00": time.Date(2001, 2, 3, 3, 5, 6, 789012000, time.UTC),
		"2001-02-03T04:05:06.789+0100":     time.Date(2001, 2, 3, 3, 5, 6, 789000000, time.UTC),
		"2001-02-03T04:05:06Z":             time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC),
		"yesterday":                        {},
		"":                                 {},
	} {
		if got := parseTimestamp(in); !got.Equal(want) {
			t.Errorf("parseTimestamp(%q) = %v, want %v", in, got, want)
		}
	}
}

// A failure reason holds no raw control character: it is printed in tables
// on a terminal, where an escape sequence could rewrite what is shown.
func TestFailureReasonEscapesControlCharacters(t *testing.T) {
	got := reasonLine("migration failed:\n  \x1b[2K\x1b[1Gall good \xff\u202e")
	want := `migration failed: \x1b[2K\x1b[1Gall good \xff\u202e`
	if got != want {
		t.Errorf("reasonLine = %q, want %q", got, want)
	}
	if s := shorten("a\tb\x07"); s != `a b\x07` {
		t.Errorf("shorten = %q", s)
	}
}

// TestStartedAndFinishedAroundEachStartedJob: the progress hooks see each
// started job begin and end, its outcome known and before its slot is given
// back (so with one slot the next job starts after), and never a job that
// fail-fast left out.
func TestStartedAndFinishedAroundEachStartedJob(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	cfg := Config{Command: helperCommand(), Parallel: 1, FailFast: true,
		Started: func(s job.Spec) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, "started "+s.Endpoint)
		},
		Finished: func(o Outcome) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, fmt.Sprintf("finished %s ok=%v", o.Spec.Endpoint, o.OK()))
		},
	}
	got := runWithin(t, 10*time.Second, context.Background(), cfg, "ok.a", "exit3", "ok.b")
	if !got[2].Skipped {
		t.Fatalf("ok.b: %+v, want skipped by fail-fast", got[2])
	}
	want := []string{"started ok.a", "finished ok.a ok=true", "started exit3", "finished exit3 ok=false"}
	if !slices.Equal(seen, want) {
		t.Errorf("hooks saw %q, want %q", seen, want)
	}
}
