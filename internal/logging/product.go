package logging

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"
)

// productLogger decorates every line of an hclog.Logger with its product.
// hclog has no message prefix of its own (Named prints "name: msg"), so the
// decoration is done here, on the way in, for every method that writes.
type productLogger struct {
	hclog.Logger
	endpoint string
	json     bool
}

var _ hclog.Logger = (*productLogger)(nil)

func (p *productLogger) Log(level hclog.Level, msg string, args ...interface{}) {
	if level != hclog.NoLevel && level < p.Logger.GetLevel() {
		return // spare the copying below
	}
	if p.json {
		p.Logger.Log(level, utf8Escaped(msg), p.jsonArgs(args)...)
		return
	}
	p.Logger.Log(level, "["+Printable(p.endpoint)+"] "+Printable(msg), textArgs(args)...)
}

func (p *productLogger) Trace(msg string, args ...interface{}) { p.Log(hclog.Trace, msg, args...) }
func (p *productLogger) Debug(msg string, args ...interface{}) { p.Log(hclog.Debug, msg, args...) }
func (p *productLogger) Info(msg string, args ...interface{})  { p.Log(hclog.Info, msg, args...) }
func (p *productLogger) Warn(msg string, args ...interface{})  { p.Log(hclog.Warn, msg, args...) }
func (p *productLogger) Error(msg string, args ...interface{}) { p.Log(hclog.Error, msg, args...) }

func (p *productLogger) With(args ...interface{}) hclog.Logger {
	if p.json {
		args = renameReserved(args)
	} else {
		args = textArgs(args)
	}
	return &productLogger{Logger: p.Logger.With(args...), endpoint: p.endpoint, json: p.json}
}

func (p *productLogger) Named(name string) hclog.Logger {
	return &productLogger{Logger: p.Logger.Named(name), endpoint: p.endpoint, json: p.json}
}

func (p *productLogger) ResetNamed(name string) hclog.Logger {
	return &productLogger{Logger: p.Logger.ResetNamed(name), endpoint: p.endpoint, json: p.json}
}

func (p *productLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(p.StandardWriter(opts), "", 0)
}

// StandardWriter returns a writer that logs each write as one line of p
// (hclog's own adapter would bypass the product decoration).
func (p *productLogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	level := hclog.Info
	if opts != nil && opts.ForceLevel != hclog.NoLevel {
		level = opts.ForceLevel
	}
	return &stdWriter{log: p, level: level}
}

// jsonArgs makes the product's "endpoint" field the last word on the line
// (hclog lets later keys overwrite earlier ones) and keeps keys that would
// overwrite hclog's own fields (@message, @level, ...) from doing so.
func (p *productLogger) jsonArgs(args []interface{}) []interface{} {
	var trace hclog.CapturedStacktrace
	out := make([]interface{}, 0, len(args)+3)
	out = append(out, renameReserved(args)...)
	for i, a := range out {
		if s, ok := a.(string); ok && !utf8.ValidString(s) {
			out[i] = utf8Escaped(s)
		}
	}
	if n := len(out); n%2 == 1 {
		if st, ok := out[n-1].(hclog.CapturedStacktrace); ok {
			trace, out = st, out[:n-1]
		} else {
			out = append(out[:n-1], hclog.MissingKey, out[n-1])
		}
	}
	out = append(out, EndpointKey, p.endpoint)
	if trace != "" {
		out = append(out, trace)
	}
	return out
}

// renameReserved returns args with keys starting with "@" stripped of it and
// a conflicting "endpoint" key renamed, copying only when needed.
func renameReserved(args []interface{}) []interface{} {
	var out []interface{}
	for i := 0; i+1 < len(args); i += 2 {
		k, ok := args[i].(string)
		if !ok || (k != EndpointKey && !strings.HasPrefix(k, "@")) {
			continue
		}
		if out == nil {
			out = append([]interface{}(nil), args...)
		}
		if k == EndpointKey {
			out[i] = "worker_" + EndpointKey
		} else {
			out[i] = strings.TrimPrefix(k, "@")
		}
	}
	if out == nil {
		return args
	}
	return out
}

// textArgs escapes keys and string, error and Stringer values with
// Printable, copying only when needed.
func textArgs(args []interface{}) []interface{} {
	var out []interface{}
	for i, a := range args {
		var s string
		switch v := a.(type) {
		case string:
			s = v
		case error:
			s = v.Error()
		case fmt.Stringer:
			s = v.String()
		default:
			continue
		}
		e := Printable(s)
		if e == s {
			continue
		}
		if out == nil {
			out = append([]interface{}(nil), args...)
		}
		out[i] = e
	}
	if out == nil {
		return args
	}
	return out
}

// Printable keeps a text-format record on one output line and the terminal
// showing it honest: hclog writes messages and keys raw and spreads values
// with line breaks over several lines, and a line without the [endpoint]
// prefix — or a forged "[other] ..." after a line break, a carriage return
// or a cursor movement — would name the wrong product. Line breaks, other
// control characters (C0 but tab, DEL, C1), the Unicode line and paragraph
// separators and the bidi controls become \n, \r, \xNN or \uNNNN; bytes that
// are not UTF-8 become \xNN, so nothing is lost either. It is exported for
// text that reaches a terminal by other ways than a logger (failure reasons
// in tables).
func Printable(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f || c == '\t' {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unsafeRune(r, size) {
			i += size
			continue
		}
		break
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case !unsafeRune(r, size):
			b.WriteString(s[i : i+size])
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

// unsafeRune reports whether the rune r, size bytes long, is one Printable
// escapes.
func unsafeRune(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1: // not UTF-8
		return true
	case r == '\t':
		return false
	case r < 0x20, r >= 0x7f && r < 0xa0: // C0, DEL, C1
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi embeddings, overrides, isolates
		return true
	}
	return false
}

// utf8Escaped writes the bytes of s that are not UTF-8 as \xNN, for JSON
// output: encoding/json escapes control characters itself, but would turn
// those bytes into U+FFFD and lose them.
func utf8Escaped(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, `\x%02x`, s[i])
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// stdWriter adapts a productLogger to io.Writer for the standard log package.
type stdWriter struct {
	log   hclog.Logger
	level hclog.Level
}

func (w *stdWriter) Write(b []byte) (int, error) {
	w.log.Log(w.level, string(bytes.TrimRight(b, " \t\r\n")))
	return len(b), nil
}
