package pass

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
	const q = "Do you want to upgrade 'p' to new schema? Y(es)/n(o)/a(ll)/q(uit) [n] "
	tests := []struct {
		name    string
		input   string
		yesAll  bool
		answers int
		want    []bool
		wantOut string
	}{
		{"y", "y\n", false, 1, []bool{true}, q + "y\n"},
		{"yes", "yes\n", false, 1, []bool{true}, q + "yes\n"},
		{"Y", "Y\n", false, 1, []bool{true}, q + "Y\n"},
		{"YeS with blanks", "  YeS \t\n", false, 1, []bool{true}, q + "YeS\n"},
		{"CRLF", "y\r\n", false, 1, []bool{true}, q + "y\n"},
		{"n", "n\n", false, 1, []bool{false}, q + "n\n"},
		{"no", "no\n", false, 1, []bool{false}, q + "no\n"},
		{"empty line takes the default", "\n", false, 1, []bool{false}, q + "n (default)\n"},
		{"blank line takes the default", " \t\r\n", false, 1, []bool{false}, q + "n (default)\n"},
		{"garbage", "sure thing\n", false, 1, []bool{false}, q + "sure thing (taken as no)\n"},
		{"yess", "yess\n", false, 1, []bool{false}, q + "yess (taken as no)\n"},
		{"last line without newline", "y", false, 1, []bool{true}, q + "y\n"},
		{"EOF", "", false, 1, []bool{false}, q + "\nEnd of input: taking that as \"no\".\n"},
		{"EOF says so once", "y\n", false, 3, []bool{true, false, false},
			q + "y\n" +
				q + "\nEnd of input: taking that as \"no\".\n" +
				q + "n (end of input)\n"},
		{"one line per question", "n\ny\n", false, 2, []bool{false, true}, q + "n\n" + q + "y\n"},
		{"--yes", "n\n", true, 2, []bool{true, true}, q + "y (--yes)\n" + q + "y (--yes)\n"},
		{"a is yes to this and the rest", "n\na\nn\nn\n", false, 4, []bool{false, true, true, true},
			q + "n\n" + q + "a\n" + q + "y (all)\n" + q + "y (all)\n"},
		{"all", "All\n", false, 2, []bool{true, true}, q + "All\n" + q + "y (all)\n"},
		{"q is no to this and the rest", "y\nq\ny\ny\n", false, 4, []bool{true, false, false, false},
			q + "y\n" + q + "q\n" + q + "n (quit)\n" + q + "n (quit)\n"},
		{"quit", "QUIT\n", false, 2, []bool{false, false}, q + "QUIT\n" + q + "n (quit)\n"},
		{"a before end of input", "a", false, 3, []bool{true, true, true}, q + "a\n" + q + "y (all)\n" + q + "y (all)\n"},
		{"empty line, then y", "\ny\n", false, 2, []bool{false, true}, q + "n (default)\n" + q + "y\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			in := strings.NewReader(tt.input)
			p := NewPrompter(in, &out, tt.yesAll)
			var got []bool
			for range tt.answers {
				got = append(got, p.Ask(Question{Text: "Do you want to upgrade 'p' to new schema?", Fleet: true}))
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

// TestPrompterConfigQuestionTakesNoAllOrQuit: the config database question
// offers yes or no only; an 'a' or 'q' there is not an answer about the
// products (taken as no), and the product questions are still asked.
func TestPrompterConfigQuestionTakesNoAllOrQuit(t *testing.T) {
	config := Question{Text: "Do you want to upgrade the config database to new schema?"}
	product := Question{Text: "Do you want to upgrade 'p' to new schema?", Fleet: true}
	for _, tt := range []struct{ input, wantConfig string }{
		{"a\ny\nn\n", "a (taken as no)"},
		{"q\ny\nn\n", "q (taken as no)"},
	} {
		var out bytes.Buffer
		p := NewPrompter(strings.NewReader(tt.input), &out, false)
		got := []bool{p.Ask(config), p.Ask(product), p.Ask(product)}
		if !slices.Equal(got, []bool{false, true, false}) {
			t.Errorf("answers to %q = %v, want [false true false]", tt.input, got)
		}
		want := config.Text + " Y(es)/n(o) [n] " + tt.wantConfig + "\n" +
			product.Text + " Y(es)/n(o)/a(ll)/q(uit) [n] y\n" + product.Text + " Y(es)/n(o)/a(ll)/q(uit) [n] n\n"
		if out.String() != want {
			t.Errorf("output:\n%q\nwant\n%q", out.String(), want)
		}
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
			p := NewPrompter(in, &out, false)
			first := p.Ask(Question{Text: "Q?", Fleet: true})
			second := p.Ask(Question{Text: "Q?", Fleet: true}) // asked again: the input stays broken
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
	if !NewPrompter(f, &out, false).Ask(Question{Text: "Q?"}) {
		t.Fatal("ask = false, want true")
	}
	// A regular file is not a terminal: echoed.
	if got, want := out.String(), "Q? Y(es)/n(o) [n] y\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}
