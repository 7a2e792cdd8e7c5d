package labels

import (
	"encoding/json"
	"fmt"
)

type (
	// Digest is what the severity upgrade needs of a label directory, small
	// enough for every worker's job spec: per analyzer, the checker keys in
	// file order (the prefix rule of Match needs the order) with their
	// severity label, if any. The supervisor parses the directory once
	// (Load, then Digest) and each worker rebuilds a Labels from it
	// (FromDigest) instead of parsing every label file again; the other
	// labels (profile, guideline, doc_url, ...) are left out.
	Digest map[string][]DigestEntry

	// DigestEntry is one checker key. In JSON it is ["key", "SEVERITY"],
	// or ["key"] for a key without a severity label.
	DigestEntry struct {
		Key string
		// Severity is the severity label's value, as Severity returns it;
		// HasSeverity says the key has one (a value may be "").
		Severity    string
		HasSeverity bool
	}
)

// Digest returns the digest of l: FromDigest(l.Digest()) answers Severity,
// Match, Checkers and Analyzers as l does.
func (l *Labels) Digest() Digest {
	d := make(Digest, len(l.analyzers))
	for name, a := range l.analyzers {
		entries := make([]DigestEntry, 0, len(a.keys))
		for _, k := range a.keys {
			e := DigestEntry{Key: k}
			for _, lab := range a.labels[k] {
				if lk, v := SplitLabel(lab); lk == "severity" {
					e.Severity, e.HasSeverity = v, true
					break
				}
			}
			entries = append(entries, e)
		}
		d[name] = entries
	}
	return d
}

// FromDigest rebuilds the severity view of a label directory from its
// digest. Each key keeps only its severity label.
func FromDigest(d Digest) *Labels {
	l := &Labels{analyzers: make(map[string]*analyzerLabels, len(d))}
	for name, entries := range d {
		a := &analyzerLabels{file: "digest", labels: make(map[string][]string, len(entries))}
		for _, e := range entries {
			// A repeated key keeps its first position, as in Load.
			if _, seen := a.labels[e.Key]; !seen {
				a.keys = append(a.keys, e.Key)
			}
			a.labels[e.Key] = nil
			if e.HasSeverity {
				a.labels[e.Key] = []string{"severity:" + e.Severity}
			}
		}
		l.analyzers[name] = a
	}
	return l
}

// MarshalJSON writes e as ["key", "SEVERITY"] or ["key"].
func (e DigestEntry) MarshalJSON() ([]byte, error) {
	if e.HasSeverity {
		return json.Marshal([2]string{e.Key, e.Severity})
	}
	return json.Marshal([1]string{e.Key})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *DigestEntry) UnmarshalJSON(b []byte) error {
	var s []string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("label digest entry: %w", err)
	}
	switch len(s) {
	case 1:
		*e = DigestEntry{Key: s[0]}
	case 2:
		*e = DigestEntry{Key: s[0], Severity: s[1], HasSeverity: true}
	default:
		return fmt.Errorf("label digest entry: want [key] or [key, severity], found %d strings", len(s))
	}
	return nil
}
