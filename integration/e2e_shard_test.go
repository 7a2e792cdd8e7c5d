package integration

// End-to-end tests of static shards (--shard i/n): the shards of one n
// split a fleet among hosts with no shared database (Kubernetes Indexed
// Jobs, CI matrices), each product in exactly one of them.

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// shardFleet are the endpoints of the fleet under test: five whose shards
// the README and internal/pass pin, and seven more.
var shardFleet = []string{"Default", "Prod_42", "lib-core", "team-01", "team-02", "team-03", "team-04",
	"team-05", "team-06", "team-07", "web", "x"}

// TestE2EShardsCoverTheFleetOnce: for n = 1..5, status --shard i/n over
// i = 0..n-1 lists every product exactly once, in endpoint order, and the
// pinned endpoints fall where the contract says; migrate -y --shard i/3
// upgrades its shard's products and no other, and the three shards
// together the whole fleet. A shard that holds no product exits 0 with a
// log line saying there is nothing to do.
func TestE2EShardsCoverTheFleetOnce(t *testing.T) {
	w, ps := fleetOf(t, shardFleet...)
	// Of 5 shards (internal/pass TestShardHashIsPinned, README).
	pinned := map[string]int{"Default": 4, "web": 1, "lib-core": 4, "Prod_42": 0, "x": 1}
	shards := map[int][][]string{} // n -> the endpoints of each shard
	for n := 1; n <= 5; n++ {
		seen := map[string]int{}
		for i := range n {
			r := supervisor(t, w.Dir, "", nil, "status", "--json", "--shard", fmt.Sprintf("%d/%d", i, n))
			var got []string
			for _, row := range statusJSON(t, r) {
				got = append(got, row.Endpoint)
				seen[row.Endpoint]++
			}
			// Every product is at 001: a shard with products exits 1
			// (upgradable), one with none 0.
			if want := min(len(got), 1); r.code != want {
				t.Errorf("status --shard %d/%d: exit %d with %d products, want %d\n%s", i, n, r.code, len(got), want, r)
			}
			if !slices.IsSorted(got) {
				t.Errorf("status --shard %d/%d: %q not in endpoint order", i, n, got)
			}
			if n == 5 {
				for e, s := range pinned {
					if slices.Contains(got, e) != (s == i) {
						t.Errorf("status --shard %d/5 lists %q: %v; the contract puts %s in shard %d", i, got, !(s == i), e, s)
					}
				}
			}
			shards[n] = append(shards[n], got)
		}
		for _, e := range shardFleet {
			if seen[e] != 1 {
				t.Errorf("n = %d: %s listed by %d shards, want 1", n, e, seen[e])
			}
		}
		if len(seen) != len(shardFleet) {
			t.Errorf("n = %d: the shards list %q, want the fleet %q", n, slices.Sorted(maps.Keys(seen)), shardFleet)
		}
	}

	// --product first, then the shard: web is in shard 1 of 2 (pinned), so
	// shard 0 of "--product web" is empty, which is no error.
	for _, args := range [][]string{{"status", "--json"}, {"migrate", "-y"}} {
		r := supervisor(t, w.Dir, "", nil, append(args, "--product", "web", "--shard", "0/2")...)
		if r.code != 0 || !strings.Contains(r.stderr, "the shard holds none of the selected products: nothing to do") {
			t.Errorf("%v --product web --shard 0/2: exit %d, want 0 and the nothing-to-do line\n%s", args, r.code, r)
		}
	}
	if got := upgraded(t, ps); len(got) != 0 {
		t.Fatalf("an empty shard upgraded %q", got)
	}

	var done []string
	for i, want := range shards[3] {
		r := supervisor(t, w.Dir, "", nil, "migrate", "-y", "-j", "2", "--shard", fmt.Sprintf("%d/3", i))
		if r.code != 0 {
			t.Fatalf("migrate -y --shard %d/3: exit %d, want 0\n%s", i, r.code, r)
		}
		done = append(done, want...)
		slices.Sort(done)
		if got := upgraded(t, ps); !slices.Equal(got, done) {
			t.Errorf("after migrate --shard %d/3 upgraded %q, want the shards so far %q\n%s", i, got, done, r)
		}
		for _, e := range want {
			if cell, _ := outcomeOf(r.stdout, e); cell != "ok" {
				t.Errorf("migrate --shard %d/3: %s outcome %q, want ok\n%s", i, e, cell, r)
			}
		}
	}
	if !slices.Equal(done, shardFleet) {
		t.Errorf("the 3 shards migrated %q, want the fleet %q", done, shardFleet)
	}
}

// TestE2EBadShardTouchesNothing: a --shard that names no shard of n, or is
// no i/n at all, is bad usage (exit 2) in one line before anything is
// read or written: no product database and no config database changes,
// stdout stays empty.
func TestE2EBadShardTouchesNothing(t *testing.T) {
	w, ps := fleetOf(t, "Default", "web", "x")
	files := []string{filepath.Join(w.Dir, "config.sqlite")}
	for _, tg := range ps {
		files = append(files, tg.Path)
	}
	before := map[string]fileState{}
	for _, f := range files {
		before[f] = fileStateOf(t, f)
	}
	for _, tt := range []struct{ cmd, shard string }{
		{"migrate -y", "5/5"}, {"migrate -y", "0/0"}, {"migrate -y", "-1/3"}, {"migrate -y", "a/b"}, {"migrate -y", "3"},
		{"up -y", "5/5"}, {"cleanup", "3"}, {"status", "1/1"},
	} {
		args := append(strings.Fields(tt.cmd), "--shard", tt.shard)
		r := supervisor(t, w.Dir, "", nil, args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 2 || r.stdout != "" || len(lines) != 1 || !strings.Contains(lines[0], `for "--shard" flag`) {
			t.Errorf("%v: exit %d, %d stderr lines; want 2, nothing on stdout and one line about --shard\n%s", args, r.code, len(lines), r)
		}
	}
	for _, f := range files {
		if got := fileStateOf(t, f); got != before[f] {
			t.Errorf("a refused --shard changed %s", f)
		}
	}
}
