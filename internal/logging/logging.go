// Package logging builds the supervisor's one output stream: an hclog logger
// in text or JSON format, and per-product loggers whose every line names its
// product — `[ENDPOINT] ` in front of the message in text format, an
// "endpoint" field in JSON format.
//
// All loggers made from one Logs share hclog's output mutex, so lines written
// from many goroutines (one per worker) are never interleaved or split.
package logging

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/fatih/color"
	"github.com/hashicorp/go-hclog"
)

// The output formats accepted by New and ParseFormat.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// EndpointKey is the JSON field that names a line's product.
const EndpointKey = "endpoint"

// Logs is the supervisor's logger and the factory of its product loggers.
type Logs struct {
	root hclog.Logger
	json bool

	// relay writes the lines workers logged, stamped with the time the worker
	// gave them: a second root on the same output and output mutex, whose
	// TimeFn returns relayAt. relayMu is held around each of its lines, so
	// relayAt belongs to the line being written. nil in Discard's Logs.
	relay   hclog.Logger
	relayMu sync.Mutex
	relayAt time.Time
}

// New returns Logs writing to w in format ("text" or "json") at level.
// Timestamps are UTC with millisecond precision in text format, the way
// hclog writes them: 2026-11-26T07:10:00.123Z [INFO]  [libacme] applied file: version=2.
// A level of hclog.NoLevel means hclog.Info.
func New(w io.Writer, format string, level hclog.Level) (*Logs, error) {
	return newLogs(w, format, level, hclog.ColorOff)
}

// NewColor is New for a terminal: the level of every text line is in
// colour (hclog's: [WARN] yellow, [ERROR] red, …), the rest as New writes
// it. JSON lines are never coloured. Whether to colour (a terminal,
// NO_COLOR) is the caller's decision.
func NewColor(w io.Writer, format string, level hclog.Level) (*Logs, error) {
	// hclog enables each of its colours, but fatih/color writes the reset
	// after a coloured level only when its global NoColor is false, and
	// sets that from whether *stdout* is a terminal: with stdout piped the
	// level's colour ran over the rest of the line. Nothing else here
	// uses fatih/color.
	color.NoColor = false
	return newLogs(w, format, level, hclog.ForceColor)
}

func newLogs(w io.Writer, format string, level hclog.Level, color hclog.ColorOption) (*Logs, error) {
	f, err := ParseFormat(format)
	if err != nil {
		return nil, err
	}
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	// Every logger derived from root shares its output mutex (hclog copies
	// the pointer into sub-loggers), and each line is one Write under it.
	// The relay root shares it too.
	opts := hclog.LoggerOptions{
		Output:     w,
		Level:      level,
		JSONFormat: f == FormatJSON,
		Color:      color,
		// With a colour, only the level has it: the words stay as New
		// writes them, so a coloured line reads as a plain one.
		ColorHeaderOnly: true,
		TimeFn:          func() time.Time { return time.Now().UTC() },
		Mutex:           new(sync.Mutex),
	}
	l := &Logs{root: hclog.New(&opts), json: f == FormatJSON}
	relayOpts := opts
	relayOpts.TimeFn = func() time.Time { return l.relayAt } // under relayMu
	l.relay = hclog.New(&relayOpts)
	return l, nil
}

// Discard returns Logs that write nothing, for callers without output.
func Discard() *Logs {
	return &Logs{root: hclog.NewNullLogger()}
}

// JSON reports whether l writes JSON lines.
func (l *Logs) JSON() bool { return l != nil && l.json }

// Logger returns the supervisor-level logger (lines about no product).
// A nil *Logs yields a logger that discards everything.
func (l *Logs) Logger() hclog.Logger {
	if l == nil {
		return hclog.NewNullLogger()
	}
	return l.root
}

// Product returns a logger whose every line names endpoint: its message is
// prefixed "[endpoint] " in text format, and it carries an "endpoint" field in
// JSON format. Sub-loggers made with With, Named and ResetNamed keep doing so.
func (l *Logs) Product(endpoint string) hclog.Logger {
	if l == nil {
		return hclog.NewNullLogger()
	}
	return &productLogger{Logger: l.root, endpoint: endpoint, json: l.json}
}

// Relay returns the writer of the lines a worker of endpoint logged. Its
// lines name the product as Product's do, and carry the time the worker
// logged them, not the time the supervisor got to read them.
func (l *Logs) Relay(endpoint string) *Relay {
	if l == nil || l.relay == nil {
		return &Relay{}
	}
	return &Relay{logs: l, p: &productLogger{Logger: l.relay, endpoint: endpoint, json: l.json}}
}

// Relay writes one product's worker lines; see Logs.Relay. The zero Relay
// discards them.
type Relay struct {
	logs *Logs
	p    *productLogger
}

// Log writes one line at level, stamped at (in UTC): the time the worker
// logged it. A zero at, for a line that carried no time of its own, means now.
func (r *Relay) Log(at time.Time, level hclog.Level, msg string, args ...interface{}) {
	if r == nil || r.p == nil {
		return
	}
	if at.IsZero() {
		at = time.Now()
	}
	r.logs.relayMu.Lock()
	defer r.logs.relayMu.Unlock()
	r.logs.relayAt = at.UTC()
	r.p.Log(level, msg, args...)
}

// ParseFormat checks a --log-format value.
func ParseFormat(s string) (string, error) {
	switch f := strings.ToLower(strings.TrimSpace(s)); f {
	case "", FormatText:
		return FormatText, nil
	case FormatJSON:
		return FormatJSON, nil
	default:
		return "", fmt.Errorf("invalid log format %q: want text or json", s)
	}
}

// ParseLevel parses a --log-level value: trace, debug, info, warn (or
// warning), error or off, in any case.
func ParseLevel(s string) (hclog.Level, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "warning" {
		v = "warn"
	}
	if lvl := hclog.LevelFromString(v); lvl != hclog.NoLevel {
		return lvl, nil
	}
	return hclog.NoLevel, fmt.Errorf("invalid log level %q: want trace, debug, info, warn, error or off", s)
}

// FromFlags is New with the format and the level as the operator spelt
// them (--log-format, --log-level).
func FromFlags(w io.Writer, format, level string) (*Logs, error) {
	f, err := ParseFormat(format)
	if err != nil {
		return nil, err
	}
	l, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	return New(w, f, l)
}

// Fatal prints the error that ends a run on w: as an ERROR line of logs
// once the JSON format is in force (every line of w is then JSON),
// otherwise as "supervisor: message". logs is nil when the command's flags
// did not parse; format (--log-format as given) may have.
func Fatal(w io.Writer, logs *Logs, format string, err error) {
	if logs == nil {
		if f, ferr := ParseFormat(format); ferr == nil && f == FormatJSON {
			logs, _ = New(w, f, hclog.Info)
		}
	}
	if logs.JSON() {
		logs.Logger().Error(err.Error())
		return
	}
	fmt.Fprintf(w, "supervisor: %v\n", err)
}
