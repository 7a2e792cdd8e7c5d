package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"supervisor/internal/usage"
)

// Output says where the result of migrate, cleanup or up goes: tables and
// the totals line on Stdout, or (JSON) one JSON document on Stdout and
// nothing else there; Report, when set, receives the same document in
// either mode.
type Output struct {
	JSON           bool
	Report         string
	Stdout, Stderr io.Writer
}

// CheckReportPath makes a --report path absolute and refuses, as bad usage,
// one whose directory does not exist, or that is a directory, before
// anything is touched: the report is written at the end. "" (no --report)
// stays "".
func CheckReportPath(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	abs, err := reportPath(path)
	if err != nil {
		return "", usage.Errorf("--report %s: %v", path, err)
	}
	return abs, nil
}

func reportPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(filepath.Dir(abs)); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("the directory %s does not exist", filepath.Dir(abs))
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return "", errors.New("is a directory")
	}
	return abs, nil
}

// Text is where tables and the totals line go: Stdout, or nowhere in JSON
// mode.
func (o Output) Text() io.Writer {
	if o.JSON {
		return io.Discard
	}
	return o.Stdout
}

// Questions is where the questions go: Stdout, or Stderr in JSON mode (the
// answers are still read from stdin).
func (o Output) Questions() io.Writer {
	if o.JSON {
		return o.Stderr
	}
	return o.Stdout
}

// Finish prints the totals line, and the document on Stdout (JSON) and in
// the Report file. A report that cannot be written is an error.
func (o Output) Finish(run Run) error {
	doc := NewDocument(run)
	TotalsLine(o.Text(), doc.Totals)
	if !o.JSON && o.Report == "" {
		return nil
	}
	var b bytes.Buffer
	if err := JSON(&b, doc); err != nil {
		return fmt.Errorf("encode the result document: %w", err)
	}
	if o.JSON {
		if _, err := o.Stdout.Write(b.Bytes()); err != nil {
			return fmt.Errorf("write the result document: %w", err)
		}
	}
	if o.Report != "" {
		if err := writeFileAtomic(o.Report, b.Bytes()); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory: a reader never sees half a report.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
