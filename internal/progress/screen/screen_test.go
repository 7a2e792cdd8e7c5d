package screen

import (
	"slices"
	"testing"
)

func TestRender(t *testing.T) {
	tests := []struct {
		name  string
		out   string
		width int
		want  []string
	}{
		{"lines", "one\ntwo\n", 10, []string{"one", "two"}},
		{"carriage return overwrites", "abcd\rxy\n", 10, []string{"xycd"}},
		{"wrap at the width", "abcdef\n", 4, []string{"abcd", "ef"}},
		{"a full line does not wrap by itself", "abcd\r\nef\n", 4, []string{"abcd", "ef"}},
		{"colours are dropped", "\x1b[93m[WARN] \x1b[0m x\n", 20, []string{"[WARN]  x"}},
		{"cursor up and erase below", "log 1\nbar a\nbar b\n\x1b[2A\x1b[Jlog 2\nbar c\n", 20, []string{"log 1", "log 2", "bar c"}},
		{"erase line", "abcdef\r\x1b[Kxy\n", 20, []string{"xy"}},
		{"cursor up stops at the top", "a\n\x1b[5Ab\n", 10, []string{"b"}},
		{"utf-8 is one column a rune", "é…x\n", 3, []string{"é…x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Render([]byte(tc.out), tc.width)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRenderRefusesWhatItDoesNotKnow(t *testing.T) {
	for _, out := range []string{"\x1b[2J", "\x1b]0;title\x07", "\x1b[3", "a\x07b", "\x1b[H"} {
		if got, err := Render([]byte(out), 10); err == nil {
			t.Errorf("Render(%q) = %q, want an error", out, got)
		}
	}
}
