package labels

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	_ "modernc.org/sqlite"

	"supervisor/internal/testutil"
)

// roundTrip is l's digest through JSON (as it travels in a job spec) and
// back to a Labels.
func roundTrip(t *testing.T, l *Labels) *Labels {
	t.Helper()
	b, err := json.Marshal(l.Digest())
	if err != nil {
		t.Fatal(err)
	}
	var d Digest
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return FromDigest(d)
}

// sampleCheckers are the (analyzer, checker) rows of product-sample.sqlite.
func sampleCheckers(t *testing.T) [][2]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+testutil.Fixture("product-sample.sqlite")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT analyzer_name, checker_name FROM checkers WHERE checker_name IS NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var a, c sql.NullString
		if err := rows.Scan(&a, &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, [2]string{a.String, c.String})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no checkers in product-sample.sqlite")
	}
	return out
}

// assertSameSeverities checks that got answers Severity as want does for
// every name the severity upgrade may look up about checker: the name
// itself and the spellings it tries.
func assertSameSeverities(t *testing.T, got, want *Labels, analyzer, checker string) {
	t.Helper()
	for _, name := range []string{checker, analyzer + "." + checker, analyzer + "-" + checker, analyzer + "/" + checker, checker + "-x", checker[:len(checker)/2]} {
		gs, gok := got.Severity(analyzer, name)
		ws, wok := want.Severity(analyzer, name)
		if gs != ws || gok != wok {
			t.Errorf("digest Severity(%q, %q) = %q, %v; Load gives %q, %v", analyzer, name, gs, gok, ws, wok)
		}
	}
}

// TestDigestGivesLoadSeverities: the label digest a worker gets answers
// every severity lookup as the loaded directory does, for every checker of
// testdata/labels and of product-sample.sqlite (and for analyzers and
// names the labels do not have).
func TestDigestGivesLoadSeverities(t *testing.T) {
	l, err := Load(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	d := roundTrip(t, l)
	if got, want := d.Analyzers(), l.Analyzers(); !reflect.DeepEqual(got, want) {
		t.Errorf("digest Analyzers() = %v, want %v", got, want)
	}
	n := 0
	for _, a := range append(l.Analyzers(), "no-such-analyzer") {
		if got, want := d.Checkers(a), l.Checkers(a); !reflect.DeepEqual(got, want) {
			t.Errorf("digest Checkers(%q) = %v, want %v", a, got, want)
		}
		for _, c := range l.Checkers(a) {
			assertSameSeverities(t, d, l, a, c)
			n++
		}
	}
	if n < 600 {
		t.Errorf("checked %d checkers of testdata/labels, want all of them (603)", n)
	}
	for _, ac := range sampleCheckers(t) {
		if ac[1] == "" {
			continue
		}
		assertSameSeverities(t, d, l, ac[0], ac[1])
	}
}

// TestDigestKeepsOddSeverities: a key without a severity label, an
// explicit UNSPECIFIED, an empty value, a bad value and a severity label
// after others survive the digest, as does the file order of the keys.
func TestDigestKeepsOddSeverities(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "analyzers"), 0o755); err != nil {
		t.Fatal(err)
	}
	const file = `{"analyzer": "a", "labels": {
		"zz": ["profile:default"],
		"z": ["severity:HIGH"],
		"unspec": ["severity:UNSPECIFIED"],
		"empty": ["severity:"],
		"bad": ["severity:SEVERE"],
		"late": ["profile:x", "doc_url:http://x", " severity : LOW "]
	}}`
	if err := os.WriteFile(filepath.Join(dir, "analyzers", "a.json"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := roundTrip(t, l)
	for _, c := range []string{"zz", "zzz", "z", "zx", "unspec", "empty", "bad", "late", "latest", "none"} {
		assertSameSeverities(t, d, l, "a", c)
	}
}

func TestDigestRejectsBadJSON(t *testing.T) {
	for _, in := range []string{`[]`, `{"a": {"k": ["x"], "s": []}}`, `{"a": {"k": ["x"], "s": [1]}}`, `{"a": []}`} {
		var d Digest
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("Unmarshal(%s) = %v, nil; want an error", in, d)
		}
	}
}

func BenchmarkFromDigest(b *testing.B) {
	l, err := Load(fixtureDir)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := json.Marshal(l.Digest())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(raw)), "digest-bytes")
	for b.Loop() {
		var d Digest
		if err := json.Unmarshal(raw, &d); err != nil {
			b.Fatal(err)
		}
		FromDigest(d)
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(fixtureDir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDigestMarshal(b *testing.B) {
	l, err := Load(fixtureDir)
	if err != nil {
		b.Fatal(err)
	}
	d := l.Digest()
	for b.Loop() {
		if _, err := json.Marshal(d); err != nil {
			b.Fatal(err)
		}
	}
}

// The supervisor puts one digest into every cleanup worker's spec: it is
// encoded once, and a different digest is not answered with that encoding.
func TestDigestEncodedOncePerDigest(t *testing.T) {
	l, err := Load(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	d := l.Digest()
	first, err := d.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	again, err := d.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if &first[0] != &again[0] {
		t.Errorf("the digest was encoded again")
	}
	other := Digest{"x": {{Key: "k", Severity: "HIGH", HasSeverity: true}}}
	got, err := json.Marshal(other)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"x":{"k":["k"],"s":["HIGH"]}}`; string(got) != want {
		t.Errorf("other digest encoded as %s, want %s", got, want)
	}
	if got, err := json.Marshal(d); err != nil || string(got) != string(first) {
		t.Errorf("first digest encoded as %.80s..., %v; want %.80s...", got, err, first)
	}
}
