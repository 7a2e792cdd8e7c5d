package job_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/job"
	"supervisor/internal/labels"
)

// The supervisor writes a spec with EncodeSpec (supervise/worker.go) and
// the worker reads it with ReadSpec: every field, the secret and the
// durations included, must come through unchanged.
func TestSpecRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		spec job.Spec
	}{
		{"sqlite migrate", job.Spec{
			Action:   job.ActionMigrate,
			Endpoint: "Default",
			Target:   dbconn.Target{Dialect: "sqlite", Path: "/ws/Default.sqlite"},
			Options:  job.Options{LockTimeout: 1500 * time.Millisecond, BackupDir: "/backups", ToVersion: "001"},
		}},
		{"postgres cleanup with a password", job.Spec{
			Action:   job.ActionCleanup,
			Endpoint: "libacme",
			Target: dbconn.Target{Dialect: "postgres", Host: "db.example", Port: 5433, User: "cc",
				Database: "acme", Password: `p@ss w"ord\` + "\n"},
			Options: job.Options{LockTimeout: 30 * time.Second, ConnectTimeout: 250 * time.Millisecond,
				CheckerLabels: "/labels"},
		}},
		{"zero options", job.Spec{Action: job.ActionMigrate, Endpoint: "x", Target: dbconn.Target{Dialect: "sqlite", Path: "x.sqlite"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			got, err := job.ReadSpec(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("ReadSpec(%s) = %v", b, err)
			}
			if !reflect.DeepEqual(got, tt.spec) {
				t.Errorf("ReadSpec(Marshal(spec)) = %+v, want %+v", got, tt.spec)
			}
		})
	}
}

// ReadSpec accepts the documented wire names; durations are nanoseconds.
func TestReadSpecWireFormat(t *testing.T) {
	in := `{"action":"cleanup","endpoint":"e1","target":{"dialect":"postgres","host":"h","port":5432,"user":"u","database":"d","password":"s3cret"},` +
		`"options":{"lock_timeout":2000000000,"connect_timeout":1000000000,"backup_dir":"/b","checker_labels":"/l"}}`
	got, err := job.ReadSpec(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := job.Spec{
		Action: job.ActionCleanup, Endpoint: "e1",
		Target:  dbconn.Target{Dialect: "postgres", Host: "h", Port: 5432, User: "u", Database: "d", Password: "s3cret"},
		Options: job.Options{LockTimeout: 2 * time.Second, ConnectTimeout: time.Second, BackupDir: "/b", CheckerLabels: "/l"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadSpec = %+v, want %+v", got, want)
	}
}

func TestReadSpecRejects(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"whitespace only", " \n\t", "read job spec"},
		{"garbage", "this is not JSON", "read job spec"},
		{"binary", "\x00\x01\x02\xff", "read job spec"},
		{"truncated", `{"action":"migrate","endpoint":"e"`, "read job spec"},
		{"wrong type", `{"action":"migrate","endpoint":"e","target":{"port":"5432"}}`, "read job spec"},
		{"not an object", `["migrate","e"]`, "read job spec"},
		{"no action", `{"endpoint":"e","target":{"dialect":"sqlite","path":"p"}}`, "action and endpoint are required"},
		{"no endpoint", `{"action":"migrate","target":{"dialect":"sqlite","path":"p"}}`, "action and endpoint are required"},
		{"empty object", `{}`, "action and endpoint are required"},
		{"null", `null`, "action and endpoint are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := job.ReadSpec(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("ReadSpec(%q) = %+v, nil; want an error", tt.in, got)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ReadSpec(%q) error = %q, want it to contain %q", tt.in, err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, job.Spec{}) {
				t.Errorf("ReadSpec(%q) returned %+v with its error, want the zero Spec", tt.in, got)
			}
		})
	}
}

// No input at all is io.EOF, which worker.Serve answers with its usage
// text (a worker started by hand with nothing on stdin).
func TestReadSpecEmptyIsEOF(t *testing.T) {
	for _, in := range []string{"", "\n  \n"} {
		_, err := job.ReadSpec(strings.NewReader(in))
		if !errors.Is(err, io.EOF) {
			t.Errorf("ReadSpec(%q) = %v, want an error wrapping io.EOF", in, err)
		}
	}
	// A spec cut short is not "no input".
	_, err := job.ReadSpec(strings.NewReader(`{"action":"migrate"`))
	if err == nil || errors.Is(err, io.EOF) {
		t.Errorf("ReadSpec(truncated) = %v, want an error other than io.EOF", err)
	}
}

// A spec that failed validation must not leak its password through the
// error message (errors end up in logs).
func TestReadSpecErrorHidesPassword(t *testing.T) {
	in := `{"action":"","endpoint":"e","target":{"dialect":"postgres","password":"hunter2"}}`
	_, err := job.ReadSpec(strings.NewReader(in))
	if err == nil {
		t.Fatal("ReadSpec accepted a spec without action")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("ReadSpec error = %q, holds the password", err)
	}
}

func TestWriteResultRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		res  job.Result
	}{
		{"migrate ok", job.Result{Endpoint: "Default", OK: true, Status: "ok", FromVersion: "001", ToVersion: "002",
			Applied: 1, Duration: 1234567 * time.Microsecond}},
		{"cleanup ok", job.Result{Endpoint: "libacme", OK: true, Status: "ok", FromVersion: "002", ToVersion: "002",
			Removed: map[string]int64{"files": 3, "comments": 0, "severities": 1 << 40}, Duration: time.Nanosecond}},
		{"failed", job.Result{Endpoint: "x", Status: "schema_upgrade_failed", Error: "apply 002: boom\n(second line)"}},
		{"zero", job.Result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := job.WriteResult(&buf, tt.res); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
				t.Errorf("WriteResult wrote %q, want exactly one line ending in a newline", out)
			}
			var got job.Result
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("decode %q: %v", out, err)
			}
			if !reflect.DeepEqual(got, tt.res) {
				t.Errorf("decoded result = %+v, want %+v", got, tt.res)
			}
		})
	}
}

// The duration is always written (the supervisor reports it), in nanoseconds.
func TestWriteResultWireFormat(t *testing.T) {
	var buf bytes.Buffer
	if err := job.WriteResult(&buf, job.Result{Endpoint: "e", OK: true, Duration: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if got, want := m["duration"], float64(2e9); got != want {
		t.Errorf("duration on the wire = %v, want %v", got, want)
	}
	if got := m["ok"]; got != true {
		t.Errorf("ok on the wire = %v, want true", got)
	}
	for _, k := range []string{"error", "removed", "applied", "status"} {
		if _, ok := m[k]; ok {
			t.Errorf("result %s has %q, want it omitted when empty", buf.String(), k)
		}
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriteResultReportsWriteError(t *testing.T) {
	want := errors.New("broken pipe")
	if err := job.WriteResult(failingWriter{want}, job.Result{Endpoint: "e"}); !errors.Is(err, want) {
		t.Errorf("WriteResult to a failing writer = %v, want %v", err, want)
	}
}

// Only packaged versions compare: a CodeChecker revision (an adoption
// candidate) and no version at all are below every target.
func TestAtOrPastComparesPackagedVersionsOnly(t *testing.T) {
	tests := []struct {
		version, target string
		want            bool
	}{
		{"001", "001", true},
		{"002", "001", true},
		{"001", "002", false},
		{"", "001", false},
		{"b1be74589382 (CodeChecker)", "001", false},
		{"b1be74589382", "002", false},
	}
	for _, tt := range tests {
		if got := job.AtOrPast(tt.version, tt.target); got != tt.want {
			t.Errorf("AtOrPast(%q, %q) = %v, want %v", tt.version, tt.target, got, tt.want)
		}
	}
}

// EncodeSpec splices the digest's kept encoding into the spec: what it
// writes must decode as json.Marshal's encoding does, and back to the spec.
func TestEncodeSpecIsMarshal(t *testing.T) {
	digest := labels.Digest{"clang-tidy": {{Key: "bugprone", Severity: "HIGH", HasSeverity: true}, {Key: "misc"}}}
	target := dbconn.Target{Dialect: dbconn.SQLite, Path: "/srv/a.sqlite"}
	for _, spec := range []job.Spec{
		{Action: job.ActionMigrate, Endpoint: "a", Target: target},
		{Action: job.ActionCleanup, Endpoint: "a", Target: target, Options: job.Options{SeverityLabels: digest}},
		{Action: job.ActionCleanup, Endpoint: "a\"}}", Target: target, Options: job.Options{LockTimeout: time.Second, DryRun: true, SeverityLabels: digest, ToVersion: "002"}},
		{Action: job.ActionCleanup, Endpoint: "a", Target: target, Options: job.Options{CheckerLabels: "/labels", SeverityLabels: labels.Digest{}}},
	} {
		got, err := job.EncodeSpec(spec)
		if err != nil {
			t.Fatalf("EncodeSpec(%+v): %v", spec, err)
		}
		want, err := json.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("EncodeSpec wrote %s: %v", got, err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("EncodeSpec wrote %s; json.Marshal %s", got, want)
		}
		back, err := job.ReadSpec(bytes.NewReader(got))
		if err != nil {
			t.Fatal(err)
		}
		wantBack, err := job.ReadSpec(bytes.NewReader(want))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, wantBack) {
			t.Errorf("EncodeSpec then ReadSpec = %+v; want %+v", back, wantBack)
		}
	}
}
