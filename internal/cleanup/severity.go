package cleanup

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"supervisor/internal/labels"
)

// severityDecision is what the severity upgrade does with one checker.
type severityDecision struct {
	// Old is the stored severity's name; UNSPECIFIED when the stored value
	// is NULL or not one of the six (then OldValid is false).
	Old      string
	OldValid bool
	// New is the severity the labels give (set when one was found);
	// Update says the checker gets it (database value NewValue).
	New      string
	Update   bool
	NewValue int
	// Similar is the spelling ("analyzer-checker", ...) whose severity New
	// comes from, when the checker's own name has none.
	Similar string
	// Conflict holds the similar spellings found when their severities
	// disagree; the stored severity is kept.
	Conflict map[string]string
	// NoSeverity says neither the name nor a similar spelling has a
	// severity in the labels; the stored severity is kept.
	NoSeverity bool
	// BadLabel is a label severity that is not one of the six names; the
	// stored severity is kept.
	BadLabel string
}

// decideSeverity applies CodeChecker's upgrade_severity_levels rules to
// one checker of analyzer whose stored severity is stored:
//
//   - the label severity of the checker's name (exact key, else the first
//     key in file order the name starts with), UNSPECIFIED when there is
//     none;
//   - when that is UNSPECIFIED, the severities of the spellings
//     "analyzer.checker", "analyzer-checker" and "analyzer/checker" under
//     the same analyzer (by the same matching rule), ignoring UNSPECIFIED:
//     none found keeps the stored value, disagreeing ones keep it too, and
//     agreeing ones give the new severity;
//   - the checker is updated when the new severity differs from the stored
//     one, an invalid stored value counting as UNSPECIFIED.
//
// CodeChecker compares the stored and the label severity before trying the
// spellings, so a checker stored as UNSPECIFIED (or invalid) never gets
// them; we try them for every checker the labels give no severity
// (deviation (c)). codecheckerOrder reproduces CodeChecker's order, for
// tests that pin the difference down.
func decideSeverity(l *labels.Labels, analyzer, checker string, stored sql.NullInt64, codecheckerOrder bool) severityDecision {
	var d severityDecision
	d.Old = labels.Unspecified
	if stored.Valid {
		d.Old, d.OldValid = labels.SeverityName(stored.Int64)
	}
	sev, ok := l.Severity(analyzer, checker)
	if !ok {
		sev = labels.Unspecified
	}
	if codecheckerOrder && sev == d.Old {
		return d
	}
	if sev == labels.Unspecified {
		found := map[string]string{}
		for _, name := range []string{analyzer + "." + checker, analyzer + "-" + checker, analyzer + "/" + checker} {
			if s, ok := l.Severity(analyzer, name); ok && s != labels.Unspecified {
				found[name] = s
			}
		}
		names := make([]string, 0, len(found))
		distinct := map[string]bool{}
		for n, s := range found {
			names = append(names, n)
			distinct[s] = true
		}
		sort.Strings(names)
		switch {
		case len(found) == 0:
			d.NoSeverity = true
			return d
		case len(distinct) > 1:
			d.Conflict = found
			return d
		}
		d.Similar, sev = names[0], found[names[0]]
	}
	d.New = sev
	if sev == d.Old {
		return d
	}
	v, ok := labels.SeverityValue(sev)
	if !ok {
		d.BadLabel = sev
		return d
	}
	d.Update, d.NewValue = true, v
	return d
}

// severityChange is one checker whose severity the upgrade changes.
type severityChange struct {
	analyzer, checker, old, new string
	oldValue                    sql.NullInt64
}

// checkerRow is one checkers row of an analyzer.
type checkerRow struct {
	id       int64
	name     sql.NullString
	severity sql.NullInt64
}

// severityExtra are the words of the severity routine's routine_started
// line: how many analyzers the labels have (an integer, which a
// routine_done line must not carry beside its counts).
func (r *runner) severityExtra() []any {
	if r.labels == nil {
		return nil
	}
	return []any{"analyzers", len(r.labels.Analyzers())}
}

