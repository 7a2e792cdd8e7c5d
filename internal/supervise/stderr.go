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
	// last is the tail kept for failure reports, a ring of the last
	// keepLines lines from last[first]: kept as they came and formatted
	// only when a failure is reported, for nearly every line is never read.
	last  [keepLines]tailLine
	first int
	kept  int
	panic string // first "panic: ..." or "fatal error: ..." line
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

// LastLines returns the kept tail, oldest first, each line shortened for a
// report; nil when nothing was kept.
func (s *stderrSink) LastLines() []string {
	return s.lastLines(keepLines)
}

// lastLines returns the last n lines of the kept tail, oldest first.
func (s *stderrSink) lastLines(n int) []string {
	n = min(n, s.kept)
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for i := s.kept - n; i < s.kept; i++ {
		out = append(out, s.last[(s.first+i)%keepLines].String())
	}
	return out
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
			s.keep(tailLine{text: e.msg, args: e.args})
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
	s.keep(tailLine{text: text})
}

func (s *stderrSink) keep(l tailLine) {
	if s.kept < keepLines {
		s.last[(s.first+s.kept)%keepLines] = l
		s.kept++
		return
	}
	s.last[s.first] = l
	s.first = (s.first + 1) % keepLines
}

// tailLine is one line of the kept tail: a line kept verbatim (text), or an
// entry's message and fields, as parseEntry made them (values that never
// change).
type tailLine struct {
	text string
	args []interface{}
}

// String is the line as a report shows it: the entry's message and its
// fields as key=value, shortened to one line of at most keepLineLen bytes.
func (l tailLine) String() string {
	if len(l.args) == 0 {
		return shorten(l.text)
	}
	var b strings.Builder
	b.WriteString(l.text)
	for i := 0; i+1 < len(l.args); i += 2 {
		fmt.Fprintf(&b, " %v=%v", l.args[i], l.args[i+1])
	}
	return shorten(b.String())
}

// reason is the stderr part of a failure reason: the panic line, if any, and
// otherwise the last n lines, all on one line.
func (s *stderrSink) reason(n int) string {
	if s.panic != "" {
		return "; " + s.panic
	}
	if s.kept == 0 {
		return ""
	}
	return "; last output: " + strings.Join(s.lastLines(n), " | ")
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

// parseEntry decodes an hclog JSON line: an object whose "@message" and
// "@level" are strings (and "@timestamp", when present, too). Other fields
// become key/value pairs in key order: strings, json.Number, bools and nil
// as such, objects and arrays as rawJSON. Any other shape is not an entry.
// The worker's @timestamp becomes the entry's time: a line keeps the time the
// worker logged it, however late the supervisor reads it. An event line
// (event.Key) is decoded into the entry's event as well.
//
// It is the supervisor's per-line cost (B3), so it walks the line once after
// json.Valid has vouched for it, instead of decoding it into a map and every
// string a second time: the result is what json.Unmarshal into a
// map[string]json.RawMessage would give (a later duplicate key wins, strings
// are decoded by encoding/json whenever they hold an escape or bytes that
// are not UTF-8), which TestParseEntryMatchesUnmarshal pins.
func parseEntry(line []byte) (entry, bool) {
	if len(line) == 0 || line[0] != '{' || !json.Valid(line) {
		return entry{}, false
	}
	var scratch [16]field
	fields := topFields(line, scratch[:0])
	// Key order, the last of equal keys winning (as a map's would).
	slices.SortStableFunc(fields, func(a, b field) int { return strings.Compare(a.key, b.key) })
	n := 0
	for i := range fields {
		if i+1 < len(fields) && fields[i+1].key == fields[i].key {
			continue
		}
		fields[n] = fields[i]
		n++
	}
	fields = fields[:n]

	var msg, lvl, ts []byte
	var hasTS, isEvent bool
	rest := 0 // fields besides the three hclog ones
	for _, f := range fields {
		switch f.key {
		case "@message":
			msg = f.raw
		case "@level":
			lvl = f.raw
		case "@timestamp":
			ts, hasTS = f.raw, true
		default:
			rest++
			isEvent = isEvent || f.key == event.Key
		}
	}
	m, ok := jsonString(msg)
	if !ok {
		return entry{}, false
	}
	l, ok := jsonString(lvl)
	if !ok {
		return entry{}, false
	}
	level := levelOf(l)
	if level == hclog.NoLevel {
		return entry{}, false
	}
	var at time.Time
	if hasTS {
		s, ok := jsonString(ts)
		if !ok {
			return entry{}, false
		}
		at = parseTimestamp(s)
	}
	args := make([]interface{}, 0, 2*rest)
	for _, f := range fields {
		if f.key != "@message" && f.key != "@level" && f.key != "@timestamp" {
			args = append(args, f.key, jsonValue(f.raw))
		}
	}
	e := entry{at: at, level: level, msg: m, args: args}
	if isEvent {
		// Event lines are few (a handful per routine): the map event.Decode
		// takes is built for them only.
		fm := make(map[string]json.RawMessage, rest)
		for _, f := range fields {
			if f.key != "@message" && f.key != "@level" && f.key != "@timestamp" {
				fm[f.key] = json.RawMessage(f.raw)
			}
		}
		e.event, e.isEvent = event.Decode(at, fm)
	}
	return e, true
}

// field is one member of the top-level object of a line: its decoded key and
// its value's JSON, a slice of the line.
type field struct {
	key string
	raw []byte
}

// topFields appends the members of the object b to fields, in line order.
// b must be valid JSON (json.Valid) with an object at the top: nothing is
// checked twice.
func topFields(b []byte, fields []field) []field {
	i := skipSpace(b, 0) + 1 // past '{'
	for {
		i = skipSpace(b, i)
		if b[i] == '}' {
			return fields
		}
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}
		kEnd := stringEnd(b, i)
		key, _ := jsonString(b[i:kEnd])
		i = skipSpace(b, kEnd)
		i = skipSpace(b, i+1) // past ':'
		vEnd := valueEnd(b, i)
		fields = append(fields, field{key: key, raw: b[i:vEnd]})
		i = vEnd
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at b[i].
func stringEnd(b []byte, i int) int {
	for i++; ; i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

// valueEnd returns the index just past the JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	default: // a number or a literal
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
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

// jsonString decodes a JSON string; raw is valid JSON. One without an
// escape whose bytes are UTF-8 is its own text; any other goes through
// encoding/json, which also turns bytes that are not UTF-8 into U+FFFD.
func jsonString(raw []byte) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	if in := raw[1 : len(raw)-1]; bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
		return string(in), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// jsonValue turns a field's JSON into a value hclog prints well in both
// formats (raw is already valid: json.Valid vouched for its line).
func jsonValue(raw []byte) interface{} {
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
