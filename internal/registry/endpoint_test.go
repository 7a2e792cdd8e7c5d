package registry

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateEndpoint(t *testing.T) {
	valid := []string{"Default", "a", "my_product-2", "9lives", "all", strings.Repeat("x", 100)}
	for _, e := range valid {
		if err := ValidateEndpoint(e); err != nil {
			t.Errorf("ValidateEndpoint(%q) = %v, want nil", e, err)
		}
	}
	invalid := []struct {
		endpoint string
		want     string // the whole message, or a part of it
	}{
		{"a b", `invalid endpoint "a b": character ' ' at position 2 is not allowed (use letters, digits, _ and -)`},
		{"", `invalid endpoint "": it is empty`},
		{"a/b", `character '/' at position 2`},
		{"x.y", `character '.' at position 2`},
		{"äb", `character 'ä' at position 1`},
		{"ab\t", `character '\t' at position 3`},
		{strings.Repeat("x", 101), "it is 101 characters long, at most 100 are allowed"},
		{"docs", "reserves this path"},
		{"Products", "reserves this path"},
	}
	for _, tt := range invalid {
		err := ValidateEndpoint(tt.endpoint)
		if err == nil {
			t.Errorf("ValidateEndpoint(%q) = nil, want an error containing %q", tt.endpoint, tt.want)
			continue
		}
		if !errors.Is(err, ErrInvalidEndpoint) {
			t.Errorf("ValidateEndpoint(%q) = %v, does not wrap ErrInvalidEndpoint", tt.endpoint, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ValidateEndpoint(%q) = %q, want it to contain %q", tt.endpoint, err, tt.want)
		}
	}
}
