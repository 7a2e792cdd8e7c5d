package integration

// End-to-end tests of the live progress display (issue 9, item 1): `migrate`
// in a pseudo-terminal draws it and leaves a final screen with the right
// counts and no product line; piped, or with --no-progress, the output holds
// no escape at all.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"supervisor/integration/fleet"
	"supervisor/integration/workspace"
	"supervisor/internal/dbconn"
	"supervisor/internal/progress/screen"
)

// progressProducts are the products of progressFleet, each at 001 with
// files to apply.
var progressProducts = []string{"prog-a", "prog-b", "prog-c"}

// The window the pseudo-terminal runs have: wide enough for the tables,
// tall enough that no redraw reaches above the top of the screen.
const progressRows, progressCols = 200, 250

// progressFleet makes a workspace of SQLite products at version 001 and
// returns its directory.
func progressFleet(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "workspace")
	ws, err := workspace.Create(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for i, e := range progressProducts {
		tg := dbconn.Target{Dialect: "sqlite", Path: filepath.Join(dir, e+".sqlite")}
		if _, err := workspace.MakeProduct(ctx, tg, "001", fleet.Options{Reports: 20, Seed: int64(i + 1)}); err != nil {
			t.Fatalf("make %s: %v", e, err)
		}
		if err := ws.Add(ctx, e, tg, ""); err != nil {
			t.Fatalf("register %s: %v", e, err)
		}
	}
	return dir
}

// progressEnv is the supervisor's environment: the test's, with TERM a
// terminal's and without NO_COLOR, plus extra.
func progressEnv(extra ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "NO_COLOR=") || strings.HasPrefix(kv, "TERM=")
	})
	return append(append(env, "TERM=xterm"), extra...)
}

// inTerminal runs the supervisor with stdin, stdout and stderr on one
// pseudo-terminal of progressRows × progressCols and returns everything it
// wrote there and its exit code. watch, when set, is given everything
// written so far after each read.
func inTerminal(t *testing.T, env []string, watch func(out []byte), args ...string) ([]byte, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, supervisorBin, args...)
	cmd.Env = env
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: progressRows, Cols: progressCols})
	if err != nil {
		t.Fatalf("start supervisor in a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		// Ends with EIO once the supervisor, the last holder of the
		// terminal, has exited.
		buf := make([]byte, 32<<10)
		for {
			n, err := ptmx.Read(buf)
			out.Write(buf[:n])
			if watch != nil && n > 0 {
				watch(out.Bytes())
			}
			if err != nil {
				return
			}
		}
	}()
	err = cmd.Wait()
	<-copied
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run supervisor %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return out.Bytes(), code
}

// piped runs the supervisor with its output in pipes and returns stdout and
// stderr together, and its exit code.
func piped(t *testing.T, env []string, args ...string) ([]byte, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, supervisorBin, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	code := 0
	if err := cmd.Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run supervisor %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return out.Bytes(), code
}

