package supervise

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/event"
	"supervisor/internal/logging"
)

// workerLine is one line as a worker writes it: hclog JSON, made by hclog
// with the worker's options (worker.ServeWith).
func workerLine(b *testing.B, emit func(hclog.Logger)) []byte {
	b.Helper()
	var buf bytes.Buffer
	emit(hclog.New(&hclog.LoggerOptions{Output: &buf, JSONFormat: true, Level: hclog.Debug,
		TimeFn: func() time.Time { return time.Now().UTC() }}))
	return buf.Bytes()
}

// BenchmarkRelayLine is the per-line path of a worker's log line in the
// supervisor: the bytes read from the worker's stderr pipe cut into a line
// (stderrSink.Write), the hclog JSON decoded (parseEntry, and event.Decode
// for an event line), the event handed on, and the line re-logged under the
// product's name (logging.Relay) in the supervisor's format, to a writer that
// drops it. B3 (bench/cmd/logflood) is the same path end to end, with
// processes and pipes.
func BenchmarkRelayLine(b *testing.B) {
	plain := workerLine(b, func(l hclog.Logger) {
		l.Info("flood line", "n", 123456, "routine", "remove unused files", "batch", 5000, "rows", 4321)
	})
	done := workerLine(b, func(l hclog.Logger) {
		event.Emit(l, hclog.Info, "routine done", event.Event{Kind: event.RoutineDone, Routine: "remove unused files",
			Rows: map[string]int64{"files": 36512, "file_contents": 45601}, Duration: 11200 * time.Millisecond})
	})
	for _, format := range []string{logging.FormatText, logging.FormatJSON} {
		for _, c := range []struct {
			name string
			line []byte
		}{{"line", plain}, {"event", done}} {
			b.Run(format+"/"+c.name, func(b *testing.B) {
				logs, err := logging.New(io.Discard, format, hclog.Info)
				if err != nil {
					b.Fatal(err)
				}
				var events int
				s := newStderrSink(logs.Relay("libacme"), func(event.Event) { events++ })
				b.SetBytes(int64(len(c.line)))
				for b.Loop() {
					s.Write(c.line)
				}
				if c.name == "event" && events == 0 {
					b.Fatal("no event was decoded")
				}
			})
		}
	}
}

// BenchmarkParseEntry is the decoding part of BenchmarkRelayLine alone: one
// worker line to an entry.
func BenchmarkParseEntry(b *testing.B) {
	line := bytes.TrimSuffix(workerLine(b, func(l hclog.Logger) {
		l.Info("flood line", "n", 123456, "routine", "remove unused files", "batch", 5000, "rows", 4321)
	}), []byte("\n"))
	for b.Loop() {
		if _, ok := parseEntry(line); !ok {
			b.Fatal("not an entry")
		}
	}
}
