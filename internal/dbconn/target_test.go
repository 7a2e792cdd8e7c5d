package dbconn

import (
	"encoding/json"
	"testing"
)

// The job spec carries the dialect's word: the constants must marshal to
// and read back from the words the wire format has always had.
func TestDialectKeepsItsWireWords(t *testing.T) {
	tests := []struct {
		d    Dialect
		json string
	}{
		{SQLite, `{"dialect":"sqlite","path":"/ws/p.sqlite"}`},
		{Postgres, `{"dialect":"postgres","path":"/ws/p.sqlite"}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(Target{Dialect: tt.d, Path: "/ws/p.sqlite"})
		if err != nil {
			t.Fatalf("marshal %v: %v", tt.d, err)
		}
		if got := string(b); got != tt.json {
			t.Errorf("marshal %v = %s, want %s", tt.d, got, tt.json)
		}
		var back Target
		if err := json.Unmarshal([]byte(tt.json), &back); err != nil {
			t.Fatalf("unmarshal %s: %v", tt.json, err)
		}
		if back.Dialect != tt.d {
			t.Errorf("unmarshal %s: dialect %q, want %q", tt.json, back.Dialect, tt.d)
		}
	}
}

func TestParseDialectReadsSQLAlchemySpelling(t *testing.T) {
	tests := []struct {
		in     string
		want   Dialect
		wantOK bool
	}{
		{"sqlite", SQLite, true},
		{"postgres", Postgres, true},
		{"postgresql", Postgres, true},
		{"mysql", "mysql", false},
		{"", "", false},
		{"SQLite", "SQLite", false},
	}
	for _, tt := range tests {
		got, ok := ParseDialect(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseDialect(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
		if got.Valid() != tt.wantOK {
			t.Errorf("ParseDialect(%q).Valid() = %v, want %v", tt.in, got.Valid(), tt.wantOK)
		}
	}
}