// holdLock takes the write lock of the SQLite file at path (BEGIN
// IMMEDIATE, as a worker does) and returns what releases it (once; at the
// test's end if not before).
func holdLock(t *testing.T, path string) func() {
	t.Helper()
	ctx := context.Background()
	db, err := dbconn.Open(ctx, dbconn.Target{Dialect: "sqlite", Path: path}, dbconn.Options{ImmediateTx: true})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		db.Close()
		t.Fatalf("lock %s: %v", path, err)
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			tx.Rollback()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// productLine matches a line of the display about one running product:
// the endpoint, then how long it has run ("7s", "2m05s", "1h02m").
var productLine = regexp.MustCompile(`^  (` + strings.Join(progressProducts, "|") + `) +\d+(s|m\d\ds|h\d\dm)  `)

// colour matches an escape that sets a colour or an attribute (SGR).
var colour = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestE2EProgressOnTerminal drives `migrate -y -j 2` in a pseudo-terminal:
// the display is drawn and its final screen is the log lines, then the
// overall bar with every product done and none failed, then the tables,
// with no product line left over; the levels are coloured.
//
// prog-b's database is locked by the test until the display has drawn
// prog-b's line, so that there is a line to redraw and to remove (a fast
// run could end before the first redraw): its worker waits for the lock
// meanwhile, and prog-a and prog-c run before it ends.
func TestE2EProgressOnTerminal(t *testing.T) {
	t.Parallel()
	dir := progressFleet(t)
	release := holdLock(t, filepath.Join(dir, "prog-b.sqlite"))
	drawn := regexp.MustCompile(`\n  prog-b +\d+s  `)
	var once sync.Once
	watch := func(out []byte) {
		if drawn.Match(out) {
			once.Do(release)
		}
	}
	out, code := inTerminal(t, progressEnv(), watch, "-w", dir, "migrate", "-y", "-j", "2", "--lock-timeout", "1m")
	lines, err := screen.Render(out, progressCols)
	if err != nil {
		t.Fatalf("the terminal got what the test's emulator cannot show: %v\n%q", err, out)
	}
	final := strings.Join(lines, "\n")
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, final)
	}

	if !drawn.Match(out) {
		t.Errorf("prog-b's line was never drawn:\n%q", out)
	}
	// The overall bar stayed, with the final counts and nothing running.
	bar := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "migrate ") && strings.Contains(l, " done, ") })
	if bar < 0 {
		t.Fatalf("no overall bar on the final screen:\n%s\n%q", final, out)
	}
	if got := lines[bar]; !strings.HasPrefix(got, "migrate 3/3 done, 0 failed [") || strings.Contains(got, "running") || !strings.Contains(got, "] elapsed ") {
		t.Errorf("final overall bar %q, want migrate 3/3 done, 0 failed, its bar and the time elapsed", got)
	}
	if n := strings.Count(final, "migrate 3/3 done"); n != 1 {
		t.Errorf("the final bar is on the screen %d times, want once:\n%s", n, final)
	}
	for _, l := range lines {
		if productLine.MatchString(l) {
			t.Errorf("stale product line on the final screen: %q\n%s", l, final)
		}
	}
	// Nothing between the bar and what the command printed after the run:
	// not even the blank line a product line left behind would be.
	if bar+1 >= len(lines) || strings.TrimSpace(lines[bar+1]) == "" || strings.Contains(lines[bar+1], "[INFO]") {
		t.Errorf("the line after the bar is %q, want the output after the run:\n%s", lines[min(bar+1, len(lines)-1)], final)
	}

	// The log lines scrolled above the bar, whole: each product's start
	// and end are there, before it; the status table after the run and the
	// summary come after it.
	for _, e := range progressProducts {
		for _, want := range []string{"[" + e + "] upgrading database", "[" + e + "] database upgraded"} {
			at := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, want) })
			if at < 0 || at > bar {
				t.Errorf("log line %q at line %d, want above the bar at %d:\n%s", want, at, bar, final)
			}
		}
	}
	// The display stopped before the tables after the run: the first
	// table header is above the bar (the status before the run), another
	// below it.
	first, last := -1, -1
	for i, l := range lines {
		if strings.HasPrefix(l, "Product endpoint") {
			last = max(last, i)
			if first < 0 {
				first = i
			}
		}
	}
	if first < 0 || first > bar || last < bar {
		t.Errorf("table headers at lines %d and %d, want one above the bar (line %d) and one below:\n%s", first, last, bar, final)
	}

	// On a terminal the levels are in colour (hclog's bright blue for INFO).
	if !bytes.Contains(out, []byte("\x1b[94m[INFO] \x1b[0m")) {
		t.Errorf("no coloured [INFO] level in the terminal's output:\n%q", out)
	}
}

