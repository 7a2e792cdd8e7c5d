package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

func lines(b *bytes.Buffer) []string {
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

func TestTextProductPrefix(t *testing.T) {
	var buf bytes.Buffer
	logs, err := New(&buf, "text", hclog.Debug)
	if err != nil {
		t.Fatal(err)
	}
	p := logs.Product("libacme")
	p.Info("applied file", "version", 2)
	p.Debug("multi\nline message", "detail", "a\nb", "err", errors.New("x\ny"))
	p.With("file", "2.sql").Warn("slow")
	p.Named("migrate").Error("failed")
	p.Trace("hidden below debug")
	p.StandardLogger(nil).Print("from the log package")
	logs.Logger().Info("supervisor line")

	got := lines(&buf)
	if len(got) != 6 {
		t.Fatalf("got %d lines, want 6:\n%s", len(got), buf.String())
	}
	first := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[INFO\]  \[libacme\] applied file: version=2$`)
	if !first.MatchString(got[0]) {
		t.Errorf("line 1 = %q, want it to match %s", got[0], first)
	}
	for _, l := range got[:5] {
		if !strings.Contains(l, "[libacme] ") {
			t.Errorf("line %q does not name the product", l)
		}
	}
	if !strings.Contains(got[1], `multi\nline message`) || !strings.Contains(got[1], `detail=a\nb`) {
		t.Errorf("line 2 = %q, want escaped line breaks", got[1])
	}
	if !strings.Contains(got[3], "migrate: [libacme] failed") {
		t.Errorf("line 4 = %q, want the name before the product", got[3])
	}
	if strings.Contains(got[5], "[libacme]") || !strings.Contains(got[5], "supervisor line") {
		t.Errorf("supervisor line = %q", got[5])
	}
}

func TestJSONProductField(t *testing.T) {
	var buf bytes.Buffer
	logs, err := New(&buf, "JSON", hclog.Trace)
	if err != nil {
		t.Fatal(err)
	}
	p := logs.Product("libacme")
	p.Info("applied file", "version", 2)
	p.Info("worker fields", "endpoint", "other", "@message", "clobber", "@level", "clobber")
	p.With("endpoint", "x").Info("odd args", "lonely")
	p.Error("stack", hclog.Stacktrace())

	for i, l := range lines(&buf) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, l)
		}
		if m["endpoint"] != "libacme" {
			t.Errorf("line %d: endpoint = %v, want libacme\n%s", i+1, m["endpoint"], l)
		}
		if i == 1 {
			if m["@message"] != "worker fields" || m["@level"] != "info" || m["worker_endpoint"] != "other" {
				t.Errorf("line 2 = %s, want hclog's fields kept and the worker's renamed", l)
			}
		}
	}
}

func TestConcurrentLinesNotInterleaved(t *testing.T) {
	var buf bytes.Buffer
	logs, err := New(&buf, "text", hclog.Info)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := logs.Product(fmt.Sprintf("p%d", g))
			for i := range 200 {
				p.Info(strings.Repeat("x", 100), "i", i)
			}
		}()
	}
	wg.Wait()
	re := regexp.MustCompile(`^\S+ \[INFO\]  \[p\d\] x{100}: i=\d+$`)
	got := lines(&buf)
	if len(got) != 8*200 {
		t.Fatalf("got %d lines, want %d", len(got), 8*200)
	}
	for _, l := range got {
		if !re.MatchString(l) {
			t.Fatalf("mangled line %q", l)
		}
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]hclog.Level{"trace": hclog.Trace, "DEBUG": hclog.Debug, "info": hclog.Info, "Warning": hclog.Warn, "warn": hclog.Warn, "error": hclog.Error, "off": hclog.Off} {
		got, err := ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("ParseLevel(loud) succeeded")
	}
	if _, err := New(&bytes.Buffer{}, "xml", hclog.Info); err == nil {
		t.Error("New with format xml succeeded")
	}
	var nilLogs *Logs
	nilLogs.Product("x").Info("discarded")
	nilLogs.Logger().Info("discarded")
	Discard().Product("x").Info("discarded")
}

// Relayed worker lines keep the worker's time, in both formats, even while
// other goroutines log lines stamped now through the same output.
func TestRelayKeepsWorkerTimestamp(t *testing.T) {
	at := time.Date(2001, 2, 3, 4, 5, 6, 789012000, time.FixedZone("x", 3600))
	for _, tc := range []struct {
		format, stamp string
	}{
		{"text", "2001-02-03T03:05:06.789Z "},
		{"json", `"@timestamp":"2001-02-03T03:05:06.789012Z"`},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var buf bytes.Buffer
			logs, err := New(&buf, tc.format, hclog.Info)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Add(2)
				go func() {
					defer wg.Done()
					r := logs.Relay(fmt.Sprintf("w%d", g))
					for range 100 {
						r.Log(at, hclog.Info, "relayed", "k", "v")
					}
				}()
				go func() {
					defer wg.Done()
					p := logs.Product(fmt.Sprintf("s%d", g))
					for range 100 {
						p.Info("supervisor's own")
					}
				}()
			}
			wg.Wait()
			logs.Relay("now").Log(time.Time{}, hclog.Info, "no time of its own")
			got := lines(&buf)
			if len(got) != 801 {
				t.Fatalf("got %d lines, want 801", len(got))
			}
			for _, l := range got {
				relayed := strings.Contains(l, "relayed")
				if stamped := strings.Contains(l, tc.stamp); stamped != relayed {
					t.Fatalf("line %q: has the worker's time %v, is relayed %v", l, stamped, relayed)
				}
				if relayed && !strings.Contains(l, "[w") && !strings.Contains(l, `"endpoint":"w`) {
					t.Fatalf("relayed line %q does not name its product", l)
				}
			}
		})
	}
	Discard().Relay("x").Log(at, hclog.Error, "discarded")
	var nilLogs *Logs
	nilLogs.Relay("x").Log(at, hclog.Error, "discarded")
}

