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
