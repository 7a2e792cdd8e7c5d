package logging

import "testing"

func TestOneLineJoinsWhiteSpaceRuns(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"already one line", "a b", "a b"},
		{"line breaks and tabs", "failed to connect\n\thost=x:\r\n  refused ", "failed to connect host=x: refused"},
		{"only space", " \n\t ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OneLine(tt.in); got != tt.want {
				t.Errorf("OneLine(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestOneLineCutCutsRunesNotBytes(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"shorter", "SELECT 1", 20, "SELECT 1"},
		{"exactly n", "abcd", 4, "abcd"},
		{"cut after joining", "CREATE TABLE\n  x (id int)", 12, "CREATE TABLE…"},
		{"multi-byte runes stay whole", "ééééé", 3, "ééé…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OneLineCut(tt.in, tt.n); got != tt.want {
				t.Errorf("OneLineCut(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}
