package cli

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"supervisor/internal/tty"
)

// prompter asks Y(es)/n(o) questions, reading answers a line at a time. End
// of input counts as "no", and says so.
type prompter struct {
	in     *bufio.Reader
	out    io.Writer
	yesAll bool
	eof    bool
	// echo repeats each answer after its question. A terminal echoes what
	// the operator types, newline included; piped answers are not echoed by
	// anyone, and without this the next question, or the next table, would
	// run on from the end of the question's line.
	echo bool
}

func newPrompter(in io.Reader, out io.Writer, yesAll bool) *prompter {
	if in == nil {
		in = strings.NewReader("")
	}
	return &prompter{in: bufio.NewReader(in), out: out, yesAll: yesAll, echo: !tty.IsTerminal(in)}
}

// ask prints question followed by " Y(es)/n(o) " and returns the answer.
// Only "y" or "yes" (any case) is yes, as in CodeChecker; anything else is no.
func (p *prompter) ask(question string) bool {
	fmt.Fprintf(p.out, "%s Y(es)/n(o) ", question)
	if p.yesAll {
		fmt.Fprintln(p.out, "y (--yes)")
		return true
	}
	if p.eof {
		fmt.Fprintln(p.out, "n (end of input)")
		return false
	}
	line, err := p.in.ReadString('\n')
	if err != nil && line == "" {
		p.eof = true
		fmt.Fprintln(p.out, "\nEnd of input: taking that as \"no\".")
		return false
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	yes := answer == "y" || answer == "yes"
	if p.echo {
		shown := strings.Join(strings.Fields(line), " ")
		if !yes && answer != "n" && answer != "no" {
			shown += " (taken as no)"
		}
		fmt.Fprintln(p.out, strings.TrimSpace(shown))
	}
	return yes
}
