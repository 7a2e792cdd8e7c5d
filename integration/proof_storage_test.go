package integration

// Proof suite, storage faults under SQLite products: a full file system, a
// read-only database file, a read-only directory (no journal can be
// created), and a lock held past --lock-timeout. Each must fail its product
// with a one-line reason, leave the database as it was (the same bytes,
// integrity_check ok), let the other products finish, and a run after the
// fault is gone must complete. The file-system faults are made real with
// mounts (root bypasses permission bits), so these tests need root.

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"supervisor/integration/fleet"
	"supervisor/internal/pgtest"
	"supervisor/internal/testutil"
)

// proofStorageCase is one product under a storage fault.
type proofStorageCase struct {
	endpoint, path string
	tmpl           string // the file it was copied from
	action         string // "migrate" or "cleanup"
	bytes          []byte
}

// proofStorageRun runs action over the fault products and a healthy one and
// checks the outcome: each fault product failed with a reason matching want,
// its file unchanged and intact; the healthy product ok.
func proofStorageRun(pt *proofTrial, ws string, action string, cases []*proofStorageCase, healthy string, want *regexp.Regexp) {
	pt.Helper()
	args := []string{action}
	if action == "migrate" {
		args = append(args, "-y")
	} else {
		args = append(args, "--checker-labels", testutil.LabelsDir)
	}
	for _, c := range cases {
		if c.action == action {
			args = append(args, "--product", c.endpoint)
		}
	}
	args = append(args, "--product", healthy)
	res := supervisor(pt.T, ws, "", nil, args...)
	if res.code != 1 {
		pt.Errorf("%s: exit %d, want 1\n%s", action, res.code, res)
	}
	for _, c := range cases {
		if c.action != action {
			continue
		}
		reason := proofOneLineReason(pt.T, res, c.endpoint)
		pt.Logf("%s %s: %s", action, c.endpoint, reason)
		if !want.MatchString(reason) {
			pt.Errorf("%s %s: the reason %q does not match %s", action, c.endpoint, reason, want)
		}
		pt.data(func() {
			if got := proofFileBytes(pt.T, c.path); !bytes.Equal(got, c.bytes) {
				pt.lost("%s: the database file changed under a failed %s", c.endpoint, action)
			}
		})
	}
	if line := strings.TrimSpace(lastRow(res.stdout, healthy)); !strings.HasSuffix(line, "| ok") && !strings.HasSuffix(line, "| cleaned") {
		pt.Errorf("%s of the healthy product %s: %q\n%s", action, healthy, line, res)
	}
}

// proofIntactCopy checks a SQLite product file (on a copy: the original may be
// read-only): integrity, foreign keys, the whole version want.
func proofIntactCopy(pt *proofTrial, path, want string) {
	pt.Helper()
	pt.data(func() {
		db := openSQLite(pt.T, copySQLiteFiles(pt.T, path))
		defer db.Close()
		proofSQLiteIntact(pt, db, path)
		if v := proofRevisionsVersion(pt, db, path); v != want {
			pt.lost("%s at %s, want %s", path, v, want)
		}
	})
}

// proofFill writes a file in dir until the file system is full.
func proofFill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return path
			}
			t.Fatal(err)
		}
	}
}

