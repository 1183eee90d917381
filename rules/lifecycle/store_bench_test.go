package lifecycle_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connrules/connrules/rules/lifecycle"
	"github.com/connrules/connrules/rules/lifecycle/postgres"
	"github.com/connrules/connrules/rules/lifecycle/sqlite"
	"github.com/jackc/pgx/v5"
)

// benchMembersOf is the generated network's members, as benchNetwork
// stores them.
func benchMembersOf(g *benchNet) []lifecycle.Member {
	ms := make([]lifecycle.Member, len(g.ids))
	for i, id := range g.ids {
		tier := "free"
		if i%10 == 0 {
			tier = "premium"
		}
		ms[i] = lifecycle.Member{ID: id, Kind: "person", Tier: tier, Status: "active",
			Email: id + "@example.com", Company: fmt.Sprintf("c%d", i%500), AcceptanceRate: 0.5}
	}
	return ms
}

func benchConnsOf(g *benchNet) [][2]string {
	var cs [][2]string
	for i, l := range g.adj {
		for _, j := range l {
			if int32(i) < j {
				cs = append(cs, [2]string{g.ids[i], g.ids[j]})
			}
		}
	}
	return cs
}

// benchSQLStore opens the benchmark's store of one kind, loading the
// generated network into it the first time. The SQLite file and the
// PostgreSQL schema are kept between runs (loading takes a while): the
// invitations earlier runs stored stay, as they would in production.
func benchSQLStore(b *testing.B, kind string) lifecycle.Store {
	ctx := context.Background()
	var st interface {
		lifecycle.Store
		Close() error
		Load(context.Context, []lifecycle.Member, [][2]string) error
	}
	switch kind {
	case "sqlite":
		s, err := sqlite.Open(ctx, filepath.Join(os.TempDir(), "connrules-bench-100k-v1.db"))
		if err != nil {
			b.Fatal(err)
		}
		st = s
	case "postgres":
		base := os.Getenv("CONNRULES_POSTGRES_URL")
		if base == "" {
			b.Skip("CONNRULES_POSTGRES_URL is not set")
		}
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			b.Fatal(err)
		}
		_, err = c.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS bench_100k_v1")
		c.Close(ctx)
		if err != nil {
			b.Fatal(err)
		}
		s, err := postgres.Open(ctx, base+"&search_path=bench_100k_v1")
		if err != nil {
			b.Fatal(err)
		}
		st = s
	}
	b.Cleanup(func() { st.Close() })
	g := genNet()
	if _, err := st.Member(ctx, g.ids[len(g.ids)-1]); err != nil {
		start := time.Now()
		if err := st.Load(ctx, benchMembersOf(g), benchConnsOf(g)); err != nil {
			b.Fatal(err)
		}
		b.Logf("loaded %d members into %s in %v", len(g.ids), kind, time.Since(start))
	}
	return st
}

// benchStore returns a store of the kind with the generated network.
func benchStore(b *testing.B, kind string) lifecycle.Store {
	if kind != "memory" {
		return benchSQLStore(b, kind)
	}
	g := genNet()
	st := lifecycle.NewMemStore()
	st.DiscardEvents()
	ctx := context.Background()
	for _, m := range benchMembersOf(g) {
		_ = st.PutMember(ctx, m)
	}
	for _, c := range benchConnsOf(g) {
		_ = st.Connect(ctx, c[0], c[1])
	}
	// A sink that takes every event, as the SQL stores write every one.
	return &eventSink{MemStore: st}
}

// BenchmarkStores measures invitations per second through the whole
// lifecycle on each store over the generated 100k-member network, serial
// and with 8 concurrent senders, and the latency of Snapshot (p50, p99).
// Every store keeps (or takes) the event log. PostgreSQL runs when
// CONNRULES_POSTGRES_URL is set (.ci/postgres.sh).
func BenchmarkStores(b *testing.B) {
	for _, kind := range []string{"memory", "sqlite", "postgres"} {
		for _, mode := range []string{"serial", "8-senders"} {
			b.Run(kind+"/invite-"+mode, func(b *testing.B) { benchStoreInvite(b, kind, mode == "8-senders") })
		}
		b.Run(kind+"/snapshot", func(b *testing.B) { benchSnapshot(b, kind) })
	}
}

