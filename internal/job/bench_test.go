package job_test

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
	"time"

	"supervisor/internal/dbconn"
	"supervisor/internal/job"
	"supervisor/internal/labels"
	"supervisor/internal/testutil"
)

// cleanupSpec is the spec the supervisor writes for a cleanup worker, with
// the severity digest of the project's label set: the largest spec there is.
func cleanupSpec(b *testing.B) job.Spec {
	b.Helper()
	l, err := labels.Load(testutil.LabelsDir)
	if err != nil {
		b.Fatal(err)
	}
	return job.Spec{
		Action:   job.ActionCleanup,
		Endpoint: "libacme",
		Target:   dbconn.Target{Dialect: dbconn.Postgres, Host: "db.example", Port: 5432, User: "cc", Password: "secret", Database: "libacme"},
		Options:  job.Options{LockTimeout: 10 * time.Second, SeverityLabels: l.Digest()},
	}
}

// BenchmarkSpecEncode is the supervisor's side of a job hand-over: the spec
// encoded for the worker's stdin (as supervise does, job.EncodeSpec), once
// per worker.
func BenchmarkSpecEncode(b *testing.B) {
	spec := cleanupSpec(b)
	var n int
	for b.Loop() {
		p, err := job.EncodeSpec(spec)
		if err != nil {
			b.Fatal(err)
		}
		n = len(p)
	}
	b.ReportMetric(float64(n), "spec-bytes")
}

// BenchmarkReadSpec is the worker's side: the spec decoded from stdin.
func BenchmarkReadSpec(b *testing.B) {
	p, err := json.Marshal(cleanupSpec(b))
	if err != nil {
		b.Fatal(err)
	}
	r := bytes.NewReader(p)
	for b.Loop() {
		r.Reset(p)
		if _, err := job.ReadSpec(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteResult is a cleanup worker's result record on fd 3.
func BenchmarkWriteResult(b *testing.B) {
	res := job.Result{Endpoint: "libacme", OK: true, Status: "ok", FromVersion: "002", ToVersion: "002", Duration: 12 * time.Millisecond,
		Removed: map[string]int64{"files": 12, "file_contents": 30, "comments": 2, "report_annotations": 0, "severity_changed": 4}}
	for b.Loop() {
		if err := job.WriteResult(io.Discard, res); err != nil {
			b.Fatal(err)
		}
	}
}
