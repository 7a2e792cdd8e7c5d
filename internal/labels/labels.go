// Package labels reads a checker-label directory in CodeChecker's format
// (labels/analyzers/*.json) and answers CodeChecker's label queries, above
// all "which severity does this checker have".
//
// Each analyzer file looks like
//
//	{"analyzer": "clang-tidy", "labels": {"bugprone-foo": ["severity:HIGH", ...], ...}}
//
// The order of the checker keys matters: when a checker name is not a key
// itself, CodeChecker takes the labels of the first key, in file order, that
// the name starts with ("clang-diagnostic" gives the labels of
// "clang-diagnostic-unused-argument"). Load therefore keeps each file's key
// order.
package labels

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The severity names CodeChecker uses, with their database values.
const (
	Unspecified = "UNSPECIFIED"
	Style       = "STYLE"
	Low         = "LOW"
	Medium      = "MEDIUM"
	High        = "HIGH"
	Critical    = "CRITICAL"
)

var severityValues = map[string]int{
	Unspecified: 0,
	Style:       10,
	Low:         20,
	Medium:      30,
	High:        40,
	Critical:    50,
}

// SeverityValue returns the database value of a severity name
// ("HIGH" → 40). ok is false for a name that is not one of the six.
func SeverityValue(name string) (v int, ok bool) {
	v, ok = severityValues[name]
	return v, ok
}

// SeverityName returns the name of a database severity value (40 → "HIGH").
// A value outside the six known ones counts as UNSPECIFIED; ok says whether
// v was one of the six.
func SeverityName(v int64) (name string, ok bool) {
	for n, sv := range severityValues {
		if int64(sv) == v {
			return n, true
		}
	}
	return Unspecified, false
}

// uniqueLabels are the labels a checker may carry at most once, as
// CodeChecker's label loader enforces.
var uniqueLabels = []string{"severity", "blacklist", "description"}

type (
	// Labels is a loaded label directory. It is read-only after Load and
	// safe for concurrent use.
	Labels struct {
		analyzers map[string]*analyzerLabels
	}

	// analyzerLabels holds one analyzer file.
	analyzerLabels struct {
		file string
		// keys are the checker names in file order.
		keys []string
		// labels maps a checker name to its labels, as written.
		labels map[string][]string
	}
)

// Load reads every *.json file in dir/analyzers. The analyzer a file
// describes is its "analyzer" field, not its file name. Like CodeChecker,
// Load rejects a file whose labels are not lists of "key:value" strings or
// that gives a checker two severity (blacklist, description) labels.
// descriptions.json and other files in dir are ignored.
func Load(dir string) (*Labels, error) {
	adir := filepath.Join(dir, "analyzers")
	entries, err := os.ReadDir(adir)
	if err != nil {
		return nil, fmt.Errorf("load checker labels: %w", err)
	}
	l := &Labels{analyzers: make(map[string]*analyzerLabels)}
	for _, e := range entries { // os.ReadDir sorts by name
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(adir, e.Name())
		name, a, err := loadFile(path)
		if err != nil {
			return nil, fmt.Errorf("load checker labels %s: %w", path, err)
		}
		if prev, dup := l.analyzers[name]; dup {
			return nil, fmt.Errorf("load checker labels: analyzer %q is in both %s and %s", name, prev.file, path)
		}
		l.analyzers[name] = a
	}
	return l, nil
}

// loadFile decodes one analyzer file, keeping the order of its label keys.
func loadFile(path string) (string, *analyzerLabels, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	name, a, err := decodeFile(b)
	if err != nil {
		return "", nil, err
	}
	a.file = path
	return name, a, nil
}

