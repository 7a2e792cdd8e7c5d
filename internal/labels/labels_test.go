package labels

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"supervisor/internal/testutil"
)

var fixtureDir = testutil.LabelsDir

// writeLabels makes a label directory with one analyzers/<name>.json per
// entry of files and returns its path.
func writeLabels(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	adir := filepath.Join(dir, "analyzers")
	if err := os.MkdirAll(adir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(adir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// orderDir has keys whose file order differs from their sorted order, so a
// map-based decoder would get the prefix rule wrong.
const orderJSON = `{
  "analyzer": "tidy",
  "analyzer_version": "1.0",
  "labels": {
    "zz-exact": ["severity:LOW"],
    "diag-future": ["severity:CRITICAL"],
    "diag": ["doc_url:https://example.com/a:b", "severity : HIGH "],
    "diag-f": ["severity:STYLE"],
    "nosev": ["profile:default"],
    "nosev-child": ["severity:LOW"],
    "explicit": ["severity:UNSPECIFIED"],
    "odd": ["severity:high"]
  }
}`

func TestSeverityMatching(t *testing.T) {
	l, err := Load(writeLabels(t, map[string]string{
		"tidy.json":  orderJSON,
		"other.json": `{"analyzer": "other", "labels": {"diag": ["severity:LOW"]}}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, analyzer, checker string
		wantSev                 string
		wantOK                  bool
		wantKey                 string
	}{
		{"exact", "tidy", "zz-exact", "LOW", true, "zz-exact"},
		{"exact beats prefix", "tidy", "diag-f", "STYLE", true, "diag-f"},
		{"exact longer key", "tidy", "diag-future", "CRITICAL", true, "diag-future"},
		{"first prefix in file order, not longest", "tidy", "diag-future-x", "CRITICAL", true, "diag-future"},
		{"first prefix in file order", "tidy", "diag-foo", "HIGH", true, "diag"},
		{"prefix of nothing", "tidy", "dia", Unspecified, false, ""},
		{"value trimmed, colon in other label", "tidy", "diag", "HIGH", true, "diag"},
		{"matched key without severity stops", "tidy", "nosev-child-2", Unspecified, false, "nosev"},
		{"exact key without severity", "tidy", "nosev", Unspecified, false, "nosev"},
		{"explicit UNSPECIFIED", "tidy", "explicit", Unspecified, true, "explicit"},
		{"odd value returned as written", "tidy", "odd", "high", true, "odd"},
		{"unknown checker", "tidy", "nothing", Unspecified, false, ""},
		{"unknown analyzer", "nope", "diag", Unspecified, false, ""},
		{"per analyzer", "other", "diag-foo", "LOW", true, "diag"},
		{"empty checker", "tidy", "", Unspecified, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sev, ok := l.Severity(tt.analyzer, tt.checker)
			if sev != tt.wantSev || ok != tt.wantOK {
				t.Errorf("Severity(%q, %q) = %q, %v; want %q, %v", tt.analyzer, tt.checker, sev, ok, tt.wantSev, tt.wantOK)
			}
			key, ok := l.Match(tt.analyzer, tt.checker)
			if key != tt.wantKey || ok != (tt.wantKey != "") {
				t.Errorf("Match(%q, %q) = %q, %v; want %q", tt.analyzer, tt.checker, key, ok, tt.wantKey)
			}
		})
	}
	if got, want := l.Analyzers(), []string{"other", "tidy"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Analyzers() = %v, want %v", got, want)
	}
	wantKeys := []string{"zz-exact", "diag-future", "diag", "diag-f", "nosev", "nosev-child", "explicit", "odd"}
	if got := l.Checkers("tidy"); !reflect.DeepEqual(got, wantKeys) {
		t.Errorf("Checkers(tidy) = %v, want %v", got, wantKeys)
	}
	if got, want := l.Labels("tidy", "diag-x"), []string{"doc_url:https://example.com/a:b", "severity : HIGH "}; !reflect.DeepEqual(got, want) {
		t.Errorf("Labels(tidy, diag-x) = %q, want %q", got, want)
	}
}

func TestDuplicateKeyKeepsFirstPosition(t *testing.T) {
	l, err := Load(writeLabels(t, map[string]string{"a.json": `{"labels": {
		"ab": ["severity:LOW"],
		"a": ["severity:HIGH"],
		"ab": ["severity:MEDIUM"]
	}, "analyzer": "a"}`}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.Checkers("a"), []string{"ab", "a"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Checkers(a) = %v, want %v", got, want)
	}
	if sev, _ := l.Severity("a", "abc"); sev != "MEDIUM" {
		t.Errorf("Severity(a, abc) = %q, want MEDIUM", sev)
	}
}

func TestSeverityValues(t *testing.T) {
	names := []struct {
		name string
		v    int64
	}{{"UNSPECIFIED", 0}, {"STYLE", 10}, {"LOW", 20}, {"MEDIUM", 30}, {"HIGH", 40}, {"CRITICAL", 50}}
	for _, n := range names {
		if v, ok := SeverityValue(n.name); !ok || int64(v) != n.v {
			t.Errorf("SeverityValue(%q) = %d, %v; want %d, true", n.name, v, ok, n.v)
		}
		if name, ok := SeverityName(n.v); !ok || name != n.name {
			t.Errorf("SeverityName(%d) = %q, %v; want %q, true", n.v, name, ok, n.name)
		}
	}
	for _, v := range []int64{-1, 1, 5, 25, 45, 51, 60, 100, 1 << 40} {
		if name, ok := SeverityName(v); ok || name != Unspecified {
			t.Errorf("SeverityName(%d) = %q, %v; want UNSPECIFIED, false", v, name, ok)
		}
	}
	for _, s := range []string{"", "high", "Severe", " HIGH"} {
		if _, ok := SeverityValue(s); ok {
			t.Errorf("SeverityValue(%q) ok, want not ok", s)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"not a list", `{"analyzer": "a", "labels": {"c": "severity:HIGH"}}`, "string list"},
		{"null list", `{"analyzer": "a", "labels": {"c": null}}`, "string list"},
		{"not strings", `{"analyzer": "a", "labels": {"c": [1]}}`, "string list"},
		{"no colon", `{"analyzer": "a", "labels": {"c": ["profile"]}}`, "format"},
		{"two severities", `{"analyzer": "a", "labels": {"c": ["severity:LOW", "severity:HIGH"]}}`, "unique"},
		{"no analyzer", `{"labels": {}}`, "analyzer"},
		{"no labels", `{"analyzer": "a"}`, "labels"},
		{"not an object", `[]`, "top level"},
		{"trailing", `{"analyzer": "a", "labels": {}} {}`, "trailing"},
		{"broken", `{"analyzer": "a", "labels": {"c": [`, "labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeLabels(t, map[string]string{"a.json": tt.body}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	t.Run("duplicate analyzer", func(t *testing.T) {
		_, err := Load(writeLabels(t, map[string]string{
			"a.json": `{"analyzer": "x", "labels": {}}`,
			"b.json": `{"analyzer": "x", "labels": {}}`,
		}))
		if err == nil || !strings.Contains(err.Error(), "both") {
			t.Errorf("Load error = %v, want a duplicate-analyzer error", err)
		}
	})
	t.Run("no analyzers directory", func(t *testing.T) {
		if _, err := Load(t.TempDir()); err == nil {
			t.Error("Load of an empty directory succeeded, want an error")
		}
	})
}

func TestFixtureLabels(t *testing.T) {
	l, err := Load(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(l.Analyzers()); got != 8 {
		t.Errorf("len(Analyzers()) = %d, want 8 (testdata/labels/analyzers)", got)
	}
	tests := []struct {
		analyzer, checker, want string
		ok                      bool
	}{
		// "clang-diagnostic" comes before "clang-diagnostic-future-compat"
		// in the file, so it is the first prefix.
		{"clang-tidy", "clang-diagnostic-future-compat-warning", "MEDIUM", true},
		{"cppcheck", "cppcheck-memleak", "HIGH", true},
		{"cppcheck", "cppcheck-nullPointer", "HIGH", true},
		{"cppcheck", "memleak", Unspecified, false},
		{"asan", "AddressSanitizer", "HIGH", true},
		{"acme-linter", "anything", Unspecified, false},
	}
	for _, tt := range tests {
		if sev, ok := l.Severity(tt.analyzer, tt.checker); sev != tt.want || ok != tt.ok {
			t.Errorf("Severity(%q, %q) = %q, %v; want %q, %v", tt.analyzer, tt.checker, sev, ok, tt.want, tt.ok)
		}
	}
	if key, _ := l.Match("clang-tidy", "clang-diagnostic-future-compat-warning"); key != "clang-diagnostic" {
		t.Errorf("Match(clang-tidy, clang-diagnostic-future-compat-warning) = %q, want clang-diagnostic", key)
	}
}
