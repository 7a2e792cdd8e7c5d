package integration

// End-to-end tests of the operator's choices at fleet scale: the a(ll) and
// q(uit) answers to migrate's questions, and --product globs with
// --exclude.

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"supervisor/internal/dbconn"
)

const fleetChoices = " Y(es)/n(o)/a(ll)/q(uit) [n] "

// fleetOf makes and registers one SQLite product at 001 per endpoint, with
// no reports (the answers are under test, not the migration), and closes
// the workspace.
func fleetOf(t *testing.T, endpoints ...string) (*testWorkspace, map[string]dbconn.Target) {
	t.Helper()
	w := newWorkspace(t)
	products := map[string]dbconn.Target{}
	for _, e := range endpoints {
		products[e] = w.SQLite(t, e, "001", 0)
	}
	w.Close()
	return w, products
}

// upgraded lists, in endpoint order, the products of ps at the packaged
// version.
func upgraded(t *testing.T, ps map[string]dbconn.Target) []string {
	t.Helper()
	latest := latestVersion(t, "sqlite")
	var out []string
	for e, tg := range ps {
		if lastRevision(t, tg) == latest {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return out
}

// TestE2EAnswerAllAndQuit: "y", then "a" upgrades the first product and
// every one after the "a" without reading another answer; "y", then "q"
// upgrades the first and none after it, whatever the lines after the "q"
// say. Every question is still shown once, in endpoint order, with what
// answered it.
func TestE2EAnswerAllAndQuit(t *testing.T) {
	t.Run("all", func(t *testing.T) {
		w, ps := fleetOf(t, "p1", "p2", "p3", "p4")
		r := supervisor(t, w.Dir, "y\na\n", nil, "migrate", "-j", "2")
		if r.code != 0 {
			t.Fatalf("migrate answered y, a: exit %d, want 0\n%s", r.code, r)
		}
		if got, want := upgraded(t, ps), []string{"p1", "p2", "p3", "p4"}; !slices.Equal(got, want) {
			t.Errorf("upgraded %q, want %q\n%s", got, want, r)
		}
		wantQuestions(t, r.stdout, []string{"p1", "y"}, []string{"p2", "a"}, []string{"p3", "y (all)"}, []string{"p4", "y (all)"})
		for _, e := range []string{"p1", "p2", "p3", "p4"} {
			if cell, _ := outcomeOf(r.stdout, e); cell != "ok" {
				t.Errorf("%s: outcome %q, want ok\n%s", e, cell, r)
			}
		}
	})
	t.Run("quit", func(t *testing.T) {
		w, ps := fleetOf(t, "p1", "p2", "p3", "p4")
		untouched := map[string]fileState{}
		for _, e := range []string{"p2", "p3", "p4"} {
			untouched[e] = fileStateOf(t, ps[e].Path)
		}
		r := supervisor(t, w.Dir, "y\nq\ny\ny\n", nil, "migrate", "-j", "2")
		if r.code != 1 {
			t.Fatalf("migrate answered y, q: exit %d, want 1 (products left behind)\n%s", r.code, r)
		}
		if got, want := upgraded(t, ps), []string{"p1"}; !slices.Equal(got, want) {
			t.Errorf("upgraded %q, want %q: none after the q\n%s", got, want, r)
		}
		for e, st := range untouched {
			if fileStateOf(t, ps[e].Path) != st {
				t.Errorf("%s changed after the q", e)
			}
			if cell, _ := outcomeOf(r.stdout, e); cell != "declined" {
				t.Errorf("%s: outcome %q, want declined\n%s", e, cell, r)
			}
		}
		wantQuestions(t, r.stdout, []string{"p1", "y"}, []string{"p2", "q"}, []string{"p3", "n (quit)"}, []string{"p4", "n (quit)"})
	})
}

// wantQuestions checks that out asks about each product once, in the order
// given, each question followed by its answer (endpoint, answer pairs).
func wantQuestions(t *testing.T, out string, pairs ...[]string) {
	t.Helper()
	last := -1
	for _, p := range pairs {
		q := "Do you want to upgrade '" + p[0] + "' to new schema?" + fleetChoices
		if n := strings.Count(out, q); n != 1 {
			t.Errorf("%q asked %d times, want once\n%s", q, n, out)
		}
		i := strings.Index(out, q+p[1]+"\n")
		if i < 0 || i < last {
			t.Errorf("want %q answered %q, after the question before it\n%s", q, p[1], out)
		}
		last = i
	}
}

// TestE2EProductGlobsAndExclude: --product 'a*' --exclude ab works on a and
// abc alone, in endpoint order, and leaves every other file as it was; a
// glob matching no product, and a malformed one, is bad usage (exit 2)
// before anything is touched, whereas an --exclude matching nothing is fine
// (a debug line says so).
func TestE2EProductGlobsAndExclude(t *testing.T) {
	w, ps := fleetOf(t, "a", "ab", "abc", "b", "ba")
	config := filepath.Join(w.Dir, "config.sqlite")
	start := map[string]fileState{"config": fileStateOf(t, config)}
	for e, tg := range ps {
		start[e] = fileStateOf(t, tg.Path)
	}
	unchanged := func(t *testing.T, what string, except ...string) {
		t.Helper()
		if fileStateOf(t, config) != start["config"] {
			t.Errorf("%s: the config database changed", what)
		}
		for e, tg := range ps {
			if !slices.Contains(except, e) && fileStateOf(t, tg.Path) != start[e] {
				t.Errorf("%s: %s changed", what, e)
			}
		}
	}

	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--product", "z*"}, `--product "z*" matches no product`},
		{[]string{"--product", "a*", "--product", "c?"}, `--product "c?" matches no product`},
		{[]string{"--product", "nope"}, `unknown product "nope"`},
		{[]string{"--product", "a["}, `--product "a[": malformed pattern`},
		{[]string{"--exclude", "[b"}, `--exclude "[b": malformed pattern`},
	} {
		r := supervisor(t, w.Dir, "", nil, append([]string{"migrate", "-y"}, tt.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.wantErr) || strings.Contains(r.stdout, "Do you want") {
			t.Errorf("migrate %q: want exit 2 saying %q, before any question\n%s", tt.args, tt.wantErr, r)
		}
		unchanged(t, strings.Join(tt.args, " "))
	}

	// status: the same selection, read-only, in endpoint order whatever
	// the order of the patterns.
	r := supervisor(t, w.Dir, "", nil, "--log-level", "debug", "status", "--product", "b*", "--product", "a", "--exclude", "nothing-*")
	if _, order := statusTable(t, r); !slices.Equal(order, []string{"a", "b", "ba"}) {
		t.Errorf("status --product 'b*' --product a: rows %q, want [a b ba]\n%s", order, r)
	}
	// An --exclude matching nothing is worth a debug line, no more.
	if !strings.Contains(r.stderr, "--exclude matches no product") || !strings.Contains(r.stderr, "nothing-*") {
		t.Errorf("status --exclude 'nothing-*' --log-level debug: want a debug line naming the pattern\n%s", r)
	}
	if r.code != 1 {
		t.Errorf("status of products at 001: exit %d, want 1\n%s", r.code, r)
	}

	r = supervisor(t, w.Dir, "", nil, "migrate", "-y", "--product", "a*", "--exclude", "ab")
	if r.code != 0 {
		t.Fatalf("migrate --product 'a*' --exclude ab: exit %d, want 0\n%s", r.code, r)
	}
	if got, want := upgraded(t, ps), []string{"a", "abc"}; !slices.Equal(got, want) {
		t.Errorf("upgraded %q, want %q\n%s", got, want, r)
	}
	unchanged(t, "migrate --product 'a*' --exclude ab", "a", "abc")
	if n := strings.Count(r.stdout, "Do you want"); n != 2 {
		t.Errorf("%d questions, want 2 (a and abc)\n%s", n, r)
	}
	if i, j := strings.Index(r.stdout, "'a' to new schema?"), strings.Index(r.stdout, "'abc' to new schema?"); i < 0 || j < i {
		t.Errorf("want the questions about a, then abc\n%s", r)
	}
	_, _, summary := e2eMigrateTables(t, r)
	if len(summary) != 2 || summary["a"] == nil || summary["abc"] == nil {
		t.Errorf("summary rows %v, want a and abc\n%s", summary, r)
	}
}
