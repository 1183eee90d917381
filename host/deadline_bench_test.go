package host

import (
	"context"
	"testing"
	"time"
)

// BenchmarkDecideInterruptible compares a decision on a module compiled
// with and without wazero's WithCloseOnContextDone, which checks the
// context on every function entry and loop back-edge.
func BenchmarkDecideInterruptible(b *testing.B) {
	req := benchRequest()
	for _, on := range []bool{false, true} {
		name := "plain"
		if on {
			name = "close-on-done"
		}
		b.Run(name, func(b *testing.B) {
			e := benchEngine(b, WithPoolSize(1), func(c *config) { c.interrupt = on })
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			for b.Loop() {
				if _, err := e.Decide(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
