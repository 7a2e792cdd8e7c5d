// Package progress is the live display of a pass on a terminal: an overall
// bar (products done of total, failed, elapsed, an ETA from the finished
// products) and one line per running product (endpoint, how long it has
// run, the migration file or cleanup routine at hand, or "waiting for
// lock"), redrawn in place by github.com/vbauerster/mpb, with the log lines
// scrolling above it. It follows a pass through pass.Progress (Begin,
// Started, Event, Finished, End) and is the writer of the supervisor's
// logs while it is in use (Write), so that no log line tears the bars.
//
// Whether there is a terminal is the caller's decision: a Display always
// draws. Without one, the caller writes its logs as before and makes no
// Display.
package progress

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"supervisor/internal/event"
	"supervisor/internal/logging"
	"supervisor/internal/tty"
)

// barWidth is the width of the overall bar itself, between its words.
const barWidth = 30

// maxQueue bounds what mpb is told of the number of bars drawn at once (a
// channel's buffer, not a limit).
const maxQueue = 256

// Options tune a Display.
type Options struct {
	// RefreshRate is how often the display is redrawn; 0 is 150ms.
	RefreshRate time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// defaultRefreshRate is mpb's own.
const defaultRefreshRate = 150 * time.Millisecond

// Display draws the progress of one stage at a time on out, a terminal.
// Its methods may be called from many goroutines.
type Display struct {
	out  io.Writer
	opts Options
	m    model

	// mu guards the mpb side: p is the container of the stage being
	// drawn (nil between stages), overall its first bar, bars the lines
	// of the running products. The model's own lock is never held while
	// mpb is called: mpb's goroutines read the model to draw it.
	//
	// refresh asks mpb for a redraw; stop ends the goroutine that asks
	// every RefreshRate. The display asks itself instead of letting mpb
	// tick: mpb draws a last time when it shuts down only if a bar was
	// removed since its last redraw, so the log lines handed to it and the
	// final counts could be left undrawn; End asks for that last redraw.
	mu      sync.Mutex
	p       *mpb.Progress
	overall *mpb.Bar
	bars    map[string]*mpb.Bar
	refresh chan any
	stop    chan struct{}
}

// New returns a Display drawing on out.
func New(out io.Writer, opts Options) *Display {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RefreshRate <= 0 {
		opts.RefreshRate = defaultRefreshRate
	}
	return &Display{out: out, opts: opts}
}

// Write writes log lines: above the bars while a stage is drawn (they
// appear at the next redraw), straight to the terminal otherwise.
func (d *Display) Write(b []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.p != nil {
		if n, err := d.p.Write(b); err == nil {
			return n, nil
		}
	}
	return d.out.Write(b)
}

// Begin starts drawing a stage over endpoints (see pass.Progress).
func (d *Display) Begin(stage string, endpoints []string) {
	d.End()
	d.m.begin(stage, endpoints, d.opts.Now())
	d.mu.Lock()
	defer d.mu.Unlock()
	d.refresh, d.stop = make(chan any), make(chan struct{})
	// The caller found a terminal: ForceTTY makes mpb agree even when out
	// is not an *os.File it can ask (a wrapped stderr, a test's buffer).
	d.p = mpb.New(mpb.WithOutput(d.out), mpb.ForceTTY(), mpb.WithManualRefresh(d.refresh),
		mpb.WithQueueLen(min(len(endpoints)+1, maxQueue)))
	go tick(d.opts.RefreshRate, d.refresh, d.stop)
	d.bars = map[string]*mpb.Bar{}
	d.overall = d.p.New(int64(len(endpoints)), mpb.BarStyle(),
		mpb.BarWidth(barWidth),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return d.m.counts() })),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return d.m.timing(d.opts.Now()) })),
	)
}

// Started adds the line of a product whose worker starts.
func (d *Display) Started(endpoint string) {
	d.m.started(endpoint, d.opts.Now())
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.p == nil {
		return
	}
	// NopStyle: the line is words only; it never completes by itself and
	// goes when Finished drops it.
	d.bars[endpoint] = d.p.New(0, mpb.NopStyle(), mpb.BarFillerTrim(),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return d.m.line(endpoint, d.opts.Now()) })),
	)
}

// Event records what a product's worker reported; the next redraw shows it.
func (d *Display) Event(endpoint string, e event.Event) {
	d.m.event(endpoint, e, d.opts.Now())
}

// Finished removes the line of a product whose worker is over and counts it.
func (d *Display) Finished(endpoint string, ok bool) {
	counted := d.m.finished(endpoint, ok)
	d.mu.Lock()
	defer d.mu.Unlock()
	if b := d.bars[endpoint]; b != nil {
		b.Abort(true)
		delete(d.bars, endpoint)
	}
	if counted && d.overall != nil {
		d.overall.Increment()
	}
}

// End stops drawing the stage: the product lines are dropped, the overall
// bar is drawn a last time with the final counts and stays on screen, and
// the log lines go straight to the terminal again. The log lines written
// before End returns are all shown above the final bar. Calling End with
// no stage drawn does nothing.
func (d *Display) End() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.p == nil {
		return
	}
	d.m.end(d.opts.Now())
	for _, b := range d.bars {
		b.Abort(true)
	}
	// A stage cut short (fail-fast, interrupt) leaves the bar short of its
	// total: aborted, it is drawn as it stands. A complete bar ignores it.
	d.overall.Abort(false)
	// The last redraw: it comes after the aborts above (mpb asks each bar
	// in turn), draws the final counts and writes the log lines handed to
	// mpb before (Write holds mu: none is handed over from here on). mpb
	// shuts down only after it took this request.
	d.refresh <- struct{}{}
	close(d.stop)
	d.p.Wait()
	d.p, d.overall, d.bars, d.refresh, d.stop = nil, nil, nil, nil, nil
}

// tick asks for a redraw every rate until stop is closed.
func tick(rate time.Duration, refresh chan<- any, stop <-chan struct{}) {
	t := time.NewTicker(rate)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			select {
			case refresh <- struct{}{}:
			case <-stop:
				return
			}
		case <-stop:
			return
		}
	}
}

// ForTerminal is the display for w when w is a terminal and off (the
// operator's --no-progress) is not set, with logs of format and level
// written through it, above its bars, their levels in colour unless
// noColor. ok is false otherwise: the logs then stay plain lines, not one
// control character added.
func ForTerminal(w io.Writer, off, noColor bool, format string, level hclog.Level) (d *Display, logs *logging.Logs, ok bool) {
	f, isFile := w.(*os.File)
	if off || !isFile || !tty.IsTerminal(f) {
		return nil, nil, false
	}
	d = New(f, Options{})
	newLogs := logging.NewColor
	if noColor {
		newLogs = logging.New
	}
	logs, err := newLogs(d, format, level)
	if err != nil {
		return nil, nil, false
	}
	return d, logs, true
}
