package fleet

import (
	"context"
	"sync"
	"time"
)

type (
	// table names a table and the columns Fill writes into it.
	table struct {
		name  string
		cols  []string
		id    int  // index into a backend's per-table caches
		rowid bool // cols[0] is "id", the INTEGER PRIMARY KEY (the rowid) on SQLite
	}

	// backend writes batches of rows into one open transaction. write is
	// called from the loader's writer goroutine only; stamp and flag are pure
	// and are called by the generator.
	backend interface {
		// rowsPerBatch is how many rows of t one write call should get.
		rowsPerBatch(t *table) int
		// write stores the rows in vals, len(t.cols) values per row.
		write(ctx context.Context, t *table, vals []any) error
		// stamp converts a timestamp to the value the dialect stores.
		stamp(s stamp) any
		// flag converts a boolean to the value the dialect stores.
		flag(b bool) any
	}

	// job is one batch on its way to the writer goroutine.
	job struct {
		t    *table
		vals []any
	}
)

// loader pipelines row generation and writing: the generator fills batches
// on the calling goroutine while a writer goroutine hands full batches to the
// backend. The database work is single-threaded by nature (one transaction,
// one connection), so this puts generation on the second core instead of in
// series with it. Batches go through the channel in order, so the rows land in
// the order they were generated.
type loader struct {
	ctx  context.Context
	be   backend
	jobs chan job
	free chan []any // spent batch buffers, for reuse
	done chan struct{}

	mu  sync.Mutex
	err error // first write error; guarded by mu
}

// newLoader starts the writer goroutine; close stops it.
func newLoader(ctx context.Context, be backend) *loader {
	l := &loader{
		ctx:  ctx,
		be:   be,
		jobs: make(chan job, 4),
		free: make(chan []any, 6),
		done: make(chan struct{}),
	}
	go l.run()
	return l
}

func (l *loader) run() {
	defer close(l.done)
	for j := range l.jobs {
		if l.failed() == nil {
			if err := l.be.write(l.ctx, j.t, j.vals); err != nil {
				l.mu.Lock()
				l.err = err
				l.mu.Unlock()
			}
		}
		clear(j.vals) // drop references so the values can be collected
		select {
		case l.free <- j.vals[:0]:
		default:
		}
	}
}

// failed returns the first write error, or the context's error, if any.
func (l *loader) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	return l.ctx.Err()
}

// close waits for the batches sent so far to be written and returns the
// first error.
func (l *loader) close() error {
	close(l.jobs)
	<-l.done
	return l.failed()
}

// batch starts collecting rows for t.
func (l *loader) batch(t *table) *batch {
	n := l.be.rowsPerBatch(t) * len(t.cols)
	return &batch{l: l, t: t, max: n, vals: l.buffer(n)}
}

func (l *loader) buffer(n int) []any {
	select {
	case b := <-l.free:
		if cap(b) >= n {
			return b
		}
	default:
	}
	return make([]any, 0, n)
}

// batch collects the rows of one table and sends them to the writer in
// batches of the backend's size.
type batch struct {
	l    *loader
	t    *table
	max  int
	vals []any
}

// add appends one row; vals must follow b.t.cols.
func (b *batch) add(vals ...any) {
	b.vals = append(b.vals, vals...)
	if len(b.vals) >= b.max {
		b.send()
	}
}

func (b *batch) send() {
	if len(b.vals) == 0 {
		return
	}
	if b.l.failed() != nil {
		b.vals = b.vals[:0] // the transaction is lost anyway; stop feeding it
		return
	}
	select {
	case b.l.jobs <- job{t: b.t, vals: b.vals}:
	case <-b.l.ctx.Done():
	}
	b.vals = b.l.buffer(b.max)
}

// flush sends the rows collected so far and reports whether loading can go
// on.
func (b *batch) flush() error {
	b.send()
	return b.l.failed()
}

// stamp is a point in time, in microseconds since the Unix epoch, UTC.
type stamp int64

// date returns the stamp of the given UTC date and time.
func date(year int, month time.Month, day, hour, min int) stamp {
	return stamp(time.Date(year, month, day, hour, min, 0, 0, time.UTC).UnixMicro())
}

const (
	second stamp = 1e6
	minute       = 60 * second
	hour         = 60 * minute
	day          = 24 * hour
)

// time returns s as a UTC time.Time.
func (s stamp) time() time.Time { return time.UnixMicro(int64(s)).UTC() }

// text formats s the way SQLAlchemy stores DATETIME in SQLite:
// "YYYY-MM-DD HH:MM:SS.ffffff".
func (s stamp) text() string {
	t := s.time()
	y, mo, d := t.Date()
	h, mi, se := t.Clock()
	us := t.Nanosecond() / 1000
	var b [26]byte
	put := func(i, v, width int) {
		for j := i + width - 1; j >= i; j-- {
			b[j] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, y, 4)
	b[4] = '-'
	put(5, int(mo), 2)
	b[7] = '-'
	put(8, d, 2)
	b[10] = ' '
	put(11, h, 2)
	b[13] = ':'
	put(14, mi, 2)
	b[16] = ':'
	put(17, se, 2)
	b[19] = '.'
	put(20, us, 6)
	return string(b[:])
}
