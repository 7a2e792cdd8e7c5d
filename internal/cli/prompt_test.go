package cli

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestPrompter(t *testing.T) {
	const q = "Do you want to upgrade 'p' to new schema?"
	tests := []struct {
		name    string
		input   string
		yesAll  bool
		answers int
		want    []bool
		wantOut string
	}{
		{"y", "y\n", false, 1, []bool{true}, q + " Y(es)/n(o) y\n"},
		{"yes", "yes\n", false, 1, []bool{true}, q + " Y(es)/n(o) yes\n"},
		{"Y", "Y\n", false, 1, []bool{true}, q + " Y(es)/n(o) Y\n"},
		{"YeS with blanks", "  YeS \t\n", false, 1, []bool{true}, q + " Y(es)/n(o) YeS\n"},
		{"CRLF", "y\r\n", false, 1, []bool{true}, q + " Y(es)/n(o) y\n"},
		{"n", "n\n", false, 1, []bool{false}, q + " Y(es)/n(o) n\n"},
		{"no", "no\n", false, 1, []bool{false}, q + " Y(es)/n(o) no\n"},
		{"empty line", "\n", false, 1, []bool{false}, q + " Y(es)/n(o) (taken as no)\n"},
		{"garbage", "sure thing\n", false, 1, []bool{false}, q + " Y(es)/n(o) sure thing (taken as no)\n"},
		{"yess", "yess\n", false, 1, []bool{false}, q + " Y(es)/n(o) yess (taken as no)\n"},
		{"last line without newline", "y", false, 1, []bool{true}, q + " Y(es)/n(o) y\n"},
		{"EOF", "", false, 1, []bool{false}, q + " Y(es)/n(o) \nEnd of input: taking that as \"no\".\n"},
		{"EOF says so once", "y\n", false, 3, []bool{true, false, false},
			q + " Y(es)/n(o) y\n" +
				q + " Y(es)/n(o) \nEnd of input: taking that as \"no\".\n" +
				q + " Y(es)/n(o) n (end of input)\n"},
		{"one line per question", "n\ny\n", false, 2, []bool{false, true}, q + " Y(es)/n(o) n\n" + q + " Y(es)/n(o) y\n"},
		{"--yes", "n\n", true, 2, []bool{true, true}, q + " Y(es)/n(o) y (--yes)\n" + q + " Y(es)/n(o) y (--yes)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			in := strings.NewReader(tt.input)
			p := newPrompter(in, &out, tt.yesAll)
			var got []bool
			for range tt.answers {
				got = append(got, p.ask(q))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("answers to %q = %v, want %v", tt.input, got, tt.want)
			}
			if out.String() != tt.wantOut {
				t.Errorf("output:\n%q\nwant\n%q", out.String(), tt.wantOut)
			}
			if tt.yesAll && in.Len() != len(tt.input) {
				t.Errorf("--yes read %d bytes of input, want none", len(tt.input)-in.Len())
			}
		})
	}
}

// A failing stdin (not EOF) counts as no as well, and a nil one as empty.
func TestPrompterBrokenInput(t *testing.T) {
	for name, in := range map[string]io.Reader{
		"read error": iotest.ErrReader(errors.New("input/output error")),
		"nil":        nil,
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			p := newPrompter(in, &out, false)
			first := p.ask("Q?")
			second := p.ask("Q?") // asked again: the input stays broken
			if first || second {
				t.Error("ask said yes on a broken input")
			}
			if n := strings.Count(out.String(), "taking that as \"no\""); n != 1 {
				t.Errorf("output %q says it took no %d times, want once", out.String(), n)
			}
		})
	}
}

// Piped answers are echoed; a terminal echoes by itself.
func TestPrompterEchoOnlyWhenPiped(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "answers")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("y\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	if !newPrompter(f, &out, false).ask("Q?") {
		t.Fatal("ask = false, want true")
	}
	// A regular file is not a terminal: echoed.
	if got, want := out.String(), "Q? Y(es)/n(o) y\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}
