package host_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/connrules/connrules/host"
)

// TestCrashingCallerDoesNotStarveOthers: a caller whose every call kills
// its instance (here a trap, as an out-of-memory request would) makes the
// engine rebuild in the background, rate-limited; the other callers keep
// deciding on the instances left and never build one themselves. Before,
// the next caller to find a free slot rebuilt the instance and compiled
// the policy on its own time, so half the requests crashing cut
// everyone's throughput to the rebuild rate.
func TestCrashingCallerDoesNotStarveOthers(t *testing.T) {
	ctx := context.Background()
	e := defaultEngine(t, host.WithPoolSize(3))
	req := blockedRequest(t)
	want, err := e.Decide(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	const crashes = 40
	var good, bad atomic.Int64
	done := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				d, err := e.Decide(ctx, req)
				if err != nil || string(d.JSON()) != string(want.JSON()) {
					bad.Add(1)
				}
				good.Add(1)
			}
		}()
	}
	for range crashes {
		if err := e.Fault(ctx, 1); err == nil {
			t.Fatal("the trap did not fail the call")
		}
	}
	close(done)
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d of %d decisions of the other callers failed", bad.Load(), good.Load())
	}
	// Callers make instances only to fill the pool, never to replace one.
	if n := e.BuiltByCallers(); n > 3 {
		t.Errorf("callers built %d instances themselves for a pool of 3 after %d crashes; the rebuilder should have", n, crashes)
	}
	if e.Instances() > 3 {
		t.Errorf("%d instances for a pool of 3", e.Instances())
	}
}
