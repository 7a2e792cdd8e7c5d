package pass

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"supervisor/internal/registry"
	"supervisor/internal/usage"
)

// TestShardFlagValue: --shard takes i/n with n >= 1 and 0 <= i < n
// (numbered from 0, as JOB_COMPLETION_INDEX) and refuses everything else,
// leaving the value as it was; String gives back what Set took.
func TestShardFlagValue(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    Shard
		wantErr string // "" = accepted
	}{
		{in: "0/1", want: Shard{0, 1}},
		{in: "0/5", want: Shard{0, 5}},
		{in: "4/5", want: Shard{4, 5}},
		{in: "12/100", want: Shard{12, 100}},
		{in: "5/5", wantErr: "the shards of 5 are 0 to 4"},
		{in: "1/1", wantErr: "the shards of 1 are 0 to 0"},
		{in: "0/0", wantErr: "n must be at least 1"},
		{in: "-1/3", wantErr: "want i/n"},
		{in: "1/-3", wantErr: "want i/n"},
		{in: "+1/3", wantErr: "want i/n"},
		{in: "a/b", wantErr: "want i/n"},
		{in: "3", wantErr: "want i/n"},
		{in: "", wantErr: "want i/n"},
		{in: "/", wantErr: "want i/n"},
		{in: "1/", wantErr: "want i/n"},
		{in: "/3", wantErr: "want i/n"},
		{in: " 1/3", wantErr: "want i/n"},
		{in: "1/3/5", wantErr: "want i/n"},
		{in: "1.0/3", wantErr: "want i/n"},
		{in: "0x1/3", wantErr: "want i/n"},
		{in: "1/99999999999999999999", wantErr: "want i/n"},
	} {
		s := Shard{2, 7}
		err := s.Set(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Set(%q) = %v, want one line with %q", tt.in, err, tt.wantErr)
			}
			if s != (Shard{2, 7}) {
				t.Errorf("Set(%q) failed but changed the value to %+v", tt.in, s)
			}
			continue
		}
		if err != nil || s != tt.want {
			t.Errorf("Set(%q) = %+v, %v; want %+v", tt.in, s, err, tt.want)
		}
		if got := s.String(); got != tt.in {
			t.Errorf("String() after Set(%q) = %q", tt.in, got)
		}
	}
	var none Shard
	if got := none.String(); got != "" {
		t.Errorf("zero Shard String() = %q, want \"\" (no default in the help)", got)
	}
}

// TestShardHashIsPinned: the shard of an endpoint is part of the contract
// (README: Static shards): hosts running other binaries must agree on it.
// FNV-1a 64 of the endpoint's UTF-8 bytes, the spec's test vectors, then
// fixed endpoints -> fixed shards (worked out apart from this code). A
// change here moves products between the pods of a running Indexed Job.
func TestShardHashIsPinned(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint64
	}{
		{"", 0xcbf29ce484222325}, {"a", 0xaf63dc4c8601ec8c}, {"ab", 0x089c4407b545986a}, {"abc", 0xe71fa2190541574b},
		{"Default", 0x11326fd2590f4e5e}, {"produkt-ü", 0xeb6e4136002e26dc},
	} {
		if got := endpointHash(tt.in); got != tt.want {
			t.Errorf("endpointHash(%q) = %#x, want %#x (FNV-1a 64)", tt.in, got, tt.want)
		}
	}
	ns := []int{1, 2, 3, 4, 5, 7, 16}
	for _, tt := range []struct {
		endpoint string
		want     []int // the shard for each of ns
	}{
		{"Default", []int{0, 0, 1, 2, 4, 4, 14}},
		{"web", []int{0, 1, 1, 1, 1, 4, 1}},
		{"lib-core", []int{0, 0, 0, 0, 4, 0, 8}},
		{"Prod_42", []int{0, 1, 1, 3, 0, 5, 7}},
		{"x", []int{0, 1, 2, 3, 1, 3, 7}},
		{"produkt-ü", []int{0, 0, 0, 0, 3, 5, 12}},
	} {
		for i, n := range ns {
			if got := shardOf(tt.endpoint, n); got != tt.want[i] {
				t.Errorf("shardOf(%q, %d) = %d, want %d", tt.endpoint, n, got, tt.want[i])
			}
		}
	}
}

// fleetOf is n generated products in endpoint order, as the registry
// lists them.
func fleetOf(n int) []registry.Product {
	var es []string
	for i := range n {
		es = append(es, fmt.Sprintf("product-%03d", i))
	}
	slices.Sort(es)
	return products(es...)
}

