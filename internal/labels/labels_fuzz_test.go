package labels

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzDecodeFile decodes arbitrary analyzer files: no panic, and a file it
// accepts is valid JSON that encoding/json reads the same way (analyzer
// name, checker labels), and gives consistent Match, Labels and Severity
// answers for its own keys and for names that extend them.
func FuzzDecodeFile(f *testing.F) {
	f.Add([]byte(orderJSON))
	f.Add([]byte(`{"analyzer": "other", "labels": {"diag": ["severity:LOW"]}}`))
	f.Add([]byte(`{"analyzer": "a", "labels": {"x": ["severity:LOW"], "x": ["severity:HIGH"]}, "labels": {"y": []}}`))
	f.Add([]byte(`{"analyzer": "a", "analyzer": "b", "labels": {"": ["k:"], "a": [":v", "severity:"]}}`))
	f.Add([]byte(`{"analyzer": "a", "labels": {"x": ["severity:LOW", "severity:HIGH"]}}`))
	f.Add([]byte(`{"analyzer": "a", "labels": {"x": null}}`))
	f.Add([]byte(`{"analyzer": "a", "labels": {"x": ["nocolon"]}} trailing`))
	f.Add([]byte(`{"analyzer" "a", "labels" {}}`))
	f.Add([]byte("{\"analyzer\": \"\xff\", \"labels\": {\"\xfe\": [\"severity:\xfd\"]}}"))
	if b, err := os.ReadFile(filepath.Join(fixtureDir, "analyzers", "clangsa.json")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		name, a, err := decodeFile(b)
		if err != nil {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted a file that is not JSON: %q", b)
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(b, &top); err != nil {
			t.Fatalf("accepted a file encoding/json rejects (%v): %q", err, b)
		}
		var refName string
		var refLabels map[string][]string
		if json.Unmarshal(top["analyzer"], &refName) != nil || json.Unmarshal(top["labels"], &refLabels) != nil {
			t.Fatalf("accepted a file whose fields encoding/json cannot read: %q", b)
		}
		if name != refName || name == "" {
			t.Fatalf("analyzer %q, encoding/json reads %q", name, refName)
		}
		if len(refLabels) == 0 {
			refLabels = map[string][]string{}
		}
		if !reflect.DeepEqual(a.labels, refLabels) {
			t.Fatalf("labels %q, encoding/json reads %q", a.labels, refLabels)
		}
		if len(a.keys) != len(a.labels) || slices.ContainsFunc(a.keys, func(k string) bool { _, ok := a.labels[k]; return !ok }) {
			t.Fatalf("keys %q do not list the checkers of %q once each", a.keys, a.labels)
		}

		l := &Labels{analyzers: map[string]*analyzerLabels{name: a}}
		if got := l.Checkers(name); !slices.Equal(got, a.keys) {
			t.Fatalf("Checkers = %q, want %q", got, a.keys)
		}
		for _, k := range a.keys {
			list := a.labels[k]
			for _, u := range uniqueLabels {
				if countLabel(list, u) > 1 {
					t.Fatalf("checker %q carries %q twice: %q", k, u, list)
				}
			}
			for _, lab := range list {
				if !strings.Contains(lab, ":") {
					t.Fatalf("checker %q has label %q without a colon", k, lab)
				}
			}
			for _, checker := range []string{k, k + "-x", k + k} {
				checkAnswers(t, l, name, checker)
			}
		}
		checkAnswers(t, l, name, "")
		checkAnswers(t, l, "no-such-analyzer", "x")
	})
}

// checkAnswers checks Match, Labels and Severity of checker against each
// other and against the prefix rule, computed here from the file order.
func checkAnswers(t *testing.T, l *Labels, analyzer, checker string) {
	t.Helper()
	want, wantOK := "", false
	if a := l.analyzers[analyzer]; a != nil {
		if _, exact := a.labels[checker]; exact {
			want, wantOK = checker, true
		} else if i := slices.IndexFunc(a.keys, func(k string) bool { return strings.HasPrefix(checker, k) }); i >= 0 {
			want, wantOK = a.keys[i], true
		}
	}
	key, ok := l.Match(analyzer, checker)
	if key != want || ok != wantOK {
		t.Fatalf("Match(%q, %q) = %q, %v; want %q, %v", analyzer, checker, key, ok, want, wantOK)
	}
	labs := l.Labels(analyzer, checker)
	if !ok {
		if labs != nil {
			t.Fatalf("Labels(%q, %q) = %q without a match", analyzer, checker, labs)
		}
	} else if !slices.Equal(labs, l.analyzers[analyzer].labels[key]) {
		t.Fatalf("Labels(%q, %q) = %q, want those of %q", analyzer, checker, labs, key)
	}
	sev, sevOK := l.Severity(analyzer, checker)
	wantSev, wantSevOK := Unspecified, false
	for _, lab := range labs {
		if k, v := SplitLabel(lab); k == "severity" {
			wantSev, wantSevOK = v, true
			break
		}
	}
	if sev != wantSev || sevOK != wantSevOK {
		t.Fatalf("Severity(%q, %q) = %q, %v; its labels %q say %q, %v", analyzer, checker, sev, sevOK, labs, wantSev, wantSevOK)
	}
}
