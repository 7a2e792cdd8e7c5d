package report

import (
	"time"

	"supervisor/internal/pass"
	"supervisor/internal/status"
)

// SchemaVersion is the version of the Document schema. It changes only when
// a field changes meaning or goes away; new fields keep it.
const SchemaVersion = 1

// Document is what `migrate`, `cleanup` and `up` print with --json and write
// with --report FILE: one per run, every selected product in endpoint order.
type Document struct {
	Version int    `json:"version"`
	Command string `json:"command"`
	// DryRun says the run wrote nothing (cleanup --dry-run): each
	// product's cleanup counts are what it would remove (would_remove).
	DryRun   bool      `json:"dry_run,omitempty"`
	Products []Product `json:"products"`
	Totals   Totals    `json:"totals"`
	// TargetVersion is migrate --to's version: a product that reached it
	// is ok while its status_after still says an upgrade is available.
	TargetVersion string `json:"target_version,omitempty"`
	// Stages are the stages of a staged rollout (migrate --canary,
	// --canary-count, --stages), in the order they ran; absent otherwise.
	Stages []pass.StageResult `json:"stages,omitempty"`
	// Run is a cooperative run's (--run-id) progress across its hosts;
	// absent otherwise.
	Run *RunSection `json:"run,omitempty"`
	// ExitCode is the exit code the run ends with.
	ExitCode int `json:"exit_code"`
}

// Product is what became of one product in a run.
type Product struct {
	Endpoint string `json:"endpoint"`
	// Outcome is the product's outcome for the whole command: in up, the
	// migration's unless that was ok, then the cleanup's. Reason says why
	// it is not ok.
	Outcome pass.Outcome `json:"outcome"`
	Reason  string       `json:"reason,omitempty"`
	// Status and schema version before the run and after it.
	StatusBefore  status.Status `json:"status_before"`
	StatusAfter   status.Status `json:"status_after"`
	VersionBefore string        `json:"version_before"`
	VersionAfter  string        `json:"version_after"`
	// DurationMS is the wall time of its workers (milliseconds), PeakRSS
	// the largest peak resident set size of one of them (bytes; 0 when no
	// worker ran).
	DurationMS   int64 `json:"duration_ms"`
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	// Migrate and Cleanup are the stages the command ran for it (absent:
	// the command has no such stage, or it never got there).
	Migrate *MigrateStage `json:"migrate,omitempty"`
	Cleanup *CleanupStage `json:"cleanup,omitempty"`
	// Host and RunState are, in a cooperative run, the host that ran or
	// runs the product (hostname/pid) and its state in the run (pending,
	// running, done, failed); absent otherwise. Such a run's hosts do not
	// read every product's status: StatusBefore and StatusAfter are empty.
	Host     string `json:"host,omitempty"`
	RunState string `json:"run_state,omitempty"`
}

// MigrateStage is one product's migration. A product that was already up to
// date is ok with nothing applied.
type MigrateStage struct {
	Outcome      pass.Outcome `json:"outcome"`
	Reason       string       `json:"reason,omitempty"`
	From         string       `json:"from"`
	To           string       `json:"to"`
	FilesApplied int          `json:"files_applied"`
	// Files are the files its worker reported committed, with their
	// durations.
	Files        []File   `json:"files"`
	DurationMS   int64    `json:"duration_ms"`
	PeakRSSBytes int64    `json:"peak_rss_bytes"`
	LastOutput   []string `json:"last_output,omitempty"`
}

// File is one migration file applied.
type File struct {
	Version     string `json:"version"`
	Description string `json:"description"`
	DurationMS  int64  `json:"duration_ms"`
}

// CleanupStage is one product's garbage collection.
type CleanupStage struct {
	Outcome pass.Outcome `json:"outcome"`
	Reason  string       `json:"reason,omitempty"`
	// Removed counts what was removed or changed, by cleanup key (absent
	// when no worker reported); in a dry run WouldRemove holds those counts
	// instead, and Removed is absent.
	Removed     map[string]int64 `json:"removed,omitempty"`
	WouldRemove map[string]int64 `json:"would_remove,omitempty"`
	// Routines are the routines its worker reported committed, each with
	// its own counts and duration.
	Routines     []Routine `json:"routines"`
	DurationMS   int64     `json:"duration_ms"`
	PeakRSSBytes int64     `json:"peak_rss_bytes"`
	LastOutput   []string  `json:"last_output,omitempty"`
	// NothingToDo says the supervisor's read-only check found nothing to
	// remove or change: no worker ran (the counts are zeros, routines
	// empty, duration and peak RSS 0).
	NothingToDo bool `json:"nothing_to_do,omitempty"`
}

// Routine is one cleanup routine done.
type Routine struct {
	Routine    string           `json:"routine"`
	Rows       map[string]int64 `json:"rows"`
	DurationMS int64            `json:"duration_ms"`
}

