package pass

import (
	"fmt"
	"hash/fnv"
	"path"
	"strconv"
	"strings"

	"supervisor/internal/registry"
)

// selection is what --product and --exclude leave of the registry, and the
// --exclude patterns that left nothing out (worth a debug line, no more: an
// exclude list kept in a script may name products long gone).
type selection struct {
	products []registry.Product
	unused   []string
}

// selectProducts keeps the products matching a --product pattern (all of
// them when there is none) and matching no --exclude pattern, in endpoint
// order. Patterns are path.Match globs (*, ?, [...], \ to quote); an
// endpoint holds no '/', so '*' matches any endpoint. A malformed pattern,
// and a --product pattern matching no product, is a usage error: a typo
// never widens to all, and never quietly narrows to none. Exclude wins
// over --product.
func selectProducts(all []registry.Product, selected, excluded []string) (selection, error) {
	for _, list := range []struct {
		flag     string
		patterns []string
	}{{"--product", selected}, {"--exclude", excluded}} {
		for _, p := range list.patterns {
			if _, err := path.Match(p, ""); err != nil {
				return selection{}, usagef("%s %q: malformed pattern (a glob: *, ?, [abc], [a-z], [^a], \\ quotes)", list.flag, p)
			}
		}
	}
	for _, p := range selected {
		if !matchesAny(all, p) {
			if isLiteral(p) {
				return selection{}, usagef("unknown product %q (see 'supervisor products list')", p)
			}
			return selection{}, usagef("--product %q matches no product (see 'supervisor products list')", p)
		}
	}
	var s selection
	for _, e := range excluded {
		if !matchesAny(all, e) {
			s.unused = append(s.unused, e)
		}
	}
	for _, p := range all {
		if (len(selected) == 0 || matches(selected, p.Endpoint)) && !matches(excluded, p.Endpoint) {
			s.products = append(s.products, p)
		}
	}
	return s, nil
}

// matches says whether endpoint matches one of patterns (all valid).
func matches(patterns []string, endpoint string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, endpoint); ok {
			return true
		}
	}
	return false
}

func matchesAny(all []registry.Product, pattern string) bool {
	for _, p := range all {
		if matches([]string{pattern}, p.Endpoint) {
			return true
		}
	}
	return false
}

// isLiteral says whether pattern is a plain endpoint, no glob: one that
// matches nothing is an unknown product, as before globs.
func isLiteral(pattern string) bool {
	return !strings.ContainsAny(pattern, `*?[\`)
}

// Shard is --shard i/n: of the selected products, only those whose endpoint
// falls in shard Index of Count (shardOf). Shards are numbered from 0, as
// Kubernetes numbers an Indexed Job's pods (JOB_COMPLETION_INDEX) and
// GitHub Actions its matrix jobs (strategy.job-index), so that
// --shard $JOB_COMPLETION_INDEX/N needs no arithmetic. The zero Shard
// (Count 0) is no shard: every selected product.
type Shard struct{ Index, Count int }

// ShardUsage is the help of --shard, the same in every command.
const ShardUsage = "work on shard `i/n` of the selected products only (after --product and --exclude): " +
	"those whose endpoint hashes to i (FNV-1a 64 mod n); 0 <= i < n, as JOB_COMPLETION_INDEX"

func (s *Shard) String() string {
	if s.Count == 0 {
		return ""
	}
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

// Set takes i/n: two decimal numbers, n >= 1 and 0 <= i < n. Anything else
// is refused (a flag error: exit 2, nothing touched), never rounded into a
// shard: "5/5" must not quietly become shard 0, nor "3" all products.
func (s *Shard) Set(v string) error {
	is, ns, ok := strings.Cut(v, "/")
	i, ierr := shardNumber(is)
	n, nerr := shardNumber(ns)
	switch {
	case !ok || ierr != nil || nerr != nil:
		return fmt.Errorf("want i/n, two whole numbers with 0 <= i < n (shards are numbered from 0)")
	case n < 1:
		return fmt.Errorf("n must be at least 1")
	case i >= n:
		return fmt.Errorf("i must be below n: the shards of %d are 0 to %d (numbered from 0, as JOB_COMPLETION_INDEX)", n, n-1)
	}
	*s = Shard{Index: i, Count: n}
	return nil
}

// shardNumber reads a number of decimal digits only: strconv.Atoi alone
// takes "+1" and "-0".
func shardNumber(s string) (int, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("not a whole number: %q", s)
	}
	return strconv.Atoi(s)
}

// Type names the value in the help.
func (s *Shard) Type() string { return "i/n" }

// shardOf is the shard, 0 to n-1, that endpoint falls in among n: the
// FNV-1a 64-bit hash of its UTF-8 bytes, mod n. It is part of the contract
// (README: Static shards): hosts with other binaries, Go versions or
// architectures must agree on it, so no seeded hash (hash/maphash) and
// nothing but the endpoint goes in. A product's shard depends on its
// endpoint and n alone, not on the other products, so adding or removing
// one moves no other product (in a shard of the same n).
func shardOf(endpoint string, n int) int {
	return int(endpointHash(endpoint) % uint64(n))
}

// endpointHash is FNV-1a 64 of endpoint's UTF-8 bytes (a Go string's bytes).
func endpointHash(endpoint string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(endpoint)) // never fails
	return h.Sum64()
}

// take keeps the products of products (the selection) in shard s, in their
// order; all of them when s is no shard.
func (s Shard) take(products []registry.Product) []registry.Product {
	if s.Count == 0 {
		return products
	}
	var in []registry.Product
	for _, p := range products {
		if shardOf(p.Endpoint, s.Count) == s.Index {
			in = append(in, p)
		}
	}
	return in
}

// logShard says what --shard left of the selected products. A shard that
// holds none is no error (exit 0): with more shards than products, or a
// small selection, a Kubernetes index may get none.
func (f *Fleet) logShard(selected int) {
	s := f.opts.Shard
	switch {
	case s.Count == 0:
	case len(f.Products) == 0:
		f.log.Info("the shard holds none of the selected products: nothing to do", "shard", s.String(), "selected", selected)
	default:
		f.log.Info("working on the shard's products only", "shard", s.String(), "products", len(f.Products), "selected", selected)
	}
}
