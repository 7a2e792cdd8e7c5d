package logging

import (
	"io"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// BenchmarkRelayLog is the writing part of a relayed worker line: one line
// re-logged under its product's name with the worker's time (Relay.Log), in
// each output format, to a writer that drops it.
func BenchmarkRelayLog(b *testing.B) {
	at := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	for _, format := range []string{FormatText, FormatJSON} {
		b.Run(format, func(b *testing.B) {
			logs, err := New(io.Discard, format, hclog.Info)
			if err != nil {
				b.Fatal(err)
			}
			r := logs.Relay("libacme")
			for b.Loop() {
				r.Log(at, hclog.Info, "flood line", "batch", "5000", "n", "123456", "routine", "remove unused files", "rows", "4321")
			}
		})
	}
}

// BenchmarkPrintable is the escaping every text-format relayed message and
// value goes through, on a line that needs none (the common case).
func BenchmarkPrintable(b *testing.B) {
	s := "applied migration file 002_drop_leftovers.sql in 1.8s"
	for b.Loop() {
		if Printable(s) != s {
			b.Fatal("changed a printable string")
		}
	}
}
