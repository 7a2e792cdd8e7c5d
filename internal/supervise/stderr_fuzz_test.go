package supervise

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// textLine is what every relayed text line must start with: hclog's time
// and level, then the worker's product and nothing before it.
var textLine = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(TRACE|DEBUG|INFO|WARN|ERROR)\] +\[victim\] `)

// FuzzStderrSink feeds arbitrary worker output, cut into writes of any size,
// through the line parser and relay. It checks that nothing panics, that
// every worker line comes out as exactly one output line of the worker's own
// product (an embedded line break, carriage return or escape sequence must
// not forge a line of another product), and that text output holds no raw
// control characters.
func FuzzStderrSink(f *testing.F) {
	for _, seed := range []string{
		"plain line\n",
		`{"@level":"info","@message":"ok","@timestamp":"2001-02-03T04:05:06.789012Z","k":1}` + "\n",
		`{"@level":"info","@message":"a\n2026-01-01T00:00:00.000Z [INFO]  [other] forged"}` + "\n",
		`{"@level":"warn","@message":"m","k\r\n[other] x":"v\u2028[other] y","o":{` + "\r" + `"a":[1, 2]}}` + "\n",
		"\x1b[2K\x1b[1G2026-01-01T00:00:00.000Z [INFO]  [other] forged\r\n",
		"not utf-8 \xff\xfe\xc3\n\n   \n\r\nlast without newline",
		`{"@level":"info","@message":"bad \xff","@timestamp":7}` + "\n",
		"panic: boom\n\ngoroutine 1 [running]:\n\tmain.main()\n",
		strings.Repeat("é", maxLine/2+7) + "\n", // cut inside a rune
	} {
		f.Add([]byte(seed), uint16(0), false)
		f.Add([]byte(seed), uint16(3), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16, asJSON bool) {
		format := "text"
		if asJSON {
			format = "json"
		}
		logs, out := newLogs(t, format)
		s := newStderrSink(logs.Relay("victim"), nil)
		size := int(chunk) // 0: all in one write
		if size == 0 {
			size = len(data)
		}
		for rest := data; len(rest) > 0; {
			n := min(size, len(rest))
			if k, err := s.Write(rest[:n]); k != n || err != nil {
				t.Fatalf("Write = %d, %v; want %d, nil", k, err, n)
			}
			rest = rest[n:]
		}
		s.Flush()

		want := wantLines(data)
		var got []string
		if text := out.String(); text != "" {
			got = strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		}
		if len(got) != want {
			t.Fatalf("%d worker lines made %d output lines:\n%s", want, len(got), out.String())
		}
		for _, l := range got {
			if asJSON {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("output line is not JSON (%v): %q", err, l)
				}
				if m["endpoint"] != "victim" {
					t.Fatalf("output line names %v: %q", m["endpoint"], l)
				}
				continue
			}
			if !textLine.MatchString(l) {
				t.Fatalf("output line does not start with the victim's prefix: %q", l)
			}
			if !utf8.ValidString(l) {
				t.Fatalf("output line is not UTF-8: %q", l)
			}
			for _, r := range l {
				if r < 0x20 && r != '\t' || r >= 0x7f && r < 0xa0 || r == 0x2028 || r == 0x2029 {
					t.Fatalf("output line holds the raw control character %U: %q", r, l)
				}
			}
		}
		reason := s.reason(errLines)
		for _, r := range reason {
			if r < 0x20 || r >= 0x7f && r < 0xa0 || r == 0x2028 || r == 0x2029 {
				t.Fatalf("reason %q holds the raw control character %U", reason, r)
			}
		}
	})
}

// wantLines is how many output lines data makes: one per line that is not
// blank, and one per piece of a line longer than maxLine, whatever it holds.
func wantLines(data []byte) int {
	n := 0
	segs := bytes.Split(data, []byte("\n"))
	for i, seg := range segs {
		if i == len(segs)-1 && len(seg) == 0 {
			break // data ended with a newline
		}
		if len(seg) <= maxLine {
			if len(bytes.TrimSpace(bytes.TrimSuffix(seg, []byte("\r")))) > 0 {
				n++
			}
			continue
		}
		// Full pieces while more follows, each keeping back a cut rune.
		pos := 0
		for len(seg)-pos > maxLine {
			pos += len(cutIncompleteRune(seg[pos : pos+maxLine]))
			n++
		}
		n++ // the last piece
	}
	return n
}
