// Package event is the vocabulary of what happens to one product while a
// worker works on it. A worker writes each event as one line of its hclog
// JSON stream, marked by the key "event" (Key) and carrying the event's
// fields as ordinary key/value pairs, so the line reads well in the relayed
// log too; the supervisor decodes those lines back into Events (Decode).
// Tables, summaries, the progress display and JSON reports read Events and
// job results, never log text.
package event

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Key is the log-line key that marks an event line; its value is the Kind.
const Key = "event"

// Kind says what happened.
type Kind string

// The kinds of events, in the order a job meets them.
const (
	// LockWait: another process holds the product's lock; the job waits
	// for it, at most Timeout.
	LockWait Kind = "lock_wait"
	// LockAcquired: the product's lock is the job's (Duration: how long it
	// waited).
	LockAcquired Kind = "lock_acquired"
	// FileStarted: migration file Index of Total (Version, Description)
	// started.
	FileStarted Kind = "file_started"
	// FileApplied: that file was committed, in Duration.
	FileApplied Kind = "file_applied"
	// RoutineStarted: cleanup routine Routine started.
	RoutineStarted Kind = "routine_started"
	// RoutineDone: that routine committed in Duration, removing or changing
	// Rows (by cleanup key).
	RoutineDone Kind = "routine_done"
	// Result: the job is over (OK, Status, Applied, Error). The result on
	// the result pipe stays the authority; this one is for live consumers.
	Result Kind = "result"
)

// Event is one thing that happened to a product.
type Event struct {
	Kind Kind
	// Time is when the worker logged it; Decode sets it from the line's
	// @timestamp, Emit ignores it (hclog stamps the line).
	Time time.Time

	// Version, Description, Index and Total (1-based: file Index of Total)
	// describe a migration file.
	Version, Description string
	Index, Total         int

	// Routine names a cleanup routine ("remove unused files").
	Routine string
	// Rows counts what a routine removed or changed, by cleanup key. In a
	// routine_done line every integer field is one of these counts.
	Rows map[string]int64
	// RowKeys is the order in which Args writes Rows (cleanup's routine
	// order reads best); nil writes them sorted by key.
	RowKeys []string

	// Duration is how long a file or routine took, or a lock was waited for.
	Duration time.Duration
	// Timeout bounds a lock wait.
	Timeout time.Duration

	// OK, Status, Applied and Error are a result's.
	OK      bool
	Status  string
	Applied int
	Error   string
}

// Field keys of event lines (besides Key and the counts of Rows).
const (
	keyVersion     = "version"
	keyDescription = "description"
	keyIndex       = "index"
	keyTotal       = "total"
	keyRoutine     = "routine"
	keyDuration    = "duration"
	keyTimeout     = "timeout"
	keyOK          = "ok"
	keyStatus      = "status"
	keyApplied     = "applied"
	keyError       = "error"
)

// Args are e's key/value pairs for an hclog line: Key first, then the
// fields its kind carries, then extra (more words for the human reader; in
// a routine_done line they must not be integers).
func (e Event) Args(extra ...any) []any {
	args := []any{Key, string(e.Kind)}
	switch e.Kind {
	case LockWait:
		args = append(args, keyTimeout, e.Timeout.String())
	case LockAcquired:
		args = append(args, keyDuration, e.Duration.Round(time.Millisecond).String())
	case FileStarted:
		args = append(args, keyVersion, e.Version, keyDescription, e.Description, keyIndex, e.Index, keyTotal, e.Total)
	case FileApplied:
		args = append(args, keyVersion, e.Version, keyDescription, e.Description, keyIndex, e.Index, keyTotal, e.Total,
			keyDuration, e.Duration.Round(time.Millisecond).String())
	case RoutineStarted:
		args = append(args, keyRoutine, e.Routine)
	case RoutineDone:
		args = append(args, keyRoutine, e.Routine)
		keys := e.RowKeys
		if keys == nil {
			keys = slices.Sorted(maps.Keys(e.Rows))
		}
		for _, k := range keys {
			if n, ok := e.Rows[k]; ok {
				args = append(args, k, n)
			}
		}
		args = append(args, keyDuration, e.Duration.Round(time.Millisecond).String())
	case Result:
		args = append(args, keyOK, e.OK, keyStatus, e.Status, keyApplied, e.Applied)
		if e.Error != "" {
			args = append(args, keyError, e.Error)
		}
	}
	return append(args, extra...)
}

// Emit logs e as one line of log at level with the message msg.
func Emit(log hclog.Logger, level hclog.Level, msg string, e Event, extra ...any) {
	log.Log(level, msg, e.Args(extra...)...)
}

// Decode reads the event of one decoded hclog JSON line (its fields by key,
// as encoding/json gives them with UseNumber or as json.RawMessage), and
// reports whether the line was an event line. Unknown kinds decode too
// (Kind as given): a newer worker's events are passed on, not lost.
func Decode(at time.Time, fields map[string]json.RawMessage) (Event, bool) {
	kind, ok := str(fields[Key])
	if !ok || kind == "" {
		return Event{}, false
	}
	e := Event{Kind: Kind(kind), Time: at}
	e.Version, _ = str(fields[keyVersion])
	e.Description, _ = str(fields[keyDescription])
	e.Index = integer(fields[keyIndex])
	e.Total = integer(fields[keyTotal])
	e.Routine, _ = str(fields[keyRoutine])
	e.Duration = duration(fields[keyDuration])
	e.Timeout = duration(fields[keyTimeout])
	e.Status, _ = str(fields[keyStatus])
	e.Applied = integer(fields[keyApplied])
	e.Error, _ = str(fields[keyError])
	_ = json.Unmarshal(fields[keyOK], &e.OK)
	if e.Kind == RoutineDone {
		for k, raw := range fields {
			if k == keyIndex || k == keyTotal || k == keyApplied {
				continue
			}
			if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
				if e.Rows == nil {
					e.Rows = map[string]int64{}
				}
				e.Rows[k] = n
			}
		}
	}
	return e, true
}

func str(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// integer reads a JSON integer; 0 when raw is none.
func integer(raw json.RawMessage) int {
	n, _ := strconv.Atoi(string(raw))
	return n
}

// duration reads a duration written as Go's String ("1.5s"), or as a number
// of nanoseconds.
func duration(raw json.RawMessage) time.Duration {
	if s, ok := str(raw); ok {
		d, _ := time.ParseDuration(s)
		return d
	}
	n, _ := strconv.ParseInt(string(raw), 10, 64)
	return time.Duration(n)
}
