// Package job defines the protocol between the supervisor and its workers:
// the job spec a worker reads as one JSON value on its stdin, and the one
// result record it writes on its result pipe (fd 3) before it exits.
//
// Secrets (database passwords) travel only inside the Spec on stdin: never
// in argv, the environment, logs or output.
package job

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/labels"
	"supervisor/internal/status"
)

// Action names what a worker does with its product database.
type Action string

// The actions a worker knows.
const (
	ActionMigrate Action = "migrate"
	ActionCleanup Action = "cleanup"
	// ActionBaseline records the revisions up to Options.Baseline, executing
	// nothing, if the schema is the packaged one at that version.
	ActionBaseline Action = "baseline"
)

// Options tune one job.
type Options struct {
	// LockTimeout bounds the wait for the product's lock.
	LockTimeout time.Duration `json:"lock_timeout,omitempty"`
	// ConnectTimeout bounds connecting to the database server.
	ConnectTimeout time.Duration `json:"connect_timeout,omitempty"`
	// BackupDir, when set, receives a copy of a SQLite product before its
	// first pending migration file.
	BackupDir string `json:"backup_dir,omitempty"`
	// CheckerLabels is the checker label directory for the severity upgrade.
	CheckerLabels string `json:"checker_labels,omitempty"`
	// SeverityLabels, when set, is the digest of the checker labels (the
	// supervisor parses the directory once for all workers); it takes the
	// place of CheckerLabels, which stays for a spec written by hand.
	SeverityLabels labels.Digest `json:"severity_labels,omitempty"`
	// DryRun makes a cleanup count what it would remove, writing nothing
	// (Result.Removed then holds those counts).
	DryRun bool `json:"dry_run,omitempty"`
	// Baseline is the version ActionBaseline records.
	Baseline string `json:"baseline,omitempty"`
	// ToVersion makes a migration stop at this packaged version ("" = the
	// latest); the database is then left at it, not up to date (--to).
	ToVersion string `json:"to_version,omitempty"`
}

// AtOrPast says whether a database at version is at or past target, a
// packaged version (Options.ToVersion). Only a packaged version (digits,
// as "002") compares: a CodeChecker revision a database has before its
// adoption is below every one of them.
func AtOrPast(version, target string) bool {
	if version == "" || strings.Trim(version, "0123456789") != "" {
		return false
	}
	return version >= target
}

// Spec is one unit of work for one worker process.
type Spec struct {
	Action   Action        `json:"action"`
	Endpoint string        `json:"endpoint"`
	Target   dbconn.Target `json:"target"`
	Options  Options       `json:"options"`
}

// Result is the one record a worker writes when it is done, successful or not.
type Result struct {
	Endpoint string `json:"endpoint"`
	// OK is true when the job did everything it was asked to.
	OK bool `json:"ok"`
	// Status is the product's database status word after the job
	// (DESIGN.md's vocabulary: ok, schema_upgrade_failed, ...).
	Status status.Status `json:"status,omitempty"`
	// FromVersion and ToVersion are the schema versions before and after.
	FromVersion string `json:"from_version,omitempty"`
	ToVersion   string `json:"to_version,omitempty"`
	// Applied counts the migration files applied.
	Applied int `json:"applied,omitempty"`
	// Removed counts what cleanup removed or changed, by routine.
	Removed map[string]int64 `json:"removed,omitempty"`
	// Error is a one-line reason when OK is false.
	Error string `json:"error,omitempty"`
	// Duration is the job's wall time.
	Duration time.Duration `json:"duration"`
}

// EncodeSpec is json.Marshal(s) for a worker's stdin, but cheaper for the
// digest: a run puts one labels.Digest into every cleanup worker's spec,
// and json.Marshal would check the digest's encoding (25 KB for the
// project's label set) again for each worker. EncodeSpec encodes the rest
// of the spec and appends the digest's kept encoding to its options (Options
// is the last field of Spec, SeverityLabels a field of Options), which
// TestEncodeSpecIsMarshal holds to json.Marshal.
func EncodeSpec(s Spec) ([]byte, error) {
	d := s.Options.SeverityLabels
	s.Options.SeverityLabels = nil
	b, err := json.Marshal(s)
	if err != nil || len(d) == 0 { // omitempty: not written
		return b, err
	}
	enc, err := d.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(b, []byte("}}")) {
		return nil, fmt.Errorf("encode job spec: spec encoded without its options last: %.40q", b)
	}
	out := make([]byte, 0, len(b)+len(enc)+32)
	out = append(out, b[:len(b)-2]...)
	if !bytes.HasSuffix(out, []byte("{")) {
		out = append(out, ',')
	}
	out = append(out, `"severity_labels":`...)
	out = append(out, enc...)
	return append(out, "}}"...), nil
}

// ReadSpec decodes one job spec from r.
func ReadSpec(r io.Reader) (Spec, error) {
	var s Spec
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("read job spec: %w", err)
	}
	if s.Endpoint == "" || s.Action == "" {
		return Spec{}, fmt.Errorf("read job spec: action and endpoint are required")
	}
	return s, nil
}

// WriteResult writes r as one JSON line to w.
func WriteResult(w io.Writer, r Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
