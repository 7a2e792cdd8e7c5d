package pass

import (
	"strings"
	"testing"
)

// TestParseAnswer: y/yes, n/no and the empty line (the default, no) answer
// every question; a/all and q/quit answer the per-product ones only; on the
// config database question, and for anything else, the answer is no and not
// recognised.
func TestParseAnswer(t *testing.T) {
	fleet, config := Question{Text: "p?", Fleet: true}, Question{Text: "config?"}
	tests := []struct {
		q      Question
		line   string
		want   Answer
		wantOK bool
	}{
		{fleet, "y\n", Yes, true},
		{fleet, "yes\n", Yes, true},
		{fleet, "  YeS \t\r\n", Yes, true},
		{fleet, "n\n", No, true},
		{fleet, "NO", No, true},
		{fleet, "a\n", All, true},
		{fleet, "All\n", All, true},
		{fleet, "q\n", Quit, true},
		{fleet, " QUIT\r\n", Quit, true},
		{fleet, "\n", No, true},
		{fleet, "", No, true},
		{fleet, " \t\n", No, true},
		{fleet, "yess\n", No, false},
		{fleet, "al\n", No, false},
		{fleet, "y y\n", No, false},
		{fleet, "sure thing\n", No, false},
		{config, "y\n", Yes, true},
		{config, "no\n", No, true},
		{config, "\n", No, true},
		{config, "a\n", No, false},
		{config, "all\n", No, false},
		{config, "q\n", No, false},
		{config, "quit\n", No, false},
	}
	for _, tt := range tests {
		got, ok := ParseAnswer(tt.q, tt.line)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseAnswer(fleet %v, %q) = %v, %v; want %v, %v", tt.q.Fleet, tt.line, got, ok, tt.want, tt.wantOK)
		}
		if got.Yes() != (tt.want == Yes || tt.want == All) {
			t.Errorf("ParseAnswer(fleet %v, %q).Yes() = %v", tt.q.Fleet, tt.line, got.Yes())
		}
	}
}

// The prompt shows what ParseAnswer takes: every offered letter is a
// recognised answer, the bracketed default is what an empty line answers,
// and the config database question offers no a(ll)/q(uit).
func TestChoicesMatchParseAnswer(t *testing.T) {
	for _, q := range []Question{{Fleet: true}, {}} {
		choices := q.Choices()
		offered, def, ok := strings.Cut(choices, " [")
		if !ok || !strings.HasSuffix(def, "]") {
			t.Fatalf("Choices() = %q, want the default in brackets", choices)
		}
		if a, _ := ParseAnswer(q, ""); a != DefaultAnswer || strings.TrimSuffix(def, "]") != "n" || DefaultAnswer != No {
			t.Errorf("Choices() = %q shows default %q; an empty line answers %v", choices, def, a)
		}
		for _, c := range strings.Split(offered, "/") {
			letter := strings.ToLower(c[:1])
			if _, ok := ParseAnswer(q, letter); !ok {
				t.Errorf("Choices() = %q offers %q, which ParseAnswer does not take", choices, letter)
			}
			word := strings.ToLower(strings.NewReplacer("(", "", ")", "").Replace(c))
			if _, ok := ParseAnswer(q, word); !ok {
				t.Errorf("Choices() = %q offers %q, which ParseAnswer does not take", choices, word)
			}
		}
		if got, want := strings.Contains(offered, "a(ll)") && strings.Contains(offered, "q(uit)"), q.Fleet; got != want {
			t.Errorf("Choices() = %q for fleet %v: a(ll)/q(uit) offered %v", choices, q.Fleet, got)
		}
	}
}
