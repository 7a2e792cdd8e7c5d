package logging

import (
	"bytes"
	"io"
	"log"
	"strings"

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

// oneLine keeps a text-format record on one output line: hclog writes
// messages raw and spreads multi-line values over several lines, and a line
// without the [endpoint] prefix would no longer name its product.
var oneLine = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`)

func (p *productLogger) Log(level hclog.Level, msg string, args ...interface{}) {
	if level != hclog.NoLevel && level < p.Logger.GetLevel() {
		return // spare the copying below
	}
	if p.json {
		p.Logger.Log(level, msg, p.jsonArgs(args)...)
		return
	}
	p.Logger.Log(level, "["+oneLine.Replace(p.endpoint)+"] "+oneLine.Replace(msg), textArgs(args)...)
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

// textArgs escapes line breaks in string and error values (see oneLine).
func textArgs(args []interface{}) []interface{} {
	var out []interface{}
	for i, a := range args {
		var s string
		switch v := a.(type) {
		case string:
			s = v
		case error:
			s = v.Error()
		default:
			continue
		}
		if !strings.ContainsAny(s, "\r\n") {
			continue
		}
		if out == nil {
			out = append([]interface{}(nil), args...)
		}
		out[i] = oneLine.Replace(s)
	}
	if out == nil {
		return args
	}
	return out
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
