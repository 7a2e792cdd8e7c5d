package registry

import (
	"fmt"
	"slices"
	"unicode/utf8"
)

// maxEndpointLen bounds an endpoint's length.
const maxEndpointLen = 100

// reservedEndpoints are the top-level paths the CodeChecker server keeps for
// itself (routing.py's NON_PRODUCT_ENDPOINTS): it refuses products there.
var reservedEndpoints = []string{
	"index.html", "images", "docs", "live", "ready",
	"Authentication", "Products", "CodeCheckerService", "Tasks",
}

// ValidateEndpoint reports whether e can name a product: 1 to 100 letters,
// digits, '_' and '-', and none of the paths CodeChecker's server reserves.
// The error wraps ErrInvalidEndpoint and says what is wrong.
func ValidateEndpoint(e string) error {
	if e == "" {
		return fmt.Errorf("%w %q: it is empty (use letters, digits, _ and -)", ErrInvalidEndpoint, e)
	}
	pos := 0
	for _, c := range e {
		pos++
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' {
			continue
		}
		return fmt.Errorf("%w %q: character %q at position %d is not allowed (use letters, digits, _ and -)",
			ErrInvalidEndpoint, e, c, pos)
	}
	if n := utf8.RuneCountInString(e); n > maxEndpointLen {
		return fmt.Errorf("%w %q: it is %d characters long, at most %d are allowed", ErrInvalidEndpoint, e, n, maxEndpointLen)
	}
	if slices.Contains(reservedEndpoints, e) {
		return fmt.Errorf("%w %q: the CodeChecker server reserves this path for itself", ErrInvalidEndpoint, e)
	}
	return nil
}