// Totals count the products by outcome.
type Totals struct {
	Products     int `json:"products"`
	OK           int `json:"ok"`
	Failed       int `json:"failed"`
	Declined     int `json:"declined"`
	Skipped      int `json:"skipped"`
	NotAttempted int `json:"not_attempted"`
}

func (t *Totals) add(o pass.Outcome) {
	t.Products++
	switch o {
	case pass.OK:
		t.OK++
	case pass.Failed:
		t.Failed++
	case pass.Declined:
		t.Declined++
	case pass.Skipped:
		t.Skipped++
	case pass.NotAttempted:
		t.NotAttempted++
	}
}

// Run is what one command did, for NewDocument.
type Run struct {
	Command string
	// States are the products' states before the run, in endpoint order:
	// a migration's Before, or the inspection cleanup started from.
	States []pass.State
	// Migrate and Cleanup are the stages that ran (nil: did not).
	Migrate *pass.MigrateReport
	Cleanup *pass.CleanupReport
	// Coop is a cooperative run's report (nil: a run of one host); the
	// products are then the run's, across its hosts.
	Coop *pass.RunReport
	// ExitCode is what the run exits with.
	ExitCode int
}

// NewDocument builds the document of a run.
func NewDocument(r Run) Document {
	doc := Document{Version: SchemaVersion, Command: r.Command, Products: []Product{}, ExitCode: r.ExitCode}
	if r.Coop != nil {
		runDocument(&doc, r.Coop.Host, r.Coop.Progress)
		return doc
	}
	var migrated map[string]pass.MigrateRow
	var after map[string]pass.State
	if r.Migrate != nil {
		doc.TargetVersion, doc.Stages = r.Migrate.ToVersion, r.Migrate.Stages
		migrated = map[string]pass.MigrateRow{}
		for _, row := range r.Migrate.Rows {
			migrated[row.Endpoint] = row
		}
		after = map[string]pass.State{}
		for _, st := range r.Migrate.After {
			after[st.Endpoint] = st
		}
	}
	cleaned := map[string]pass.CleanupRow{}
	if r.Cleanup != nil {
		doc.DryRun = r.Cleanup.DryRun
		for _, row := range r.Cleanup.Rows {
			cleaned[row.Endpoint] = row
		}
	}
	for _, st := range r.States {
		p := Product{Endpoint: st.Endpoint, StatusBefore: st.Status, StatusAfter: st.Status, VersionBefore: st.DBVersion, VersionAfter: st.DBVersion}
		if a, ok := after[st.Endpoint]; ok {
			p.StatusAfter, p.VersionAfter = a.Status, a.DBVersion
		}
		if r.Migrate != nil {
			m := &MigrateStage{Outcome: pass.OK, From: st.DBVersion, To: st.DBVersion, Files: []File{}}
			if row, ok := migrated[st.Endpoint]; ok {
				m = &MigrateStage{Outcome: row.Outcome, Reason: row.Reason, From: row.From, To: row.To, FilesApplied: row.Applied,
					Files: files(row.Files), DurationMS: ms(row.Duration), PeakRSSBytes: row.PeakRSS, LastOutput: row.LastOutput}
			}
			p.Migrate = m
			p.Outcome, p.Reason = m.Outcome, m.Reason
			p.DurationMS += m.DurationMS
			p.PeakRSSBytes = max(p.PeakRSSBytes, m.PeakRSSBytes)
		}
		if row, ok := cleaned[st.Endpoint]; ok {
			c := &CleanupStage{Outcome: row.Outcome, Reason: row.Reason, Removed: row.Removed, Routines: routines(row.Routines),
				DurationMS: ms(row.Duration), PeakRSSBytes: row.PeakRSS, LastOutput: row.LastOutput, NothingToDo: row.NothingToDo}
			if doc.DryRun {
				c.Removed, c.WouldRemove = nil, row.Removed
			}
			p.Cleanup = c
			if p.Migrate == nil || p.Outcome == pass.OK {
				p.Outcome, p.Reason = c.Outcome, c.Reason
			}
			p.DurationMS += c.DurationMS
			p.PeakRSSBytes = max(p.PeakRSSBytes, c.PeakRSSBytes)
		}
		doc.Products = append(doc.Products, p)
		doc.Totals.add(p.Outcome)
	}
	return doc
}

func files(fs []pass.FileApplied) []File {
	out := []File{}
	for _, f := range fs {
		out = append(out, File{Version: f.Version, Description: f.Description, DurationMS: ms(f.Duration)})
	}
	return out
}

func routines(rs []pass.RoutineDone) []Routine {
	out := []Routine{}
	for _, r := range rs {
		rows := r.Rows
		if rows == nil {
			rows = map[string]int64{}
		}
		out = append(out, Routine{Routine: r.Routine, Rows: rows, DurationMS: ms(r.Duration)})
	}
	return out
}

func ms(d time.Duration) int64 { return d.Milliseconds() }
