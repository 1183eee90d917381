package replay

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// Options configure [Replay] and [Simulate].
type Options struct {
	// Policy is the new policy. Required: its name heads the report, and a
	// simulation takes its calendar and limits from it.
	Policy *rules.Policy
	// Decider decides under the new policy; nil means the native engine.
	// The wazero host (*host.Engine) fits too, and is used in batches.
	Decider lifecycle.Decider
	// Baseline, when set, is decided on the same facts (or, simulating,
	// run on its own fresh store) and compared against, instead of the
	// recorded decisions.
	Baseline *rules.Policy
	// BaselineDecider decides under Baseline; nil means the native engine.
	BaselineDecider lifecycle.Decider
	// Label and BaselineLabel name the policies in the report, e.g. by
	// file; empty means the policy's name.
	Label, BaselineLabel string
	// Examples is how many example events each transition and rule keeps;
	// Members how many members the report lists. 0 means the defaults.
	Examples, Members int
	// Workers is how many goroutines decide in parallel during a replay; 0
	// means GOMAXPROCS.
	Workers int
}

// BatchDecider is a [lifecycle.Decider] that also decides many requests in
// one call, as the wazero host does; Replay then decides a batch at once.
type BatchDecider interface {
	DecideBatch(ctx context.Context, reqs []*rules.Request) ([]rules.Decision, error)
}

// batchSize is how many events a worker decides at once: large enough to
// amortise the channel hand-offs and a wazero call, small enough that the
// batches in flight stay a few MB.
const batchSize = 256

type batch struct {
	buf   []byte // the lines, back to back
	ends  []int
	lines []int
	evs   []event
	reqs  []rules.Request
	has   []bool
	old   []rules.Decision
	new   []rules.Decision
	err   error
	done  chan struct{}
}

func (b *batch) line(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.buf[start:b.ends[i]]
}

// Replay re-decides every decision recorded in the log r under
// opts.Policy, on the facts recorded with it, and reports what flips. The
// comparison is against the recorded decision, or against opts.Baseline's
// decision on the same facts when a baseline is given. Events without a
// decision (answers, blocks, members...) are read and skipped.
//
// The log is streamed: memory stays constant whatever its length. An
// error names the log line at fault; a decider error stops the replay.
func Replay(ctx context.Context, r io.Reader, opts Options) (*Report, error) {
	if opts.Policy == nil {
		return nil, errors.New("replay: Options.Policy is required")
	}
	lr, err := newLineReader(r)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	newDec := deciderOf(opts.Policy, opts.Decider)
	var oldDec lifecycle.Decider
	if opts.Baseline != nil {
		oldDec = deciderOf(opts.Baseline, opts.BaselineDecider)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	work := make(chan *batch, workers)
	order := make(chan *batch, 2*workers)
	go readBatches(ctx, lr, work, order)
	for range workers {
		go func() {
			for b := range work {
				b.err = decideBatch(ctx, b, newDec, oldDec)
				close(b.done)
			}
		}()
	}
	a := newAgg("replay", opts.Examples, opts.Members)
	a.r.Policy, a.r.Baseline = opts.labels()
	for b := range order {
		<-b.done
		if b.err != nil {
			cancel()
			for range order { // let the reader finish
			}
			return nil, b.err
		}
		fold(a, b, opts.Baseline != nil)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return a.report(), nil
}

// labels names the policies for the report.
func (o *Options) labels() (policy, baseline string) {
	policy, baseline = cmp.Or(o.Label, o.Policy.Name()), "recorded decisions"
	if o.Baseline != nil {
		baseline = cmp.Or(o.BaselineLabel, o.Baseline.Name())
	}
	return policy, baseline
}

func deciderOf(p *rules.Policy, d lifecycle.Decider) lifecycle.Decider {
	if d != nil {
		return d
	}
	return lifecycle.Native(p)
}

// readBatches cuts the log into batches, hands each to the workers and,
// in the same order, to the aggregator. A read error travels as a batch.
func readBatches(ctx context.Context, lr *lineReader, work, order chan<- *batch) {
	defer close(order)
	defer close(work)
	bufCap := 64 << 10
	for {
		// Sized from the last batch, so a batch's lines are copied once.
		b := &batch{done: make(chan struct{}), buf: make([]byte, 0, bufCap),
			ends: make([]int, 0, batchSize), lines: make([]int, 0, batchSize)}
		var err error
		for len(b.ends) < batchSize {
			var line []byte
			var n int
			line, n, err = lr.next()
			if err != nil {
				break
			}
			b.buf = append(b.buf, line...)
			b.ends = append(b.ends, len(b.buf))
			b.lines = append(b.lines, n)
		}
		bufCap = max(bufCap, len(b.buf)+len(b.buf)/8)
		if err != nil && !errors.Is(err, io.EOF) {
			b.err = err
			close(b.done)
			select {
			case order <- b:
			case <-ctx.Done():
			}
			return
		}
		if len(b.ends) > 0 {
			select {
			case order <- b:
			case <-ctx.Done():
				return
			}
			select {
			case work <- b:
			case <-ctx.Done():
				// The aggregator may be waiting for this batch.
				b.err = ctx.Err()
				close(b.done)
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// decideBatch decodes a batch's lines and decides its requests.
func decideBatch(ctx context.Context, b *batch, newDec, oldDec lifecycle.Decider) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n := len(b.ends)
	b.evs = make([]event, n)
	b.reqs = make([]rules.Request, n)
	b.has = make([]bool, n)
	reqs := make([]*rules.Request, 0, n)
	for i := range n {
		var err error
		if b.has[i], err = decodeEvent(b.line(i), b.lines[i], &b.evs[i], &b.reqs[i]); err != nil {
			return err
		}
		if b.has[i] {
			reqs = append(reqs, &b.reqs[i])
		}
	}
	b.buf = nil
	var err error
	if b.new, err = decideAll(ctx, newDec, reqs); err != nil {
		return err
	}
	if oldDec != nil {
		if b.old, err = decideAll(ctx, oldDec, reqs); err != nil {
			return err
		}
	}
	return nil
}

func decideAll(ctx context.Context, d lifecycle.Decider, reqs []*rules.Request) ([]rules.Decision, error) {
	if bd, ok := d.(BatchDecider); ok && len(reqs) > 0 {
		out, err := bd.DecideBatch(ctx, reqs)
		if err == nil && len(out) != len(reqs) {
			err = fmt.Errorf("batch decider answered %d of %d requests", len(out), len(reqs))
		}
		return out, err
	}
	out := make([]rules.Decision, len(reqs))
	for i, req := range reqs {
		var err error
		if out[i], err = d.Decide(ctx, req); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fold adds a decided batch to the report, in log order.
func fold(a *agg, b *batch, baseline bool) {
	a.r.Events += len(b.evs)
	k := 0
	for i := range b.evs {
		if !b.has[i] {
			continue
		}
		ev, req := &b.evs[i], &b.reqs[i]
		var old *rules.Decision
		if baseline {
			old = &b.old[k]
		} else {
			old = ev.Decision
		}
		nd := &b.new[k]
		k++
		if old == nil {
			continue
		}
		a.add(exampleOf(b.lines[i], ev, req), old, nd)
	}
}

func exampleOf(line int, ev *event, req *rules.Request) Example {
	ex := Example{Line: line, Seq: ev.Seq, At: ev.At, Stage: req.Stage, Sender: ev.Actor, Recipient: ev.Subject}
	if req.Sender != nil {
		ex.Sender = req.Sender.ID
	}
	if req.Recipient != nil {
		ex.Recipient = req.Recipient.ID
	}
	return ex
}
