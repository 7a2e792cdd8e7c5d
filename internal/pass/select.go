package pass

import (
	"path"
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
