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

// benchNetwork loads the generated network into a fresh memory store.
func benchNetwork(b *testing.B) (*lifecycle.Network, *lifecycle.ManualClock, *benchNet) {
	g := genNet()
	ctx := context.Background()
	st := lifecycle.NewMemStore()
	st.DiscardEvents() // events are built and numbered, not kept: a long run would hold gigabytes
	clock := lifecycle.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, la))
	n, err := lifecycle.New(lifecycle.Config{Policy: policy(b), Store: st, Clock: clock})
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
// the atomic reserve, the deliver stage, the event log) on the native
// engine and the memory store, over a generated network of 100k members.
// The clock moves one second every 100 invitations, so daily limits bind
// only for the busiest senders.
func BenchmarkInvite(b *testing.B) {
	for _, mode := range []string{"serial", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			n, clock, g := benchNetwork(b)
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
			start := time.Now()
			if mode == "serial" {
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
			elapsed := time.Since(start)
			b.ReportMetric(float64(next.Load())/elapsed.Seconds(), "invitations/s")
			b.ReportMetric(float64(allowed.Load())/float64(next.Load()), "allowed/op")
		})
	}
}

// BenchmarkRelation is the bounded degree search alone.
func BenchmarkRelation(b *testing.B) {
	n, _, g := benchNetwork(b)
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