// timedStore adds up the time spent in the store calls of an invitation,
// to say where the time goes.
type timedStore struct {
	lifecycle.Store
	snapshot, reserve, update, append atomic.Int64
}

func since(d *atomic.Int64, t time.Time) { d.Add(int64(time.Since(t))) }

func (s *timedStore) Snapshot(ctx context.Context, q lifecycle.SnapshotQuery) (lifecycle.Snapshot, error) {
	defer since(&s.snapshot, time.Now())
	return s.Store.Snapshot(ctx, q)
}

func (s *timedStore) Reserve(ctx context.Context, r lifecycle.Reservation) (lifecycle.Invitation, bool, error) {
	defer since(&s.reserve, time.Now())
	return s.Store.Reserve(ctx, r)
}

func (s *timedStore) UpdateInvitation(ctx context.Context, inv lifecycle.Invitation, from string) (bool, error) {
	defer since(&s.update, time.Now())
	return s.Store.UpdateInvitation(ctx, inv, from)
}

func (s *timedStore) Append(ctx context.Context, e *lifecycle.Event) error {
	defer since(&s.append, time.Now())
	return s.Store.Append(ctx, e)
}

func benchStoreInvite(b *testing.B, kind string, parallel bool) {
	st := &timedStore{Store: benchStore(b, kind)}
	g := genNet()
	// Each run starts on a later day (one day per wall-clock hour since
	// December 2026, after the 3,000 days an earlier version of this
	// benchmark could use), so the counters of earlier runs on a kept
	// database neither bind nor lie in a later window, which Reserve
	// refuses: a store's windows never go back.
	hours := int(time.Since(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)).Hours())
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, la).AddDate(0, 0, 3000+max(hours, 0))
	clock := lifecycle.NewManualClock(start)
	n, err := lifecycle.New(lifecycle.Config{Policy: policy(b), Store: st, Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var next, allowed atomic.Int64
	base := rand.IntN(len(g.pairs))
	invite := func() {
		k := next.Add(1)
		if k%100 == 0 {
			clock.Advance(time.Second)
		}
		p := g.pairs[(base+int(k))%len(g.pairs)]
		res, err := n.Invite(ctx, lifecycle.InviteInput{From: g.ids[p[0]], To: g.ids[p[1]], Note: "Hello, we met at the meetup."})
		if err != nil {
			b.Fatal(err)
		}
		if res.Invite.Outcome == "allow" {
			allowed.Add(1)
		}
	}
	b.ResetTimer()
	t0 := time.Now()
	if parallel {
		b.SetParallelism((8 + 1) / 2) // GOMAXPROCS 2 on the reference machine: 8 goroutines
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				invite()
			}
		})
	} else {
		for b.Loop() {
			invite()
		}
	}
	b.ReportMetric(float64(next.Load())/time.Since(t0).Seconds(), "invitations/s")
	b.ReportMetric(float64(allowed.Load())/float64(next.Load()), "allowed/op")
	// Time inside the store's calls per invitation (with 8 senders, the
	// sum over them: it can exceed the wall time per invitation).
	for _, m := range []struct {
		name string
		d    *atomic.Int64
	}{{"snapshot", &st.snapshot}, {"reserve", &st.reserve}, {"update", &st.update}, {"append", &st.append}} {
		b.ReportMetric(float64(m.d.Load())/1e3/float64(next.Load()), m.name+"-µs/op")
	}
}

func benchSnapshot(b *testing.B, kind string) {
	st := benchStore(b, kind)
	g := genNet()
	ctx := context.Background()
	w := lifecycle.WindowsAt(policy(b).Calendar(), time.Date(2026, 3, 2, 9, 0, 0, 0, la))
	var mu sync.Mutex
	var lat []time.Duration
	r := rand.New(rand.NewPCG(5, 6))
	b.ResetTimer()
	for b.Loop() {
		p := g.pairs[r.IntN(len(g.pairs))]
		t := time.Now()
		if _, err := st.Snapshot(ctx, lifecycle.SnapshotQuery{From: g.ids[p[0]], To: g.ids[p[1]], Windows: w, Budget: lifecycle.DefaultSearchBudget}); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t)
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
}
