package tty_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"supervisor/internal/tty"
)

func TestIsTerminal(t *testing.T) {
	regular, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	devnull, err := os.Open(os.DevNull) // a character device, as a terminal is
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	closed, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	var nilFile *os.File

	for _, tc := range []struct {
		name string
		r    io.Reader
		want bool
	}{
		{"character device", devnull, true},
		{"regular file", regular, false},
		{"pipe", pr, false},
		{"string reader", strings.NewReader(""), false},
		{"closed file", closed, false},
		{"nil file", nilFile, false},
		{"nil reader", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tty.IsTerminal(tc.r); got != tc.want {
				t.Errorf("IsTerminal = %v, want %v", got, tc.want)
			}
		})
	}
}
