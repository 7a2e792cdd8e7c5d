package cleanup

import (
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"supervisor/internal/labels"
)

// toolLabels is a label file for the severity decision table. Key order
// matters for the prefix rule; no key is a prefix of "tool".
const toolLabels = `{
  "analyzer": "tool",
  "labels": {
    "exact": ["severity:MEDIUM"],
    "pre": ["severity:LOW"],
    "pre-longer": ["severity:HIGH"],
    "tool-agree": ["severity:HIGH"],
    "tool.agree": ["severity:HIGH"],
    "tool-conflict": ["severity:LOW"],
    "tool/conflict": ["severity:HIGH"],
    "nosev": ["profile:default"],
    "tool-nosev": ["severity:CRITICAL"],
    "bad": ["severity:SEVERE"],
    "explicit": ["severity:UNSPECIFIED"],
    "tool.explicit": ["severity:STYLE"],
    "tool-unspec": ["severity:UNSPECIFIED"],
    "tool-pfx": ["severity:LOW"]
  }
}`

func loadToolLabels(t *testing.T) *labels.Labels {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "analyzers"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "analyzers", "tool.json"), []byte(toolLabels), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := labels.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestDecideSeverity(t *testing.T) {
	l := loadToolLabels(t)
	null := sql.NullInt64{}
	sev := func(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: true} }
	type want struct {
		update  bool
		new     string // the severity stored when update
		similar string
		flag    string // "conflict", "nosev", "bad" or ""
	}
	tests := []struct {
		name              string
		analyzer, checker string
		stored            sql.NullInt64
		ours              want
		codeChecker       want
	}{
		{"exact, stored unspecified", "tool", "exact", sev(0),
			want{update: true, new: "MEDIUM"}, want{update: true, new: "MEDIUM"}},
		{"exact, equal", "tool", "exact", sev(30), want{}, want{}},
		{"exact, stored invalid", "tool", "exact", sev(25),
			want{update: true, new: "MEDIUM"}, want{update: true, new: "MEDIUM"}},
		{"exact, stored NULL", "tool", "exact", null,
			want{update: true, new: "MEDIUM"}, want{update: true, new: "MEDIUM"}},
		{"prefix: first key in file order", "tool", "pre-longer-x", sev(40),
			want{update: true, new: "LOW"}, want{update: true, new: "LOW"}},
		{"exact beats prefix", "tool", "pre-longer", sev(20),
			want{update: true, new: "HIGH"}, want{update: true, new: "HIGH"}},
		{"similar spellings agree", "tool", "agree", sev(20),
			want{update: true, new: "HIGH", similar: "tool-agree"}, want{update: true, new: "HIGH", similar: "tool-agree"}},
		{"similar spellings agree with the stored value", "tool", "agree", sev(40),
			want{similar: "tool-agree"}, want{similar: "tool-agree"}},
		// Deviation (c): CodeChecker stops when stored and label severity
		// are both UNSPECIFIED.
		{"similar spellings, stored unspecified", "tool", "agree", sev(0),
			want{update: true, new: "HIGH", similar: "tool-agree"}, want{}},
		{"similar spellings, stored invalid", "tool", "agree", sev(25),
			want{update: true, new: "HIGH", similar: "tool-agree"}, want{}},
		{"similar spellings, stored NULL", "tool", "agree", null,
			want{update: true, new: "HIGH", similar: "tool-agree"}, want{}},
		{"similar spellings conflict", "tool", "conflict", sev(20),
			want{flag: "conflict"}, want{flag: "conflict"}},
		{"similar spellings conflict, stored unspecified", "tool", "conflict", sev(0),
			want{flag: "conflict"}, want{}},
		{"own key has no severity: similar spelling", "tool", "nosev", sev(10),
			want{update: true, new: "CRITICAL", similar: "tool-nosev"}, want{update: true, new: "CRITICAL", similar: "tool-nosev"}},
		{"explicit UNSPECIFIED label: similar spelling", "tool", "explicit", sev(20),
			want{update: true, new: "STYLE", similar: "tool.explicit"}, want{update: true, new: "STYLE", similar: "tool.explicit"}},
		{"similar spelling by prefix rule", "tool", "pfxname", sev(40),
			want{update: true, new: "LOW", similar: "tool-pfxname"}, want{update: true, new: "LOW", similar: "tool-pfxname"}},
		{"similar spelling says UNSPECIFIED: ignored", "tool", "unspec", sev(20),
			want{flag: "nosev"}, want{flag: "nosev"}},
		{"no labels: keep", "tool", "zzz", sev(20), want{flag: "nosev"}, want{flag: "nosev"}},
		{"no labels, stored unspecified: keep", "tool", "zzz", sev(0), want{flag: "nosev"}, want{}},
		{"no labels, stored invalid: keep", "tool", "zzz", sev(25), want{flag: "nosev"}, want{}},
		{"analyzer without labels: keep", "other", "exact", sev(20), want{flag: "nosev"}, want{flag: "nosev"}},
		{"unknown label severity: keep", "tool", "bad", sev(0), want{flag: "bad"}, want{flag: "bad"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []struct {
				codeChecker bool
				want        want
			}{{false, tt.ours}, {true, tt.codeChecker}} {
				d := decideSeverity(l, tt.analyzer, tt.checker, tt.stored, mode.codeChecker)
				g := want{update: d.Update, similar: d.Similar}
				if d.Update {
					g.new = d.New
					if v, _ := labels.SeverityValue(d.New); v != d.NewValue {
						t.Errorf("NewValue = %d for %s", d.NewValue, d.New)
					}
				}
				switch {
				case d.Conflict != nil:
					g.flag = "conflict"
				case d.NoSeverity:
					g.flag = "nosev"
				case d.BadLabel != "":
					g.flag = "bad"
				}
				if !reflect.DeepEqual(g, mode.want) {
					t.Errorf("codeCheckerOrder=%v: decideSeverity(%s, %s, %v) = %+v, want %+v",
						mode.codeChecker, tt.analyzer, tt.checker, tt.stored, g, mode.want)
				}
			}
		})
	}
}

func TestDecideSeverityOld(t *testing.T) {
	l := loadToolLabels(t)
	for _, tt := range []struct {
		stored sql.NullInt64
		old    string
		valid  bool
	}{
		{sql.NullInt64{Int64: 40, Valid: true}, "HIGH", true},
		{sql.NullInt64{Int64: 0, Valid: true}, "UNSPECIFIED", true},
		{sql.NullInt64{Int64: 25, Valid: true}, "UNSPECIFIED", false},
		{sql.NullInt64{Int64: -10, Valid: true}, "UNSPECIFIED", false},
		{sql.NullInt64{}, "UNSPECIFIED", false},
	} {
		d := decideSeverity(l, "tool", "exact", tt.stored, false)
		if d.Old != tt.old || d.OldValid != tt.valid {
			t.Errorf("stored %v: Old = %q, %v; want %q, %v", tt.stored, d.Old, d.OldValid, tt.old, tt.valid)
		}
	}
}