func TestProofStorageFaults(t *testing.T) {
	proofRequireRoot(t)
	old := sqliteTemplateWith(t, 2000)
	ct := proofSQLiteCleanupTemplate(t, "sample")
	w := newWorkspace(t)
	// healthy registers a migrate and a cleanup product that nothing is
	// wrong with, for a run to finish beside the faulty ones.
	healthy := func(t *testing.T, prefix string) (string, string) {
		t.Helper()
		w.addSQLite(t, prefix+"-healthy-m", old)
		path := filepath.Join(w.Dir, prefix+"-healthy-c.sqlite")
		if err := fleet.CopySQLite(ct.path, path); err != nil {
			t.Fatal(err)
		}
		w.add(t, prefix+"-healthy-c", sqliteTarget(path), "")
		return prefix + "-healthy-m", prefix + "-healthy-c"
	}

	// newCases copies a migrate and a cleanup product into dir and registers
	// them as <prefix>-m and <prefix>-c.
	newCases := func(t *testing.T, prefix, dir, regDir string) []*proofStorageCase {
		t.Helper()
		var out []*proofStorageCase
		for _, c := range []struct{ suffix, tmpl, action string }{{"-m", old.path, "migrate"}, {"-c", ct.path, "cleanup"}} {
			e := prefix + c.suffix
			pc := &proofStorageCase{endpoint: e, tmpl: c.tmpl, action: c.action, path: filepath.Join(dir, e+".sqlite")}
			if err := fleet.CopySQLite(c.tmpl, pc.path); err != nil {
				t.Fatal(err)
			}
			pc.bytes = proofFileBytes(t, pc.path)
			if regDir != "" {
				pc.path = filepath.Join(regDir, e+".sqlite")
			}
			w.add(t, e, sqliteTarget(pc.path), "")
			out = append(out, pc)
		}
		return out
	}
	// finish runs both actions again once the fault is gone: they complete.
	finish := func(pt *proofTrial, cases []*proofStorageCase) {
		pt.Helper()
		for _, c := range cases {
			args := []string{c.action, "--product", c.endpoint}
			if c.action == "migrate" {
				args = append(args, "-y")
			} else {
				args = append(args, "--checker-labels", testutil.LabelsDir)
			}
			if r := supervisor(pt.T, w.Dir, "", nil, args...); r.code != 0 {
				pt.Errorf("%s once the fault is gone:\n%s", c.endpoint, r)
			}
		}
		proofIntactCopy(pt, cases[0].path, "002")
		pt.data(func() {
			db := openSQLite(pt.T, cases[1].path)
			defer db.Close()
			if got := proofSnapshot(pt.T, db, "sqlite"); !maps.Equal(got, ct.after) {
				pt.lost("%s after cleanup: %v, want %v", cases[1].endpoint, got, ct.after)
			}
		})
	}

	t.Run("full file system", func(t *testing.T) {
		p := proofScenario(t, "storage-full-fs")
		dir := filepath.Join(t.TempDir(), "full")
		os.Mkdir(dir, 0o755)
		var need int64
		for _, f := range []string{old.path, ct.path} {
			fi, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			need += fi.Size()
		}
		proofMount(t, "-t", "tmpfs", "-o", "size="+strconv.FormatInt(need+1<<20, 10), "tmpfs", dir)
		cases := newCases(t, "full", dir, "")
		filler := proofFill(t, dir)
		hm, hc := healthy(t, "full")
		p.trial(t, "full", func(pt *proofTrial) {
			proofStorageRun(pt, w.Dir, "migrate", cases, hm, regexp.MustCompile(`(?i)full`))
			proofStorageRun(pt, w.Dir, "cleanup", cases, hc, regexp.MustCompile(`(?i)full`))
			proofIntactCopy(pt, cases[0].path, "001")
			proofIntactCopy(pt, cases[1].path, "002")
			if err := os.Remove(filler); err != nil {
				pt.Fatal(err)
			}
			// Room for the rebuild now.
			proofRun(pt.T, "mount", "-o", "remount,size="+strconv.FormatInt(4*need+8<<20, 10), dir)
			finish(pt, cases)
		})
	})

	t.Run("read-only file", func(t *testing.T) {
		p := proofScenario(t, "storage-readonly-file")
		dir := filepath.Join(t.TempDir(), "rofile")
		os.Mkdir(dir, 0o755)
		cases := newCases(t, "rofile", dir, "")
		var unmounts []func()
		for _, c := range cases {
			unmounts = append(unmounts, proofReadOnlyBind(t, c.path, c.path))
		}
		hm, hc := healthy(t, "rofile")
		p.trial(t, "rofile", func(pt *proofTrial) {
			want := regexp.MustCompile(`(?i)read-?only`)
			proofStorageRun(pt, w.Dir, "migrate", cases, hm, want)
			proofStorageRun(pt, w.Dir, "cleanup", cases, hc, want)
			proofIntactCopy(pt, cases[0].path, "001")
			proofIntactCopy(pt, cases[1].path, "002")
			for _, u := range unmounts {
				u()
			}
			finish(pt, cases)
		})
	})

	t.Run("read-only directory", func(t *testing.T) {
		// The product files are writable, their directory is not: no
		// rollback journal can be created beside them.
		p := proofScenario(t, "storage-readonly-dir")
		base := t.TempDir()
		real, view := filepath.Join(base, "real"), filepath.Join(base, "view")
		os.Mkdir(real, 0o755)
		os.Mkdir(view, 0o755)
		cases := newCases(t, "rodir", real, view)
		proofReadOnlyBind(t, real, view)
		var unmounts []func()
		for _, c := range cases {
			unmounts = append(unmounts, proofMount(t, "--bind", filepath.Join(real, filepath.Base(c.path)), c.path))
		}
		hm, hc := healthy(t, "rodir")
		p.trial(t, "rodir", func(pt *proofTrial) {
			// The file itself is writable: prove the fault is the directory.
			f, err := os.OpenFile(cases[0].path, os.O_RDWR, 0)
			if err != nil {
				pt.Fatalf("the product file should be writable: %v", err)
			}
			f.Close()
			if err := os.WriteFile(filepath.Join(view, "probe"), nil, 0o644); !errors.Is(err, syscall.EROFS) {
				pt.Fatalf("the directory should be read-only: %v", err)
			}
			want := regexp.MustCompile(`(?i)unable to open|read-?only|journal|cannot`)
			proofStorageRun(pt, w.Dir, "migrate", cases, hm, want)
			proofStorageRun(pt, w.Dir, "cleanup", cases, hc, want)
			proofIntactCopy(pt, cases[0].path, "001")
			proofIntactCopy(pt, cases[1].path, "002")
			for _, u := range unmounts {
				u()
			}
			proofRun(pt.T, "mount", "-o", "remount,bind,rw", view)
			finish(pt, cases)
		})
	})

	t.Run("lock held past lock-timeout", func(t *testing.T) {
		p := proofScenario(t, "storage-lock-timeout")
		dir := t.TempDir()
		cases := newCases(t, "locked", dir, "")
		p.trial(t, "sqlite", func(pt *proofTrial) {
			var releases []func()
			for _, c := range cases {
				db := openSQLite(pt.T, c.path)
				conn, err := db.Conn(context.Background())
				if err != nil {
					pt.Fatal(err)
				}
				if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
					pt.Fatal(err)
				}
				releases = append(releases, func() {
					conn.ExecContext(context.Background(), "ROLLBACK")
					conn.Close()
					db.Close()
				})
			}
			// migrate names the timeout; cleanup says the database is locked.
			want := regexp.MustCompile(`timed out waiting for the \w+ lock \(1s\)|database is locked`)
			for _, action := range []string{"migrate", "cleanup"} {
				args := []string{action, "--lock-timeout", "1s", "--product", cases[0].endpoint, "--product", cases[1].endpoint}
				if action == "migrate" {
					args = append(args, "-y")
				} else {
					args = append(args, "--checker-labels", testutil.LabelsDir)
				}
				res := supervisor(pt.T, w.Dir, "", nil, args...)
				for _, c := range cases {
					if c.action != action {
						continue
					}
					reason := proofOneLineReason(pt.T, res, c.endpoint)
					pt.Logf("%s %s: %s", action, c.endpoint, reason)
					if !want.MatchString(reason) {
						pt.Errorf("%s %s: the reason %q does not match %s", action, c.endpoint, reason, want)
					}
				}
			}
			for _, rel := range releases {
				rel()
			}
			for _, c := range cases {
				pt.data(func() {
					if got := proofFileBytes(pt.T, c.path); !bytes.Equal(got, c.bytes) {
						pt.lost("%s: the database changed while another process held its lock", c.endpoint)
					}
				})
			}
			proofIntactCopy(pt, cases[0].path, "001")
			proofIntactCopy(pt, cases[1].path, "002")
			finish(pt, cases)
		})
		p.trial(t, "postgres", func(pt *proofTrial) {
			c := pgtest.Start(pt.T)
			pw := newWorkspace(pt.T)
			tg := pw.Postgres(pt.T, c, "pg", "pg", "001", 200, pgRole{}, ccPasswordEnv)
			env := []string{ccPasswordEnv + "=" + c.Password}
			counts := rowCounts(pt.T, tg)
			_, release := holdProductLock(pt.T, clusterTarget(c, "pg"))
			res := supervisor(pt.T, pw.Dir, "", env, "migrate", "-y", "--lock-timeout", "1s")
			reason := proofOneLineReason(pt.T, res, "pg")
			pt.Logf("migrate pg: %s", reason)
			if !strings.Contains(reason, "timed out waiting for the database lock (1s)") || strings.Contains(reason, "migrat") {
				pt.Errorf("reason %q", reason)
			}
			release()
			db := openDB(pt.T, tg)
			defer db.Close()
			pt.data(func() {
				if v := proofPGCheckWhole(pt, db, "pg", counts); v != "001" {
					pt.lost("at %s while the lock was held, want 001", v)
				}
			})
			if r := supervisor(pt.T, pw.Dir, "", env, "migrate", "-y"); r.code != 0 {
				pt.Errorf("once the lock is free:\n%s", r)
			}
		})
	})
}
