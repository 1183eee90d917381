package host

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
)

// BenchmarkDecideDeadline weighs three ways of deciding: a context that
// cannot end (no deadline to honour), a context with a deadline (the call
// runs on a goroutine so that the caller can leave when it ends), and a
// module compiled with wazero's WithCloseOnContextDone (which checks on
// every function entry and loop back-edge; measured with a context that
// cannot end, so without its per-call watcher). The engines take turns,
// decision by decision, so that load from elsewhere on the machine weighs
// on all alike; the metrics are each one's mean and the ratios to the first.
func BenchmarkDecideDeadline(b *testing.B) {
	req := benchRequest()
	plain := benchEngine(b, WithPoolSize(1))
	closing := benchEngine(b, WithPoolSize(1), func(c *config) { c.interrupt = true })
	bg := context.Background()
	dl, cancel := context.WithTimeout(bg, time.Hour)
	defer cancel()
	modes := []struct {
		e   *Engine
		ctx context.Context
		t   time.Duration
	}{{plain, bg, 0}, {plain, dl, 0}, {closing, bg, 0}}
	n := 0
	for b.Loop() {
		for k := range modes {
			m := &modes[(n+k)%len(modes)] // rotate: no mode always goes first
			start := time.Now()
			if _, err := m.e.Decide(m.ctx, req); err != nil {
				b.Fatal(err)
			}
			m.t += time.Since(start)
		}
		n++
	}
	b.ReportMetric(float64(modes[0].t.Nanoseconds())/float64(n), "ns-plain/op")
	b.ReportMetric(float64(modes[1].t)/float64(modes[0].t), "x-deadline")
	b.ReportMetric(float64(modes[2].t)/float64(modes[0].t), "x-close-on-done")
}

// BenchmarkDecideWorstLoops: the longest decision the load-time bound
// allows, three nested loops of 99 (just under rules.MaxIterations),
// natively and inside wazero.
func BenchmarkDecideWorstLoops(b *testing.B) {
	nums := make([]string, 99)
	for i := range nums {
		nums[i] = fmt.Sprint(i)
	}
	src := []byte(`version: 1
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
	req := benchRequest()
	b.Run("native", func(b *testing.B) {
		p, err := rules.Load("worst.yaml", src)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			p.Decide(req)
		}
	})
	b.Run("wazero", func(b *testing.B) {
		ctx := context.Background()
		e, err := New(ctx, WithPoolSize(1))
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close(ctx)
		if err := e.Load(ctx, "worst.yaml", src); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := e.Decide(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
