package pass

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"supervisor/internal/tty"
)

// prompter asks the questions of a pass, reading answers a line at a time
// (ParseAnswer). End of input counts as "no", and says so.
type Prompter struct {
	in     *bufio.Reader
	out    io.Writer
	yesAll bool
	eof    bool
	// rest is the answer 'a' (All) or 'q' (Quit) gave for every remaining
	// per-product question; No until one was given.
	rest Answer
	// echo repeats each answer after its question. A terminal echoes what
	// the operator types, newline included; piped answers are not echoed by
	// anyone, and without this the next question, or the next table, would
	// run on from the end of the question's line.
	echo bool
}

// NewPrompter asks on out and reads the answers from in; yesAll (-y)
// answers yes to every question.
func NewPrompter(in io.Reader, out io.Writer, yesAll bool) *Prompter {
	if in == nil {
		in = strings.NewReader("")
	}
	return &Prompter{in: bufio.NewReader(in), out: out, yesAll: yesAll, echo: !tty.IsTerminal(in)}
}

// restNote is what a question answered by an earlier 'a' or 'q' shows.
var restNote = map[Answer]string{All: "y (all)", Quit: "n (quit)"}

// Ask prints the question and its choices ("Y(es)/n(o)/a(ll)/q(uit) [n]")
// and returns whether the answer is yes.
func (p *Prompter) Ask(q Question) bool {
	fmt.Fprintf(p.out, "%s %s ", q.Text, q.Choices())
	switch {
	case p.yesAll:
		fmt.Fprintln(p.out, "y (--yes)")
		return true
	case q.Fleet && p.rest.ForRest():
		fmt.Fprintln(p.out, restNote[p.rest])
		return p.rest.Yes()
	case p.eof:
		fmt.Fprintln(p.out, "n (end of input)")
		return false
	}
	line, err := p.in.ReadString('\n')
	if err != nil && line == "" {
		p.eof = true
		fmt.Fprintln(p.out, "\nEnd of input: taking that as \"no\".")
		return false
	}
	a, ok := ParseAnswer(q, line)
	if a.ForRest() {
		p.rest = a
	}
	if p.echo {
		shown := strings.Join(strings.Fields(line), " ")
		if !ok {
			shown += " (taken as no)"
		} else if shown == "" {
			shown = "n (default)"
		}
		fmt.Fprintln(p.out, shown)
	}
	return a.Yes()
}
