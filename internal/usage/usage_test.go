package usage_test

import (
	"errors"
	"fmt"
	"testing"

	"supervisor/internal/usage"
)

func TestIs(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{usage.Errorf("bad %s", "flag"), true},
		{fmt.Errorf("context: %w", usage.Errorf("bad")), true},
		{errors.New("bad"), false},
		{nil, false},
	} {
		if got := usage.Is(tt.err); got != tt.want {
			t.Errorf("Is(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if got := usage.Errorf("unknown product %q", "x").Error(); got != `unknown product "x"` {
		t.Errorf("message %q", got)
	}
}
