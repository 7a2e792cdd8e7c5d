// Package status is the vocabulary of product database states, CodeChecker's
// words and messages, shared by status tables, JSON output and workers.
package status

import (
	"fmt"
	"strings"
)

// Status is a product database's state, as CodeChecker names it.
type Status string

// The statuses of DESIGN.md, in CodeChecker's words.
const (
	OK                  Status = "ok"
	Missing             Status = "missing"
	FailedToConnect     Status = "failed_to_connect"
	SchemaMismatchOK    Status = "schema_mismatch_ok"
	SchemaMismatchNo    Status = "schema_mismatch_no"
	SchemaMissing       Status = "schema_missing"
	SchemaInitError     Status = "schema_init_error"
	SchemaUpgradeFailed Status = "schema_upgrade_failed"
	// Drift is ours, not CodeChecker's: status --drift found the live schema
	// different from the packaged one at the version the database records.
	Drift Status = "drift"
)

// Message is the sentence CodeChecker prints for s.
func (s Status) Message() string {
	switch s {
	case OK:
		return "Database is up to date."
	case Missing:
		return "Database is missing."
	case FailedToConnect:
		return "Connection failed to the database server."
	case SchemaMismatchOK:
		return "Database schema mismatch! Possible to upgrade."
	case SchemaMismatchNo:
		return "Database schema mismatch! NOT possible to upgrade."
	case SchemaMissing:
		return "Database schema is missing."
	case SchemaInitError:
		return "Schema initialization error."
	case SchemaUpgradeFailed:
		return "Schema upgrade failed."
	case Drift:
		return "Database schema drifted from the packaged schema."
	}
	return string(s)
}

// Upgradable reports whether migrate can bring a database in state s to the
// packaged version (after the operator said yes).
func (s Status) Upgradable() bool {
	return s == SchemaMismatchOK || s == SchemaMissing || s == Missing
}

// All is every status, in the order the help explains them.
var All = []Status{OK, Missing, FailedToConnect, SchemaMismatchOK, SchemaMismatchNo, SchemaMissing, SchemaInitError, SchemaUpgradeFailed, Drift}

// Advice says what a status means for the operator: what to do about it.
func (s Status) Advice() string {
	switch s {
	case OK:
		return "at the packaged version; nothing to do"
	case Missing:
		return "the SQLite file does not exist; 'migrate' creates it (after asking)"
	case FailedToConnect:
		return "the server, the file or the password failed; the log line says why"
	case SchemaMismatchOK:
		return "older than the package; 'migrate' upgrades it (after asking)"
	case SchemaMismatchNo:
		return "a revision we cannot upgrade from (another CodeChecker, a newer supervisor); left alone"
	case SchemaMissing:
		return "an empty database; 'migrate' initialises it (after asking)"
	case SchemaInitError:
		return "initialising the schema failed; the reason says why"
	case SchemaUpgradeFailed:
		return "an upgrade failed and was rolled back; fix the cause and migrate again"
	case Drift:
		return "status --drift: the schema differs from the packaged one at its recorded version (changed by hand?); the lines under the table say how; left alone"
	}
	return ""
}

// Glossary explains every status, two lines each: the word and
// CodeChecker's sentence, then the advice.
func Glossary() string {
	var b strings.Builder
	for _, s := range All {
		fmt.Fprintf(&b, "  %-22s %s\n  %-22s %s\n", s, s.Message(), "", s.Advice())
	}
	return b.String()
}