// TestE2EProgressPlainOutput: the same run piped, with --no-progress on a
// terminal, or with NO_COLOR: piped and --no-progress write the log lines
// with not one escape (nor a carriage return of their own); NO_COLOR keeps
// the display and drops the colours.
func TestE2EProgressPlainOutput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		terminal bool
		env      []string
		flags    []string
		display  bool
	}{
		{name: "piped"},
		{name: "no-progress on a terminal", terminal: true, flags: []string{"--no-progress"}},
		{name: "NO_COLOR on a terminal", terminal: true, env: []string{"NO_COLOR=1"}, display: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := progressFleet(t)
			args := append([]string{"-w", dir, "migrate", "-y", "-j", "2"}, tc.flags...)
			var out []byte
			var code int
			if tc.terminal {
				out, code = inTerminal(t, progressEnv(tc.env...), nil, args...)
			} else {
				out, code = piped(t, progressEnv(tc.env...), args...)
			}
			if code != 0 {
				t.Fatalf("exit %d, want 0\n%s", code, out)
			}
			for _, e := range progressProducts {
				if want := "[" + e + "] database upgraded"; !bytes.Contains(out, []byte(want)) {
					t.Errorf("no log line %q:\n%s", want, out)
				}
			}
			// A terminal turns each \n into \r\n (ONLCR); any other \r
			// would be the display's.
			plain := bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n"))
			if !tc.display {
				if i := bytes.IndexAny(plain, "\x1b\r"); i >= 0 {
					t.Errorf("control character %q at byte %d of the output:\n%q", plain[i], i, out)
				}
				if bytes.Contains(out, []byte(" done, 0 failed")) {
					t.Errorf("the progress display was drawn:\n%s", out)
				}
				return
			}
			lines, err := screen.Render(out, progressCols)
			if err != nil {
				t.Fatalf("%v\n%q", err, out)
			}
			if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "migrate 3/3 done, 0 failed [") }) {
				t.Errorf("no final bar with NO_COLOR:\n%s", strings.Join(lines, "\n"))
			}
			if sgr := colour.Find(out); sgr != nil {
				t.Errorf("colour %q with NO_COLOR set:\n%q", sgr, out)
			}
		})
	}
}

// TestE2EProgressUpAndCleanupOnTerminal: `up` draws a display per stage,
// each left as its final bar in the order of the stages, and `cleanup` on
// its own draws one; no product line is left on either final screen.
func TestE2EProgressUpAndCleanupOnTerminal(t *testing.T) {
	t.Parallel()
	dir := progressFleet(t)
	for _, tc := range []struct {
		args []string
		bars []string
	}{
		{[]string{"up", "-y", "-j", "2"}, []string{"migrate 3/3 done, 0 failed [", "cleanup 3/3 done, 0 failed ["}},
		{[]string{"cleanup", "-j", "2"}, []string{"cleanup 3/3 done, 0 failed ["}},
	} {
		out, code := inTerminal(t, progressEnv(), nil, append([]string{"-w", dir}, tc.args...)...)
		lines, err := screen.Render(out, progressCols)
		if err != nil {
			t.Fatalf("%s: %v\n%q", tc.args[0], err, out)
		}
		final := strings.Join(lines, "\n")
		if code != 0 {
			t.Fatalf("%s: exit %d, want 0\n%s", tc.args[0], code, final)
		}
		var bars []string
		for _, l := range lines {
			if productLine.MatchString(l) {
				t.Errorf("%s: stale product line on the final screen: %q\n%s", tc.args[0], l, final)
			}
			if (strings.HasPrefix(l, "migrate ") || strings.HasPrefix(l, "cleanup ")) && strings.Contains(l, " done, ") {
				bars = append(bars, l[:strings.Index(l, "[")+1])
			}
		}
		if !slices.Equal(bars, tc.bars) {
			t.Errorf("%s: final bars %q, want %q\n%s", tc.args[0], bars, tc.bars, final)
		}
	}
}
