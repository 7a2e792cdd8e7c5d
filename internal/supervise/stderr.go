package supervise

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/event"
	"supervisor/internal/logging"
)

const (
	// maxLine is the longest worker line re-logged as one line. A longer one
	// is re-logged in pieces of at most maxLine bytes as it arrives, marked
	// as such: nothing is lost, and nothing is buffered beyond maxLine.
	maxLine = 64 << 10
	// keepLines and keepLineLen bound the tail kept for failure reports.
	keepLines   = 10
	keepLineLen = 240
)

// The marks on the pieces of a line longer than maxLine.
const (
	continues = " [continues]"
	continued = "[continued] "
)

// stderrSink is the io.Writer exec copies the worker's stderr (and stdout)
// into. It cuts the stream into lines with a fixed-size buffer and re-logs
// each line under the product's name: hclog JSON lines at their own level,
// with their fields and their own time, anything else (panic traces, stray
// prints, JSON of the wrong shape) verbatim at ERROR, stamped when read. One
// worker line makes one output line, but for one longer than maxLine: that
// makes one per maxLine bytes, all at ERROR.
//
// A JSON line that is an event line (event.Key) is also decoded into an
// event.Event and handed to events, after it is relayed: the relayed line is
// the same as for any other line.
//
// exec calls Write from a single goroutine (Stdout and Stderr are the same
// writer) and Wait returns only after that goroutine is done, so the sink
// needs no lock; Flush and LastLines are called after Wait.
type stderrSink struct {
	log    *logging.Relay
	events func(event.Event) // nil: events are only relayed
	buf    []byte            // the current line (or piece of one), at most maxLine bytes
	cont   bool              // buf continues a line whose start was re-logged already
	last   []string
	panic  string // first "panic: ..." or "fatal error: ..." line
}

// newStderrSink relays to log and hands event lines to events, which may
// be nil.
func newStderrSink(log *logging.Relay, events func(event.Event)) *stderrSink {
	return &stderrSink{log: log, events: events}
}

// Write never fails: an error would make exec stop copying and the worker
// could then block on a full pipe.
func (s *stderrSink) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		for len(chunk) > 0 {
			room := maxLine - len(s.buf)
			if room == 0 {
				// Only now that more of the line has come: a line of
				// exactly maxLine bytes stays one line.
				s.piece()
				continue
			}
			k := min(room, len(chunk))
			s.buf = append(s.buf, chunk[:k]...)
			chunk = chunk[k:]
		}
		if i < 0 {
			break
		}
		s.line()
		p = p[i+1:]
	}
	return n, nil
}

// Flush handles a last line that had no newline.
func (s *stderrSink) Flush() {
	if len(s.buf) > 0 || s.cont {
		s.line()
	}
}

// piece re-logs the full buffer as a piece of a longer line, keeping back a
// UTF-8 sequence cut in half at its end for the next piece.
func (s *stderrSink) piece() {
	b := cutIncompleteRune(s.buf)
	text := string(b) + continues
	if s.cont {
		text = continued + text
	} else {
		s.remember(text) // the start of the line is enough for a report
	}
	s.log.Log(time.Time{}, hclog.Error, text)
	s.cont = true
	s.buf = s.buf[:copy(s.buf, s.buf[len(b):])]
}

// LastLines returns a copy of the kept tail, oldest first.
func (s *stderrSink) LastLines() []string {
	return slices.Clone(s.last)
}

// line re-logs the buffered line and resets the buffer (keeping its memory).
func (s *stderrSink) line() {
	b, cont := bytes.TrimSuffix(s.buf, []byte("\r")), s.cont
	s.buf, s.cont = s.buf[:0], false

	if cont {
		// The last piece of a long line: never blank, never JSON to decode.
		s.log.Log(time.Time{}, hclog.Error, continued+string(b))
		return
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return // blank lines (between panic trace blocks) carry nothing
	}
	if e, ok := parseEntry(b); ok {
		s.log.Log(e.at, e.level, e.msg, e.args...)
		// A result event says what the result record says, and a failure
		// reason quotes the record already: not again in its tail.
		if !e.isEvent || e.event.Kind != event.Result {
			s.remember(e.summary())
		}
		if e.isEvent && s.events != nil {
			s.events(e.event)
		}
		return
	}
	text := string(b)
	s.log.Log(time.Time{}, hclog.Error, text)
	s.remember(text)
	if s.panic == "" && (strings.HasPrefix(text, "panic: ") || strings.HasPrefix(text, "fatal error: ")) {
		s.panic = shorten(text)
	}
}

func (s *stderrSink) remember(text string) {
	if len(s.last) == keepLines {
		copy(s.last, s.last[1:])
		s.last = s.last[:keepLines-1]
	}
	s.last = append(s.last, shorten(text))
}

