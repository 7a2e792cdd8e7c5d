package cli

import (
	"context"
	"errors"
)

func runCleanup(ctx context.Context, g *globals, args []string) error {
	return errors.New("cleanup: not built yet")
}

func runUp(ctx context.Context, g *globals, args []string) error {
	return errors.New("up: not built yet")
}
