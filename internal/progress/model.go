package progress

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"supervisor/internal/event"
	"supervisor/internal/logging"
)

// maxEndpointColumn bounds the endpoint column of the product lines: one
// very long endpoint must not push every other line's activity off screen.
const maxEndpointColumn = 32

// model is what the display shows, kept apart from drawing it so that it
// can be tested without a terminal: events in, lines out. Its methods may
// be called from many goroutines; it never calls out while holding mu (the
// drawing side reads it from mpb's goroutines).
type model struct {
	mu sync.Mutex

	stage string
	total int
	// column is the width the endpoints are padded to.
	column       int
	begun, ended time.Time
	done, failed int
	running      map[string]*product
}

// product is one running product.
type product struct {
	started time.Time
	// activity is what the worker said it is doing ("" until it says).
	activity string
	// waitingSince is when an open lock wait began (zero: none is open),
	// lockTimeout its bound.
	waitingSince time.Time
	lockTimeout  time.Duration
}

// begin starts a stage over endpoints.
func (m *model) begin(stage string, endpoints []string, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stage, m.total, m.column = stage, len(endpoints), 0
	m.begun, m.ended = now, time.Time{}
	m.done, m.failed = 0, 0
	m.running = map[string]*product{}
	for _, e := range endpoints {
		m.column = max(m.column, min(len(e), maxEndpointColumn))
	}
}

func (m *model) started(endpoint string, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.running != nil {
		m.running[endpoint] = &product{started: now}
	}
}

// event records what a running product's worker reported. Events of a
// product not running (late, or of another stage) change nothing.
func (m *model) event(endpoint string, e event.Event, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.running[endpoint]
	if p == nil {
		return
	}
	switch e.Kind {
	case event.LockWait:
		p.waitingSince, p.lockTimeout = now, e.Timeout
	case event.LockAcquired:
		p.waitingSince = time.Time{}
	case event.FileStarted:
		p.activity = printable(file(e, ""))
	case event.FileApplied:
		p.activity = printable(file(e, "applied"))
	case event.RoutineStarted:
		p.activity = printable(e.Routine)
	case event.RoutineDone:
		p.activity = printable(e.Routine + " done")
	case event.Result:
		p.waitingSince = time.Time{}
		p.activity = "finishing"
	}
}

// printable is s as it may reach the terminal: a worker's words must not
// move the cursor or break the line (logging.Printable's escapes), and a
// tab would make the line wider than mpb measures it.
func printable(s string) string {
	return strings.ReplaceAll(logging.Printable(s), "\t", " ")
}

// file describes migration file e: "file 2/5 002 drop_leftovers".
func file(e event.Event, state string) string {
	words := []string{fmt.Sprintf("file %d/%d", e.Index, e.Total), e.Version, e.Description, state}
	var b strings.Builder
	for _, w := range words {
		if w == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

// finished records that a product's worker is over, and reports whether
// it was running (a product is counted once).
func (m *model) finished(endpoint string, ok bool) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, running := m.running[endpoint]; !running {
		return false
	}
	delete(m.running, endpoint)
	m.done++
	if !ok {
		m.failed++
	}
	return true
}

// end freezes the clock of the overall line: every worker is over.
func (m *model) end(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ended.IsZero() {
		m.ended = now
	}
}

// counts is the left side of the overall line: "migrate 2/5 done, 1
// failed, 2 running" while it runs; "…, 3 not started" once a stage ended
// early (fail-fast, interrupt).
func (m *model) counts() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := fmt.Sprintf("%s %d/%d done, %d failed", m.stage, m.done, m.total, m.failed)
	if n := len(m.running); n > 0 {
		s += fmt.Sprintf(", %d running", n)
	}
	if !m.ended.IsZero() {
		if n := m.total - m.done - len(m.running); n > 0 {
			s += fmt.Sprintf(", %d not started", n)
		}
	}
	return s
}

// timing is the right side of the overall line: the elapsed time and, once
// a product finished and while some remain, the time the rest should take
// at the pace of the finished ones.
func (m *model) timing(now time.Time) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.ended.IsZero() {
		now = m.ended
	}
	elapsed := now.Sub(m.begun)
	s := "elapsed " + short(elapsed)
	if m.ended.IsZero() && m.done > 0 && m.done < m.total {
		eta := time.Duration(int64(elapsed) / int64(m.done) * int64(m.total-m.done))
		s += ", ETA " + short(eta)
	}
	return s
}

// line is the line of a running product: its endpoint, how long it has
// run, and what it is doing ("" when it is not running).
func (m *model) line(endpoint string, now time.Time) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.running[endpoint]
	if p == nil {
		return ""
	}
	what := p.activity
	if what == "" {
		what = "starting"
	}
	if !p.waitingSince.IsZero() {
		what = "waiting for lock " + short(now.Sub(p.waitingSince))
		if p.lockTimeout > 0 {
			what += " (at most " + short(p.lockTimeout) + ")"
		}
	}
	return fmt.Sprintf("  %-*s %5s  %s", m.column, endpoint, short(now.Sub(p.started)), what)
}

// short writes d to the second: "7s", "2m05s", "1h02m".
func short(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	h, mi, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, mi)
	case mi > 0:
		return fmt.Sprintf("%dm%02ds", mi, s)
	default:
		return fmt.Sprintf("%ds", s)
	}
}