// reason is the stderr part of a failure reason: the panic line, if any, and
// otherwise the last n lines, all on one line.
func (s *stderrSink) reason(n int) string {
	if s.panic != "" {
		return "; " + s.panic
	}
	if len(s.last) == 0 {
		return ""
	}
	return "; last output: " + strings.Join(s.last[max(0, len(s.last)-n):], " | ")
}

// cutIncompleteRune drops a UTF-8 sequence cut in half at the end of b.
func cutIncompleteRune(b []byte) []byte {
	for j := len(b) - 1; j >= 0 && j >= len(b)-utf8.UTFMax; j-- {
		if utf8.RuneStart(b[j]) {
			if !utf8.FullRune(b[j:]) {
				return b[:j]
			}
			break
		}
	}
	return b
}

// shorten makes a line fit a one-line report.
func shorten(s string) string {
	s = reasonLine(s)
	if len(s) <= keepLineLen {
		return s
	}
	cut := keepLineLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// entry is one hclog JSON line of a worker.
type entry struct {
	at    time.Time // the worker's @timestamp; zero when it gave none we can read
	level hclog.Level
	msg   string
	args  []interface{}
	// event is the line's event when isEvent: the line carries event.Key
	// with a kind (known or not).
	event   event.Event
	isEvent bool
}

func (e entry) summary() string {
	var b strings.Builder
	b.WriteString(e.msg)
	for i := 0; i+1 < len(e.args); i += 2 {
		fmt.Fprintf(&b, " %v=%v", e.args[i], e.args[i+1])
	}
	return b.String()
}

// parseEntry decodes an hclog JSON line: an object whose "@message" and
// "@level" are strings (and "@timestamp", when present, too). Other fields
// become key/value pairs in key order: strings, json.Number, bools and nil
// as such, objects and arrays as rawJSON. Any other shape is not an entry.
// The worker's @timestamp becomes the entry's time: a line keeps the time the
// worker logged it, however late the supervisor reads it. An event line
// (event.Key) is decoded into the entry's event as well.
func parseEntry(line []byte) (entry, bool) {
	if len(line) == 0 || line[0] != '{' {
		return entry{}, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return entry{}, false
	}
	msg, ok := jsonString(m["@message"])
	if !ok {
		return entry{}, false
	}
	lvl, ok := jsonString(m["@level"])
	if !ok {
		return entry{}, false
	}
	level := levelOf(lvl)
	if level == hclog.NoLevel {
		return entry{}, false
	}
	var at time.Time
	if ts, present := m["@timestamp"]; present {
		s, ok := jsonString(ts)
		if !ok {
			return entry{}, false
		}
		at = parseTimestamp(s)
	}
	delete(m, "@message")
	delete(m, "@level")
	delete(m, "@timestamp")

	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	args := make([]interface{}, 0, 2*len(keys))
	for _, k := range keys {
		args = append(args, k, jsonValue(m[k]))
	}
	ev, isEvent := event.Decode(at, m)
	return entry{at: at, level: level, msg: msg, args: args, event: ev, isEvent: isEvent}, true
}

// timestampLayouts are what hclog writes as @timestamp (its TimeFormatJSON,
// which RFC 3339 parsing accepts, and its text TimeFormat, which a worker
// configured with TimeFormat may use).
var timestampLayouts = []string{time.RFC3339Nano, hclog.TimeFormat}

// parseTimestamp reads a worker's @timestamp; zero (stamp when re-logged)
// when it is in no layout we know.
func parseTimestamp(s string) time.Time {
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// jsonValue turns a field's JSON into a value hclog prints well in both
// formats (raw is already valid: it comes out of a successful Unmarshal).
func jsonValue(raw json.RawMessage) interface{} {
	switch raw[0] {
	case '"':
		s, _ := jsonString(raw)
		return s
	case 't':
		return true
	case 'f':
		return false
	case 'n':
		return nil
	case '{', '[':
		// Compacted: whitespace inside (a raw CR, say) has no business in a log line.
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return rawJSON(raw)
		}
		return rawJSON(b.String())
	default:
		return json.Number(raw)
	}
}

// rawJSON is a nested object or array: JSON output nests it, text output
// prints it as JSON. (A string type: hclog would print a []byte as numbers.)
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }
func (r rawJSON) String() string               { return string(r) }

func levelOf(s string) hclog.Level {
	switch strings.ToLower(s) {
	case "trace":
		return hclog.Trace
	case "debug":
		return hclog.Debug
	case "info", "all", "":
		return hclog.Info
	case "warn", "warning":
		return hclog.Warn
	case "error":
		return hclog.Error
	}
	return hclog.NoLevel
}
