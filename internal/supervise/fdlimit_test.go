package supervise

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

// withSoftFDLimit lowers this process's soft RLIMIT_NOFILE to cur until the
// test ends. (Setrlimit also stops the runtime from restoring the original
// soft limit in children; the helper workers do not care.)
func withSoftFDLimit(t *testing.T, cur uint64) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	if cur > old.Max {
		t.Fatalf("want a soft limit of %d, the hard limit is %d", cur, old.Max)
	}
	lim := old
	lim.Cur = cur
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
			t.Errorf("restore RLIMIT_NOFILE: %v", err)
		}
	})
}

func TestMaxParallelByFDLimit(t *testing.T) {
	for _, tc := range []struct {
		limit uint64
		want  int
	}{
		{0, 1},
		{10, 1},
		{fdReserve + slotFDs, 1},
		{fdReserve + 2*slotFDs, 2},
		{200, (200 - fdReserve) / slotFDs},
		{1 << 20, (1<<20 - fdReserve) / slotFDs},
	} {
		if got := maxParallel(tc.limit); got != tc.want {
			t.Errorf("maxParallel(%d) = %d, want %d", tc.limit, got, tc.want)
		}
	}
}

func TestLimitParallelCapsAndSaysSo(t *testing.T) {
	withSoftFDLimit(t, 200)
	logs, out := newLogs(t, "text")
	want := (200 - fdReserve) / slotFDs
	if got := LimitParallel(1000, logs.Logger()); got != want {
		t.Errorf("LimitParallel(1000) under ulimit -n 200 = %d, want %d", got, want)
	}
	line := fmt.Sprintf("-j 1000 capped to %d: the file-descriptor limit is 200", want)
	if !strings.Contains(out.String(), line) {
		t.Errorf("output %q lacks %q", out.String(), line)
	}
	for _, n := range []int{0, 1, want} {
		if got := LimitParallel(n, logs.Logger()); got != n {
			t.Errorf("LimitParallel(%d) = %d, want it unchanged", n, got)
		}
	}
	if c := strings.Count(out.String(), "capped"); c != 1 {
		t.Errorf("%d cap lines, want 1 (only -j 1000 was capped):\n%s", c, out.String())
	}
}

// A worker that cannot be started for want of file descriptors fails with
// that reason and the limit, never as a problem of its product.
func TestWorkerStartOutOfFDsSaysUlimit(t *testing.T) {
	logs, out := newLogs(t, "text")
	cfg := Config{Command: helperCommand(), Logs: logs}
	open, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	// One descriptor to spare (ReadDir's own is closed again): not enough
	// for the first pipe.
	limit := uint64(len(open))
	withSoftFDLimit(t, limit)
	got := Run(context.Background(), cfg, specs("ok"))
	o := got[0]
	want := fmt.Sprintf("start worker: too many open files (ulimit -n %d)", limit)
	if o.OK() || !errors.Is(o.Err, ErrTooManyOpenFiles) || o.Err.Error() != want {
		t.Errorf("got OK %v, err %v; want %q", o.OK(), o.Err, want)
	}
	if !strings.Contains(out.String(), "[ok] cannot start worker: error=\""+want+"\"") {
		t.Errorf("output lacks the reason:\n%s", out.String())
	}
}
