package supervise

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/hashicorp/go-hclog"
)

// NotifySignals turns SIGINT/SIGTERM to the supervisor into Run's controls.
// The first signal cancels the returned ctx (Run stops starting workers and
// sends SIGTERM to the running ones) and logs that; the second closes kill
// (Run SIGKILLs the workers) and gives the signals back to their default
// action, so a third one ends the supervisor itself. received reports the
// first signal, nil before any (for exit codes 130 and 143). stop releases
// the signals and cancels ctx; it is safe to call more than once.
func NotifySignals(parent context.Context, log hclog.Logger) (ctx context.Context, kill <-chan struct{}, received func() os.Signal, stop func()) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	ctx, cancel := context.WithCancel(parent)
	killCh := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)

	var (
		mu    sync.Mutex
		first os.Signal
	)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-quit:
				return
			case sig := <-sigs:
				mu.Lock()
				isFirst := first == nil
				if isFirst {
					first = sig
				}
				mu.Unlock()
				if isFirst {
					log.Warn("interrupted, stopping workers (press Ctrl-C again to kill)", "signal", sig.String())
					cancel()
					continue
				}
				log.Warn("interrupted again, killing workers", "signal", sig.String())
				close(killCh)
				signal.Stop(sigs)
				return
			}
		}
	}()

	received = func() os.Signal {
		mu.Lock()
		defer mu.Unlock()
		return first
	}
	stop = sync.OnceFunc(func() {
		signal.Stop(sigs)
		close(quit)
		wg.Wait()
		cancel()
	})
	return ctx, killCh, received, stop
}

// ExitCode is the conventional exit status for a run stopped by sig:
// 130 for SIGINT, 143 for SIGTERM (128 + the signal number), 0 for nil.
func ExitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 0
}