// upgradeSeverityLevels brings the severity of every checker of every
// analyzer in the labels in line with the labels, in one transaction (a dry
// run counts the checkers it would change).
// Checkers of analyzers without a label file are not touched.
func (r *runner) upgradeSeverityLevels(ctx context.Context) error {
	start := time.Now()
	if r.labels == nil {
		r.done("no checker labels given; severity upgrade skipped", map[string]int64{KeySeverities: 0}, start)
		return nil
	}
	var changes []severityChange
	err := r.inTx(ctx, func(t *tx) error {
		changes = changes[:0]
		for _, analyzer := range r.labels.Analyzers() {
			// Checkers are few (hundreds to thousands per analyzer), so one
			// analyzer's rows are read at once; the query must be finished
			// before the updates run on the same connection.
			checkers, err := t.checkersOf(analyzer)
			if err != nil {
				return err
			}
			for _, c := range checkers {
				if !c.name.Valid {
					r.log.Warn("checker without a name; severity left as it is", "analyzer", analyzer, "id", c.id)
					continue
				}
				d := decideSeverity(r.labels, analyzer, c.name.String, c.severity, false)
				r.logDecision(analyzer, c, d)
				if !d.Update {
					continue
				}
				// A dry run counts the change and leaves the row as it is.
				if !r.dry {
					if _, err := t.exec("UPDATE checkers SET severity = ? WHERE id = ?", d.NewValue, c.id); err != nil {
						return fmt.Errorf("update severity of checker %s/%s: %w", analyzer, c.name.String, err)
					}
				}
				changes = append(changes, severityChange{
					analyzer: analyzer, checker: c.name.String,
					old: d.Old, new: d.New, oldValue: c.severity,
				})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range changes {
		args := []any{"analyzer", c.analyzer, "checker", c.checker, "old", c.old, "new", c.new}
		if c.oldValue.Valid {
			args = append(args, "old_value", c.oldValue.Int64)
		}
		msg := r.say("Upgrading severity level of '%s' checker from %s to %s", "Would upgrade severity level of '%s' checker from %s to %s")
		r.log.Info(fmt.Sprintf(msg, c.checker, c.old, c.new), args...)
	}
	r.done(r.say("upgraded severity levels", "would upgrade severity levels"), map[string]int64{KeySeverities: int64(len(changes))}, start)
	return nil
}

// checkersOf reads the checkers of one analyzer, by id.
func (t *tx) checkersOf(analyzer string) ([]checkerRow, error) {
	rows, err := t.query("SELECT id, checker_name, severity FROM checkers WHERE analyzer_name = ? ORDER BY id", analyzer)
	if err != nil {
		return nil, fmt.Errorf("read checkers of %s: %w", analyzer, err)
	}
	defer rows.Close()
	var out []checkerRow
	for rows.Next() {
		var c checkerRow
		if err := rows.Scan(&c.id, &c.name, &c.severity); err != nil {
			return nil, fmt.Errorf("read checkers of %s: %w", analyzer, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read checkers of %s: %w", analyzer, err)
	}
	return out, nil
}

// logDecision logs what CodeChecker logs about a checker besides the change
// itself: invalid stored values, similar spellings used, conflicts.
func (r *runner) logDecision(analyzer string, c checkerRow, d severityDecision) {
	name := c.name.String
	if c.severity.Valid && !d.OldValid {
		r.log.Warn("checker has an invalid severity; considering it UNSPECIFIED",
			"analyzer", analyzer, "checker", name, "severity", c.severity.Int64)
	}
	switch {
	case d.Similar != "":
		r.log.Debug("checker has no severity label; using the severity of a similar checker",
			"analyzer", analyzer, "checker", name, "similar", d.Similar, "severity", d.New)
	case d.Conflict != nil:
		pairs := make([]string, 0, len(d.Conflict))
		for n, s := range d.Conflict {
			pairs = append(pairs, n+"="+s)
		}
		sort.Strings(pairs)
		r.log.Error("similar checkers with conflicting severities; keeping the old severity",
			"analyzer", analyzer, "checker", name, "old", d.Old, "similar", strings.Join(pairs, ", "))
	case d.BadLabel != "":
		r.log.Error("label severity is not a known severity; keeping the old severity",
			"analyzer", analyzer, "checker", name, "label_severity", d.BadLabel)
	case d.NoSeverity:
		r.log.Trace("checker has no severity label; keeping the old severity",
			"analyzer", analyzer, "checker", name, "old", d.Old)
	}
}
