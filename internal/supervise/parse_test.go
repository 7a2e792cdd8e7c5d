package supervise

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"supervisor/internal/event"
)

// refParseEntry is how parseEntry decoded a line before it walked the line
// itself: json.Unmarshal into a map, every string decoded again. It is the
// reference parseEntry must agree with.
func refParseEntry(line []byte) (entry, bool) {
	if len(line) == 0 || line[0] != '{' {
		return entry{}, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return entry{}, false
	}
	msg, ok := refString(m["@message"])
	if !ok {
		return entry{}, false
	}
	lvl, ok := refString(m["@level"])
	if !ok {
		return entry{}, false
	}
	level := levelOf(lvl)
	if level == hclog.NoLevel {
		return entry{}, false
	}
	var at time.Time
	if ts, present := m["@timestamp"]; present {
		s, ok := refString(ts)
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
		var v interface{}
		raw := m[k]
		switch raw[0] {
		case '"':
			v, _ = refString(raw)
		case 't':
			v = true
		case 'f':
			v = false
		case 'n':
			v = nil
		case '{', '[':
			var b bytes.Buffer
			if err := json.Compact(&b, raw); err != nil {
				v = rawJSON(raw)
			} else {
				v = rawJSON(b.String())
			}
		default:
			v = json.Number(raw)
		}
		args = append(args, k, v)
	}
	ev, isEvent := event.Decode(at, m)
	return entry{at: at, level: level, msg: msg, args: args, event: ev, isEvent: isEvent}, true
}

func refString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// parseSeeds are lines of the shapes that matter to parseEntry: escapes,
// bytes that are not UTF-8, duplicate keys, nesting, white space, event
// lines, and JSON that is not an entry.
var parseSeeds = []string{
	`{"@level":"info","@message":"ok","@timestamp":"2001-02-03T04:05:06.789012Z","k":1}`,
	`{"@level":"info","@message":"a\n2026-01-01T00:00:00.000Z [INFO]  [other] forged"}`,
	`{"@level":"warn","@message":"m","k\r\n[other] x":"v\u2028[other] y","o":{` + "\r" + `"a":[1, 2]}}`,
	`{"@level":"info","@message":"bad \xff","@timestamp":7}`,
	`{"@level":"info","@message":"bad key","k\xff":"v\xfe\xc3","k\ufffd":"dup"}`,
	`{"@level":"info","@message":"first","@message":"second","n":1,"n":"two"}`,
	`{"@level":"info","@message":7,"@message":"string wins"}`,
	`{"@level":"info","@message":"string loses","@message":7}`,
	` {"@level":"info","@message":"leading space"}`,
	"{ \"@level\" : \"info\" ,\t\"@message\" : \"spaced\" , \"a\" : [ {\"b\" : \"}]\\\"\" } ] , \"z\" : null }  \r",
	`{"@level":"INFO","@message":"caps","t":true,"f":false,"e":1.5e3,"neg":-0}`,
	`{"@level":"nope","@message":"bad level"}`,
	`{"@level":"info"}`,
	`{"@level":"info","@message":"trailing"} x`,
	`{"@level":"info","@message":"unterminated"`,
	`{"@level":"info","@message":"ctl ` + "\x01" + `"}`,
	`{"@level":"info","@message":"esc \u001b[2K \ud800 \u00e9 \/ \\"}`,
	`{"@level":"info","@message":"routine done","event":"routine_done","routine":"r","files":3,"file_contents":4,"duration":"1.5s"}`,
	`{"@level":"info","@message":"unknown","event":"frobnicated","n":1}`,
	`{"@level":"info","@message":"not an event","event":1}`,
	`{"@level":"info","@message":"result","event":"result","ok":true,"status":"migrated","applied":2,"error":"e\tf"}`,
	`{}`,
	`[]`,
	`{"@level":"debug","@message":"deep","d":[[[[{"x":[{"y":"]"}]}]]]]}`,
}

// parseEntry walks a line once instead of decoding it into a map; for every
// line, an entry or not, it must give what the map decoding gave.
func TestParseEntryMatchesUnmarshal(t *testing.T) {
	lines := slices.Clone(parseSeeds)
	recorded, err := os.ReadFile("testdata/worker-migrate-cleanup.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines = append(lines, strings.Split(strings.TrimSpace(string(recorded)), "\n")...)
	for _, l := range lines {
		checkParseEntry(t, []byte(l))
	}
}

func checkParseEntry(t *testing.T, line []byte) {
	t.Helper()
	got, gotOK := parseEntry(line)
	want, wantOK := refParseEntry(line)
	if gotOK != wantOK || !reflect.DeepEqual(got, want) {
		t.Errorf("parseEntry(%q) = %#v, %v; want %#v, %v", line, got, gotOK, want, wantOK)
	}
}

// FuzzParseEntry holds parseEntry to the map decoding on any line.
func FuzzParseEntry(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		checkParseEntry(t, line)
	})
}

// relayPinLines are representative worker lines, each with its own time (a
// line without one is stamped when read, which no test can pin).
var relayPinLines = strings.Join([]string{
	`{"@level":"debug","@message":"job started","@timestamp":"2026-12-02T01:03:14.734412Z","action":"migrate","endpoint":"Default","pid":1131}`,
	`{"@level":"info","@message":"flood line","@timestamp":"2026-12-02T01:03:14.800624Z","batch":5000,"n":123456,"routine":"remove unused files","rows":4321}`,
	`{"@level":"warn","@message":"forged\n2026-01-01T00:00:00.000Z [INFO]  [other] x","@timestamp":"2026-12-02T01:03:15Z","k\r\n[other]":"v\u2028\u202e y ` + "\xff" + `\u001b[2K","o":{` + "\r" + `"a":[1, 2]}}`,
	`{"@level":"info","@message":"routine done","@timestamp":"2026-12-02T01:03:16.000001Z","duration":"11.2s","event":"routine_done","file_contents":45601,"files":36512,"routine":"remove unused files"}`,
	`{"@level":"error","@message":"dup","@timestamp":"2026-12-02T01:03:17.5Z","@message":"dup wins","t":true,"z":null,"f":-1.5e3}`,
	`{"@level":"info","@message":"result","@timestamp":"2026-12-02T01:03:18Z","event":"result","ok":false,"status":"failed","error":"boom"}`,
}, "\n") + "\n"

// updatePin rewrites testdata/relay-pin.* from the code under test.
var updatePin = flag.Bool("update-relay-pin", false, "rewrite testdata/relay-pin.*")

// The relayed lines and the failure tail of a fixed worker stream stay
// byte for byte what they were before parseEntry walked lines itself and
// the tail was kept unformatted (testdata/relay-pin.* were written by that
// code).
func TestRelayedLinesPinned(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			logs, out := newLogs(t, format)
			s := newStderrSink(logs.Relay("libacme"), nil)
			s.Write([]byte(relayPinLines))
			s.Flush()
			got := out.String() + "--- reason\n" + s.reason(errLines) + "\n--- last lines\n" + strings.Join(s.LastLines(), "\n") + "\n"
			file := filepath.Join("testdata", "relay-pin."+format)
			if *updatePin {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("relayed:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