// A message, key or value cannot break out of its line or forge another
// product's prefix, and bytes that are not UTF-8 survive as \xNN.
func TestTextEscapesWhatCouldForgeALine(t *testing.T) {
	var buf bytes.Buffer
	logs, err := New(&buf, "text", hclog.Info)
	if err != nil {
		t.Fatal(err)
	}
	forged := "2026-01-01T00:00:00.000Z [INFO]  [other] forged"
	p := logs.Product("victim")
	p.Info("a\n"+forged, "k\n"+forged, "v\r"+forged)
	p.Info("esc \x1b[2K\x1b[1G" + forged)
	p.Info("c1 \u0085 ls \u2028 rlo \u202e bad \xff\xfe tab\tkept é")
	p.Info("stringer", "v", stringer("x\ny"))
	got := lines(&buf)
	if len(got) != 4 {
		t.Fatalf("got %d lines, want 4:\n%s", len(got), buf.String())
	}
	for _, l := range got {
		if !victimLine.MatchString(l) {
			t.Errorf("line %q does not start with the victim's prefix", l)
		}
		for _, r := range l {
			if r < 0x20 && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x202e {
				t.Errorf("line %q holds the raw control character %U", l, r)
			}
		}
	}
	for i, want := range []string{
		`[victim] a\n` + forged + `: k\n` + forged + `="v\r` + forged + `"`,
		`esc \x1b[2K\x1b[1G` + forged,
		`c1 \u0085 ls \u2028 rlo \u202e bad \xff\xfe tab` + "\t" + `kept é`,
		`stringer: v=x\ny`,
	} {
		if !strings.Contains(got[i], want) {
			t.Errorf("line %d = %q, want it to contain %q", i+1, got[i], want)
		}
	}
}

var victimLine = regexp.MustCompile(`^\S+ \[INFO\]  \[victim\] `)

type stringer string

func (s stringer) String() string { return string(s) }

// JSON lines keep bytes that are not UTF-8 as \xNN instead of U+FFFD.
func TestJSONKeepsNonUTF8Bytes(t *testing.T) {
	var buf bytes.Buffer
	logs, err := New(&buf, "json", hclog.Info)
	if err != nil {
		t.Fatal(err)
	}
	logs.Product("p").Info("bad \xff", "k\xfe", "v\xfd\n")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if m["@message"] != `bad \xff` || m[`k\xfe`] != "v\\xfd\n" {
		t.Errorf("got %s, want the bytes as \\xNN", buf.String())
	}
}

// TestNewColorColoursTheLevelOnly: on a terminal the level of a text line
// is coloured, the colour ends after it (also with stdout piped, as under
// go test: fatih/color left the reset out then) and nothing else changes;
// JSON lines and New's lines carry no escape at all.
func TestNewColorColoursTheLevelOnly(t *testing.T) {
	write := func(l *Logs) {
		l.Product("acme").Warn("slow statement", "ms", 1500)
		l.Relay("acme").Log(time.Date(2026, 11, 26, 7, 10, 0, 0, time.UTC), hclog.Error, "worker line", "k", "v")
	}
	var colour, plain, js bytes.Buffer
	for _, c := range []struct {
		buf   *bytes.Buffer
		color bool
		f     string
	}{{&colour, true, FormatText}, {&plain, false, FormatText}, {&js, true, FormatJSON}} {
		newFn := New
		if c.color {
			newFn = NewColor
		}
		l, err := newFn(c.buf, c.f, hclog.Info)
		if err != nil {
			t.Fatal(err)
		}
		write(l)
	}
	got := lines(&colour)
	if len(got) != 2 || !strings.Contains(got[0], "\x1b[93m[WARN] \x1b[0m [acme] slow statement: ms=1500") ||
		!strings.Contains(got[1], "\x1b[91m[ERROR]\x1b[0m [acme] worker line: k=v") {
		t.Errorf("coloured lines %q", got)
	}
	// Without the escapes, the coloured lines are New's.
	strip := strings.NewReplacer("\x1b[93m", "", "\x1b[91m", "", "\x1b[0m", "")
	if p := lines(&plain); len(p) != 2 || strip.Replace(got[1]) != p[1] || !strings.HasSuffix(strip.Replace(got[0]), p[0][strings.Index(p[0], " "):]) {
		t.Errorf("coloured %q\nplain    %q", got, p)
	}
	for name, b := range map[string]string{"New": plain.String(), "NewColor json": js.String()} {
		if strings.ContainsRune(b, 0x1b) {
			t.Errorf("%s wrote an escape: %q", name, b)
		}
	}
}
