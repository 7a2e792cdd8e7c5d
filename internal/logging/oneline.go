package logging

import "strings"

// OneLine makes s one line: every run of white space, line breaks included,
// becomes one space, and leading and trailing space goes. Error texts span
// several lines (pgx's connect errors, SQL statements) and must fit a log
// field or a table cell. It does not make s safe for a terminal: text from
// outside goes through Printable as well.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// OneLineCut is OneLine cut to at most n runes, an ellipsis marking the cut:
// for a statement or a query quoted in a message beside other words.
func OneLineCut(s string, n int) string {
	s = OneLine(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
