// Package status is the vocabulary of product database states, CodeChecker's
// words and messages, shared by status tables, JSON output and workers.
package status

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
	}
	return string(s)
}

// Upgradable reports whether migrate can bring a database in state s to the
// packaged version (after the operator said yes).
func (s Status) Upgradable() bool {
	return s == SchemaMismatchOK || s == SchemaMissing || s == Missing
}
