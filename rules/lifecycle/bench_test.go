package lifecycle_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

const (
	benchMembers = 100_000
	benchDegree  = 20 // average connections per member
)

// benchNet is a generated network of 100k members: each member connects
// to benchDegree/2 others drawn at random, so the average degree is
// benchDegree. pairs are sender/recipient pairs at distance 2, the
// invitations that walk every invite rule and then the deliver stage.
type benchNet struct {
	ids   []string
	adj   [][]int32
	pairs [][2]int32
}

var (
	benchOnce sync.Once
	benchData *benchNet
)

func genNet() *benchNet {
	benchOnce.Do(func() {
		r := rand.New(rand.NewPCG(1, 2))
		n := &benchNet{ids: make([]string, benchMembers), adj: make([][]int32, benchMembers)}
		for i := range n.ids {
			n.ids[i] = fmt.Sprintf("m%d", i)
		}
		for i := range benchMembers {
			for range benchDegree / 2 {
				j := int32(r.IntN(benchMembers))
				if j == int32(i) || slices.Contains(n.adj[i], j) {
					continue
				}
				n.adj[i] = append(n.adj[i], j)
				n.adj[j] = append(n.adj[j], int32(i))
			}
		}
		// Friends of friends, one per sender per round, up to 2M pairs.
		for round := 0; len(n.pairs) < 2_000_000 && round < 40; round++ {
			for s := range benchMembers {
				if len(n.adj[s]) == 0 {
					continue
				}
				f := n.adj[s][r.IntN(len(n.adj[s]))]
				if len(n.adj[f]) == 0 {
					continue
				}
				t := n.adj[f][r.IntN(len(n.adj[f]))]
				if t == int32(s) || slices.Contains(n.adj[s], t) {
					continue
				}
				n.pairs = append(n.pairs, [2]int32{int32(s), t})
			}
		}
		r.Shuffle(len(n.pairs), func(i, j int) { n.pairs[i], n.pairs[j] = n.pairs[j], n.pairs[i] })
		benchData = n
	})
	return benchData
}

// eventSink is a memory store whose event log is handed every event and
// keeps none: the Network builds every event, as for a store that writes
// them out, and the benchmark does not hold gigabytes of them.
type eventSink struct {
	*lifecycle.MemStore
	n atomic.Int64
}

func (s *eventSink) Append(_ context.Context, e *lifecycle.Event) error {
	e.Seq = uint64(s.n.Add(1))
	return nil
}

func (s *eventSink) DiscardsEvents() bool { return false }

// benchNetwork loads the generated network into a fresh memory store.
// With events, every event is built and handed to the store's Append;
// without, the store keeps no log and the Network builds no events.
func benchNetwork(b *testing.B, events bool, dec lifecycle.Decider) (*lifecycle.Network, *lifecycle.ManualClock, *benchNet) {
	g := genNet()
	ctx := context.Background()
	st := lifecycle.NewMemStore()
	st.DiscardEvents() // a long run would hold gigabytes of events
	var store lifecycle.Store = st
	if events {
		store = &eventSink{MemStore: st}
	}
	clock := lifecycle.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, la))
	n, err := lifecycle.New(lifecycle.Config{Policy: policy(b), Store: store, Clock: clock, Decider: dec})
	if err != nil {
		b.Fatal(err)
	}
	for i, id := range g.ids {
		tier := "free"
		if i%10 == 0 {
			tier = "premium"
		}
		if err := st.PutMember(ctx, lifecycle.Member{ID: id, Kind: "person", Tier: tier, Status: "active",
			Email: id + "@example.com", Company: fmt.Sprintf("c%d", i%500), AcceptanceRate: 0.5}); err != nil {
			b.Fatal(err)
		}
	}
	for i, l := range g.adj {
		for _, j := range l {
			if int32(i) < j {
				_ = st.Connect(ctx, g.ids[i], g.ids[j])
			}
		}
	}
	return n, clock, g
}

// BenchmarkInvite measures invitations per second through the whole
// lifecycle (facts from the store, the degree search, the invite stage,
// the atomic reserve, the deliver stage) on the native engine and the
// memory store, over a generated network of 100k members. The clock moves
// one second every 100 invitations, so daily limits bind only for the
// busiest senders.
//
// serial and parallel run with a store that keeps no event log, so no
// events are built; serial-events builds both events of every invitation
// and hands them to the store's Append, as a store that keeps the log
// would have them (without the cost of writing them anywhere).
// stub-engine is not the engine: a decider that returns allow and inbox
// without evaluating anything, to show what the lifecycle itself costs.
func BenchmarkInvite(b *testing.B) {
	stub := lifecycle.DeciderFunc(func(_ context.Context, req *rules.Request) (rules.Decision, error) {
		if req.Stage == rules.StageDeliver {
			return rules.Decision{Outcome: "inbox", Reason: "delivered"}, nil
		}
		return rules.Decision{Outcome: "allow", Reason: "sent"}, nil
	})
	for _, mode := range []string{"serial", "parallel", "serial-events", "stub-engine"} {
		b.Run(mode, func(b *testing.B) {
			var dec lifecycle.Decider
			if mode == "stub-engine" {
				dec = stub
			}
			n, clock, g := benchNetwork(b, mode == "serial-events", dec)
			ctx := context.Background()
			var next, allowed atomic.Int64
			invite := func() {
				k := next.Add(1)
				if k%100 == 0 {
					clock.Advance(time.Second)
				}
				p := g.pairs[int(k)%len(g.pairs)]
				res, err := n.Invite(ctx, lifecycle.InviteInput{From: g.ids[p[0]], To: g.ids[p[1]], Note: "Hello, we met at the meetup."})
				if err != nil {
					b.Fatal(err)
				}
				if res.Invite.Outcome == "allow" {
					allowed.Add(1)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			if mode != "parallel" {
				for b.Loop() {
					invite()
				}
			} else {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						invite()
					}
				})
			}
			elapsed, cpu := time.Since(start), cpuTime()-cpu0
			b.ReportMetric(float64(next.Load())/elapsed.Seconds(), "invitations/s")
			b.ReportMetric(float64(allowed.Load())/float64(next.Load()), "allowed/op")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(next.Load()), "cpu-ns/op")
		})
	}
}

// BenchmarkRelation is the bounded degree search alone.
func BenchmarkRelation(b *testing.B) {
	n, _, g := benchNetwork(b, false, nil)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	b.ReportAllocs()
	for b.Loop() {
		a, c := r.IntN(benchMembers), r.IntN(benchMembers)
		if _, _, err := n.Relation(ctx, g.ids[a], g.ids[c]); err != nil {
			b.Fatal(err)
		}
	}
}
