package replay

import (
	"context"
	"io"
)

// Simulate re-runs the recorded actions through the lifecycle on a fresh
// store under opts.Policy.
func Simulate(ctx context.Context, r io.Reader, opts Options) (*Report, error) {
	return nil, nil
}