// decodeFile decodes the bytes of one analyzer file (its file field unset).
func decodeFile(b []byte) (string, *analyzerLabels, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := expectDelim(dec, '{'); err != nil {
		return "", nil, fmt.Errorf("top level: %w", err)
	}
	var (
		analyzer  string
		haveName  bool
		a         *analyzerLabels
		haveLabel bool
	)
	for dec.More() {
		key, err := stringToken(dec)
		if err != nil {
			return "", nil, err
		}
		switch key {
		case "analyzer":
			if err := dec.Decode(&analyzer); err != nil {
				return "", nil, fmt.Errorf("analyzer: %w", err)
			}
			haveName = true
		case "labels":
			// A repeated key replaces the earlier value, as in Python.
			if a, err = decodeLabels(dec); err != nil {
				return "", nil, fmt.Errorf("labels: %w", err)
			}
			haveLabel = true
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return "", nil, fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return "", nil, fmt.Errorf("top level: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", nil, errors.New("trailing data after the top-level object")
	}
	if !haveName || analyzer == "" {
		return "", nil, errors.New(`no "analyzer" name`)
	}
	if !haveLabel {
		return "", nil, errors.New(`no "labels" object`)
	}
	return analyzer, a, nil
}

// decodeLabels reads the "labels" object: checker name → list of labels.
func decodeLabels(dec *json.Decoder) (*analyzerLabels, error) {
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	a := &analyzerLabels{labels: make(map[string][]string)}
	for dec.More() {
		checker, err := stringToken(dec)
		if err != nil {
			return nil, err
		}
		var raw []any
		if err := dec.Decode(&raw); err != nil || raw == nil {
			return nil, fmt.Errorf("%q should be assigned a string list", checker)
		}
		list := make([]string, 0, len(raw))
		for _, v := range raw {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%q should be assigned a string list", checker)
			}
			if !strings.Contains(s, ":") {
				return nil, fmt.Errorf("label %q of %q is not in the format <label>:<value>", s, checker)
			}
			list = append(list, s)
		}
		for _, u := range uniqueLabels {
			if n := countLabel(list, u); n > 1 {
				return nil, fmt.Errorf("label %q should be unique for checker %q", u, checker)
			}
		}
		// A repeated key keeps its first position and takes the last
		// value, as a Python dict does.
		if _, seen := a.labels[checker]; !seen {
			a.keys = append(a.keys, checker)
		}
		a.labels[checker] = list
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	return a, nil
}

func countLabel(list []string, key string) int {
	n := 0
	for _, l := range list {
		if k, _ := SplitLabel(l); k == key {
			n++
		}
	}
	return n
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, found %v", want, tok)
	}
	return nil
}

func stringToken(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("expected an object key, found %v", tok)
	}
	return s, nil
}

// SplitLabel splits "severity : HIGH" into "severity" and "HIGH": the key
// before the first colon and the value after it, both trimmed. A label
// without a colon has an empty value.
func SplitLabel(label string) (key, value string) {
	k, v, _ := strings.Cut(label, ":")
	return strings.TrimSpace(k), strings.TrimSpace(v)
}

// Analyzers returns the analyzer names, sorted.
func (l *Labels) Analyzers() []string {
	names := make([]string, 0, len(l.analyzers))
	for n := range l.analyzers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Checkers returns an analyzer's checker names in file order, or nil for
// an analyzer without a label file.
func (l *Labels) Checkers(analyzer string) []string {
	a := l.analyzers[analyzer]
	if a == nil {
		return nil
	}
	return append([]string(nil), a.keys...)
}

// Match returns the label key that describes checker under analyzer, by
// CodeChecker's rule: the checker's own name when it is a key; otherwise
// the first key, in file order, that the checker name starts with. ok is
// false when neither exists.
func (l *Labels) Match(analyzer, checker string) (key string, ok bool) {
	a := l.analyzers[analyzer]
	if a == nil {
		return "", false
	}
	if _, ok := a.labels[checker]; ok {
		return checker, true
	}
	for _, k := range a.keys {
		if strings.HasPrefix(checker, k) {
			return k, true
		}
	}
	return "", false
}

// Labels returns the labels of checker under analyzer, found by Match's
// rule, as written in the file; nil when nothing matches.
func (l *Labels) Labels(analyzer, checker string) []string {
	key, ok := l.Match(analyzer, checker)
	if !ok {
		return nil
	}
	return append([]string(nil), l.analyzers[analyzer].labels[key]...)
}

// Severity returns the value of the "severity" label of checker under
// analyzer, found by Match's rule. ok is false, and sev is UNSPECIFIED,
// when the matching key has no severity label or nothing matches; like
// CodeChecker, Severity does not look further once a key matched. The value
// is returned as written (normally one of the six severity names; check it
// with SeverityValue). Note that a file may also say "severity:UNSPECIFIED"
// explicitly, which gives ok true.
func (l *Labels) Severity(analyzer, checker string) (sev string, ok bool) {
	key, found := l.Match(analyzer, checker)
	if !found {
		return Unspecified, false
	}
	for _, lab := range l.analyzers[analyzer].labels[key] {
		if k, v := SplitLabel(lab); k == "severity" {
			return v, true
		}
	}
	return Unspecified, false
}
