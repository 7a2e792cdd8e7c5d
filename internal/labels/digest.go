package labels

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync/atomic"
)

type (
	// Digest is what the severity upgrade needs of a label directory, small
	// enough for every worker's job spec: per analyzer, the checker keys in
	// file order (the prefix rule of Match needs the order) with their
	// severity label, if any. The supervisor parses the directory once
	// (Load, then Digest) and each worker rebuilds a Labels from it
	// (FromDigest) instead of parsing every label file again; the other
	// labels (profile, guideline, doc_url, ...) are left out.
	//
	// A Digest is not changed once made: MarshalJSON keeps its encoding.
	Digest map[string][]DigestEntry

	// DigestEntry is one checker key.
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
	// A label set has a handful of severities for hundreds of keys: the keys
	// of one severity share its label list (read only, as every list of a
	// Labels), which spares a worker two allocations a key.
	lists := map[string][]string{}
	for name, entries := range d {
		a := &analyzerLabels{file: "digest", labels: make(map[string][]string, len(entries))}
		for _, e := range entries {
			// A repeated key keeps its first position, as in Load.
			if _, seen := a.labels[e.Key]; !seen {
				a.keys = append(a.keys, e.Key)
			}
			a.labels[e.Key] = nil
			if e.HasSeverity {
				list, ok := lists[e.Severity]
				if !ok {
					list = []string{"severity:" + e.Severity}
					lists[e.Severity] = list
				}
				a.labels[e.Key] = list[:1:1]
			}
		}
		l.analyzers[name] = a
	}
	return l
}

// digestJSON is one analyzer's entries on the wire: the keys and, at the
// same index, the severity or null. Two flat arrays decode several times
// faster than one small array per key.
type digestJSON struct {
	Keys       []string  `json:"k"`
	Severities []*string `json:"s"`
}

// lastEncoded is the digest MarshalJSON encoded last and its encoding: the
// supervisor puts one digest into the spec of every cleanup worker of a
// run, and encoded it again for each (BenchmarkSpecEncode).
var lastEncoded atomic.Pointer[digestEncoding]

type digestEncoding struct {
	d Digest // kept, so that no other map can take its address
	b []byte
}

// MarshalJSON writes d as {"analyzer": {"k": [keys...], "s": [severity or null...]}}.
// The encoding of the digest encoded last is kept and returned again for
// the same map (callers must not change the bytes; encoding/json copies them).
func (d Digest) MarshalJSON() ([]byte, error) {
	if e := lastEncoded.Load(); e != nil && d != nil && reflect.ValueOf(e.d).UnsafePointer() == reflect.ValueOf(d).UnsafePointer() {
		return e.b, nil
	}
	b, err := d.marshal()
	if err == nil && d != nil {
		lastEncoded.Store(&digestEncoding{d: d, b: b})
	}
	return b, err
}

func (d Digest) marshal() ([]byte, error) {
	out := make(map[string]digestJSON, len(d))
	for name, entries := range d {
		w := digestJSON{Keys: make([]string, len(entries)), Severities: make([]*string, len(entries))}
		for i, e := range entries {
			w.Keys[i] = e.Key
			if e.HasSeverity {
				w.Severities[i] = &entries[i].Severity
			}
		}
		out[name] = w
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Digest) UnmarshalJSON(b []byte) error {
	var in map[string]digestJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return fmt.Errorf("label digest: %w", err)
	}
	if in == nil {
		*d = nil
		return nil
	}
	out := make(Digest, len(in))
	for name, w := range in {
		if len(w.Keys) != len(w.Severities) {
			return fmt.Errorf("label digest of %q: %d keys but %d severities", name, len(w.Keys), len(w.Severities))
		}
		entries := make([]DigestEntry, len(w.Keys))
		for i, k := range w.Keys {
			entries[i].Key = k
			if s := w.Severities[i]; s != nil {
				entries[i].Severity, entries[i].HasSeverity = *s, true
			}
		}
		out[name] = entries
	}
	*d = out
	return nil
}
