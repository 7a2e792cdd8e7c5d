// Package screen is a tiny terminal emulator for tests: it replays what a
// program wrote to a terminal and returns the lines left on screen. It
// knows what the progress display (mpb) and the coloured logs emit:
// printable text with automatic wrap at the width, \r, \n (a new line,
// at its start: what a terminal shows through the tty's ONLCR), \b, cursor up
// (ESC [ n A), erase below (ESC [ J, ESC [ 0 J) and erase to the end of the
// line (ESC [ K); colours (ESC [ … m) are dropped. Any other escape is an
// error: a test must not pass on a screen it did not understand. The screen
// has no height: lines that a real terminal scrolls away stay, which is
// the same as long as the cursor never moves above the top of the real
// screen (a test sets a window tall enough for what it redraws).
package screen

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Render replays out on a screen width columns wide and returns its lines,
// without trailing blanks and without the empty lines at the bottom.
func Render(out []byte, width int) ([]string, error) {
	s := &scr{width: width, lines: [][]rune{nil}}
	for i := 0; i < len(out); {
		c := out[i]
		switch {
		case c == 0x1b:
			n, err := s.escape(out[i:])
			if err != nil {
				return nil, fmt.Errorf("at byte %d: %w", i, err)
			}
			i += n
			continue
		case c == '\r':
			s.col = 0
		case c == '\n':
			s.down()
			s.col = 0
		case c == '\b':
			s.col = max(min(s.col, s.width)-1, 0)
		case c < 0x20 || c == 0x7f:
			if c != '\t' {
				return nil, fmt.Errorf("at byte %d: control character %#x", i, c)
			}
			s.put(' ')
		default:
			r, size := utf8.DecodeRune(out[i:])
			s.put(r)
			i += size
			continue
		}
		i++
	}
	var lines []string
	for _, l := range s.lines {
		lines = append(lines, strings.TrimRight(string(l), " "))
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines, nil
}

type scr struct {
	width    int
	lines    [][]rune
	row, col int
}

// put writes r at the cursor. The cursor may stand one past the last
// column (a full line); the next character wraps, as on xterm.
func (s *scr) put(r rune) {
	if s.col >= s.width {
		s.down()
		s.col = 0
	}
	l := s.lines[s.row]
	for len(l) <= s.col {
		l = append(l, ' ')
	}
	l[s.col] = r
	s.lines[s.row] = l
	s.col++
}

// down moves the cursor to the next line, in the same column.
func (s *scr) down() {
	s.row++
	if s.row == len(s.lines) {
		s.lines = append(s.lines, nil)
	}
}

// escape handles the escape sequence at the start of b and returns its
// length.
func (s *scr) escape(b []byte) (int, error) {
	if len(b) < 2 || b[1] != '[' {
		return 0, fmt.Errorf("escape sequence %q is not a CSI", b[:min(len(b), 8)])
	}
	end := 2
	for end < len(b) && (b[end] >= '0' && b[end] <= '9' || b[end] == ';' || b[end] == '?') {
		end++
	}
	if end == len(b) {
		return 0, fmt.Errorf("unterminated escape sequence %q", b)
	}
	param, final := string(b[2:end]), b[end]
	n := func() int {
		if v, err := strconv.Atoi(param); err == nil && v > 0 {
			return v
		}
		return 1
	}
	switch {
	case final == 'm':
		// colours and attributes: nothing on the screen's text
	case final == 'A':
		s.row = max(s.row-n(), 0)
		s.col = min(s.col, s.width-1)
	case final == 'J' && (param == "" || param == "0"):
		s.lines[s.row] = cut(s.lines[s.row], s.col)
		s.lines = s.lines[:s.row+1]
	case final == 'K' && (param == "" || param == "0"):
		s.lines[s.row] = cut(s.lines[s.row], s.col)
	default:
		return 0, fmt.Errorf("unknown escape sequence %q", b[:end+1])
	}
	return end + 1, nil
}

func cut(l []rune, col int) []rune {
	if col < len(l) {
		return l[:col]
	}
	return l
}
