package host_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/connrules/connrules/host"
	"github.com/connrules/connrules/rules"
)

// slowPolicy's invite rule loops as long as the load-time bound allows:
// 99 x 99 x 99 iterations, just under rules.MaxIterations.
func slowPolicy() []byte {
	nums := make([]string, 99)
	for i := range nums {
		nums[i] = fmt.Sprint(i)
	}
	return []byte(`version: 1
messages: {generic: "Unable to connect."}
params: {l: [` + strings.Join(nums, ", ") + `]}
stages:
  invite:
    default: {outcome: allow}
    rules:
      - id: slow
        when: 'any(params.l, any(params.l, any(params.l, # < 0)))'
        outcome: deny
  deliver:
    default: {outcome: inbox}
  accept:
    default: {outcome: allow}
`)
}

// TestDeadlineHonoured: a decision that outlives its context returns at
// once with the context's error and a fail-closed decision; the call
// finishes in the background and its instance serves again. Before, the
// caller waited for the whole call whatever its deadline.
func TestDeadlineHonoured(t *testing.T) {
	ctx := context.Background()
	e, err := host.New(ctx, host.WithPoolSize(1))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	if err := e.Load(ctx, "slow.yaml", slowPolicy()); err != nil {
		t.Fatal(err)
	}
	req := blockedRequest(t)
	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	d, err := e.Decide(short, req)
	if !errors.Is(err, context.DeadlineExceeded) || d.Reason != rules.ReasonServiceUnavailable {
		t.Fatalf("got %+v, %v; want the deadline's error and service_unavailable", d, err)
	}
	short2, cancel2 := context.WithTimeout(ctx, time.Millisecond)
	defer cancel2()
	out, err := e.DecideJSON(short2, []byte(`{"stage":"invite","now":"2026-03-02T10:00:00Z","sender":{"id":"a","kind":"person","tier":"free","status":"active"},"recipient":{"id":"b","kind":"person","tier":"free","status":"active"}}`), false)
	if err == nil || !strings.Contains(string(out), "service_unavailable") {
		t.Fatalf("DecideJSON: %s, %v", out, err)
	}
	// The instance comes back when its call ends: the next call waits
	// for it (the pool holds one) and decides.
	d, err = e.Decide(ctx, req)
	if err != nil || d.Outcome != "allow" {
		t.Fatalf("after the deadline: %+v, %v", d, err)
	}
	if n := e.Instances(); n != 1 {
		t.Errorf("%d instances for a pool of 1", n)
	}
}