// TestShardsPartitionTheSelection: for n = 1..5 the shards 0..n-1 of a
// selection hold every selected product exactly once, in endpoint order,
// and nothing else; and a product's shard does not depend on the selection
// (--product/--exclude first, then the shard, is the shard of the whole
// fleet cut down to the selection).
func TestShardsPartitionTheSelection(t *testing.T) {
	all := fleetOf(300)
	sel, err := selectProducts(all, []string{"product-[0-2]*"}, []string{"product-1[0-4]*"})
	if err != nil {
		t.Fatal(err)
	}
	selected := endpoints(sel.products)
	if len(selected) != 250 {
		t.Fatalf("selection holds %d products, want 250", len(selected))
	}
	if got := endpoints((Shard{}).take(sel.products)); !slices.Equal(got, selected) {
		t.Errorf("no shard keeps %d of the %d selected", len(got), len(selected))
	}
	for n := 1; n <= 5; n++ {
		seen := map[string]int{}
		for i := range n {
			got := endpoints(Shard{i, n}.take(sel.products))
			if !slices.IsSorted(got) {
				t.Errorf("shard %d/%d is not in endpoint order: %q", i, n, got)
			}
			// The selection's products in the whole fleet's shard i.
			var want []string
			for _, e := range endpoints(Shard{i, n}.take(all)) {
				if slices.Contains(selected, e) {
					want = append(want, e)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("shard %d/%d of the selection = %d products, want the %d of the fleet's shard that are selected", i, n, len(got), len(want))
			}
			if n > 1 && (len(got) == 0 || len(got) == len(selected)) {
				t.Errorf("shard %d/%d holds %d of %d products: the hash does not spread them", i, n, len(got), len(selected))
			}
			for _, e := range got {
				seen[e]++
			}
		}
		for _, e := range selected {
			if seen[e] != 1 {
				t.Errorf("n = %d: %s is in %d shards, want 1", n, e, seen[e])
			}
		}
		if len(seen) != len(selected) {
			t.Errorf("n = %d: the shards hold %d products, the selection %d", n, len(seen), len(selected))
		}
	}
}

// TestCanaryOutsideTheShardIsUsage: --canary names a selected product; with
// --shard, of the shard's, and the error says that a canary gates only its
// own shard.
func TestCanaryOutsideTheShardIsUsage(t *testing.T) {
	// Of 2 shards, Default is in 0 and web in 1 (TestShardHashIsPinned).
	sh := Shard{0, 2}
	f := &Fleet{opts: Options{Shard: sh, Rollout: Rollout{Canary: []string{"web"}}}, Products: sh.take(products("Default", "web"))}
	err := f.checkRollout()
	if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), "--canary web: not a selected product of shard 0/2") {
		t.Errorf("checkRollout = %v, want a usage error naming the shard", err)
	}
	f.opts.Canary = []string{"Default"}
	if err := f.checkRollout(); err != nil {
		t.Errorf("checkRollout with the shard's own canary = %v, want nil", err)
	}
}

// TestOpenShardAfterSelection: Open keeps of the --product/--exclude
// selection the shard's products and says so in the log; a shard that
// holds none of them is no error (a Kubernetes index may get none) and the
// log says there is nothing to do.
func TestOpenShardAfterSelection(t *testing.T) {
	ctx := context.Background()
	// Of 2 shards, Default and lib-core are in 0, web and x in 1
	// (TestShardHashIsPinned).
	for _, tt := range []struct {
		name     string
		selected []string
		shard    Shard
		want     []string
		wantLog  string
	}{
		{"whole fleet, shard 0", nil, Shard{0, 2}, []string{"Default", "lib-core"}, "working on the shard's products only"},
		{"whole fleet, shard 1", nil, Shard{1, 2}, []string{"web", "x"}, "working on the shard's products only"},
		{"selection first", []string{"[lw]*"}, Shard{1, 2}, []string{"web"}, "working on the shard's products only"},
		{"empty shard", []string{"web", "x"}, Shard{0, 2}, nil, "the shard holds none of the selected products: nothing to do"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts, buf := registryOptions(t, nil)
			for _, e := range []string{"Default", "lib-core", "web", "x"} {
				if err := AddProduct(ctx, opts, e, ProductSpec{SQLite: filepath.Join(t.TempDir(), e+".sqlite"), NoCheck: true}); err != nil {
					t.Fatal(err)
				}
			}
			opts.Selected, opts.Shard = tt.selected, tt.shard
			f, err := Open(ctx, opts, Setup{})
			if err != nil {
				t.Fatalf("Open = %v", err)
			}
			if got := endpoints(f.Products); !slices.Equal(got, tt.want) {
				t.Errorf("Open's products = %q, want %q", got, tt.want)
			}
			var msgs []string
			for _, l := range logLines(t, buf, "") {
				if l.str("shard") != "" {
					msgs = append(msgs, l.str("@message"))
					if l.str("shard") != tt.shard.String() {
						t.Errorf("log line %v: shard %q, want %q", l, l.str("shard"), tt.shard.String())
					}
				}
			}
			if !slices.Equal(msgs, []string{tt.wantLog}) {
				t.Errorf("shard log lines = %q, want [%q]", msgs, tt.wantLog)
			}
		})
	}
}
