package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// fixture is a Network over a store from the constructor.
type fixture struct {
	t     testing.TB
	ctx   context.Context
	n     *lifecycle.Network
	store lifecycle.Store
	clock *lifecycle.ManualClock
}

// newFixture builds a Network over st. With slowStage set, the decider
// sleeps before deciding that stage, so that concurrent actions all read
// the store before any of them commits: without an atomic commit they
// would all pass on stale facts.
func newFixture(t testing.TB, st lifecycle.Store, p *rules.Policy, slowStage string) *fixture {
	t.Helper()
	clock := lifecycle.NewManualClock(Monday)
	native := lifecycle.Native(p)
	dec := lifecycle.DeciderFunc(func(ctx context.Context, req *rules.Request) (rules.Decision, error) {
		if req.Stage == slowStage {
			time.Sleep(2 * time.Millisecond)
		}
		return native.Decide(ctx, req)
	})
	n, err := lifecycle.New(lifecycle.Config{Policy: p, Store: st, Clock: clock, Decider: dec})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, ctx: context.Background(), n: n, store: st, clock: clock}
}

func (f *fixture) member(m lifecycle.Member) {
	f.t.Helper()
	if m.Email == "" {
		m.Email = m.ID + "@example.com"
	}
	if m.AcceptanceRate == 0 {
		m.AcceptanceRate = 0.5
	}
	must(f.t, f.n.AddMember(f.ctx, m))
}

func (f *fixture) connect(a, b string) {
	f.t.Helper()
	must(f.t, f.n.Connect(f.ctx, a, b))
}

// hub makes alice and n recipients r1..rn all second-degree through carol.
func (f *fixture) hub(tier string, n int) {
	f.member(lifecycle.Member{ID: "alice", Tier: tier, Company: "Acme"})
	f.member(lifecycle.Member{ID: "carol", Tier: "premium"})
	f.connect("alice", "carol")
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("r%d", i)
		f.member(lifecycle.Member{ID: id})
		f.connect("carol", id)
	}
}

func (f *fixture) invite(from, to string) lifecycle.InviteResult {
	f.t.Helper()
	res, err := f.n.Invite(f.ctx, lifecycle.InviteInput{From: from, To: to, Note: "Hello from the tests"})
	must(f.t, err)
	return res
}

func (f *fixture) meter(id string) lifecycle.Meter {
	f.t.Helper()
	m, err := f.n.Meter(f.ctx, id)
	must(f.t, err)
	return m
}

// race calls fn(0..n-1) on n goroutines at once and counts the results.
func race(t *testing.T, n int, fn func(i int) (string, error)) map[string]int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	start := make(chan struct{})
	out := map[string]int{}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, err := fn(i)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			out[s]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// testConcurrentLimit: 32 goroutines invite from one free sender (daily
// limit 30) at once; exactly 30 are admitted and stored.
func testConcurrentLimit(t *testing.T, open Open) {
	const goroutines = 32
	f := newFixture(t, open(t), Policy(t), rules.StageInvite)
	f.hub("free", goroutines)
	out := race(t, goroutines, func(i int) (string, error) {
		res, err := f.n.Invite(f.ctx, lifecycle.InviteInput{From: "alice", To: fmt.Sprintf("r%d", i+1), Note: "hi"})
		return res.Invite.Outcome + "/" + res.Invite.Reason, err
	})
	if out["allow/sent"] != 30 || out["deny/daily_limit"] != goroutines-30 {
		t.Fatalf("outcomes = %v; want exactly 30 allowed", out)
	}
	if m := f.meter("alice"); m.Day.Used != 30 {
		t.Fatalf("meter day used = %d", m.Day.Used)
	}
	pending := 0
	for i := 1; i <= goroutines; i++ {
		p, err := f.store.Pending(f.ctx, "alice", fmt.Sprintf("r%d", i))
		must(t, err)
		pending += len(p)
	}
	if pending != 30 {
		t.Fatalf("%d pending invitations stored, want 30", pending)
	}
}

// testBusyRecipient: 32 senders race for a recipient's last 5 slots of the
// day; exactly 5 get through.
func testBusyRecipient(t *testing.T, open Open) {
	const senders, max = 32, 5
	f := newFixture(t, open(t), Policy(t, "recipient_daily_max: 1000", fmt.Sprintf("recipient_daily_max: %d", max)), rules.StageInvite)
	f.member(lifecycle.Member{ID: "bob"})
	f.member(lifecycle.Member{ID: "carol", Tier: "premium"})
	f.connect("carol", "bob")
	for i := range senders {
		id := fmt.Sprintf("s%d", i)
		f.member(lifecycle.Member{ID: id})
		f.connect(id, "carol")
	}
	out := race(t, senders, func(i int) (string, error) {
		res, err := f.n.Invite(f.ctx, lifecycle.InviteInput{From: fmt.Sprintf("s%d", i), To: "bob", Note: "hi"})
		return res.Invite.Outcome + "/" + res.Invite.Reason, err
	})
	if out["allow/sent"] != max || out["deny/recipient_busy"] != senders-max {
		t.Fatalf("outcomes = %v; want exactly %d allowed", out, max)
	}
	if m := f.meter("bob"); m.Received.Day != max {
		t.Fatalf("bob received %d today, want %d", m.Received.Day, max)
	}
}

// testRecipientCap: a recipient one connection short of the cap accepts 32
// invitations at once; exactly one connects.
func testRecipientCap(t *testing.T, open Open) {
	const senders = 32
	f := newFixture(t, open(t), Policy(t, "free:    {daily: 30,  weekly: 300, monthly: 0, connections: 500}",
		"free:    {daily: 30,  weekly: 300, monthly: 0, connections: 3}"), rules.StageAccept)
	f.member(lifecycle.Member{ID: "bob"})
	f.member(lifecycle.Member{ID: "carol", Tier: "premium"})
	f.member(lifecycle.Member{ID: "x", Tier: "premium"})
	f.connect("carol", "bob")
	f.connect("x", "bob") // bob: 2 of 3
	ids := make([]string, senders)
	for i := range senders {
		id := fmt.Sprintf("s%d", i)
		f.member(lifecycle.Member{ID: id})
		f.connect(id, "carol")
		res := f.invite(id, "bob")
		if res.Invitation.Delivery != lifecycle.DeliveryInbox {
			t.Fatalf("invitation from %s: %+v", id, res)
		}
		ids[i] = res.Invitation.ID
	}
	out := race(t, senders, func(i int) (string, error) {
		ar, err := f.n.Accept(f.ctx, ids[i])
		return ar.Decision.Outcome + "/" + ar.Decision.Rule + "/" + ar.Invitation.Status, err
	})
	if out["allow//accepted"] != 1 || out["deny/accept_recipient_cap/pending"] != senders-1 {
		t.Fatalf("outcomes = %v; want exactly one accepted", out)
	}
	if m := f.meter("bob"); m.Connections != 3 {
		t.Fatalf("bob has %d connections, want the cap of 3", m.Connections)
	}
}

// testSenderCap: 32 recipients accept invitations from one sender who is
// one connection short of the cap, all at once; exactly one connects.
func testSenderCap(t *testing.T, open Open) {
	const recipients = 32
	f := newFixture(t, open(t), Policy(t, "free:    {daily: 30,  weekly: 300, monthly: 0, connections: 500}",
		"free:    {daily: 40,  weekly: 300, monthly: 0, connections: 3}"), rules.StageAccept)
	f.hub("free", recipients) // alice - carol - r1..r32
	f.member(lifecycle.Member{ID: "x", Tier: "premium"})
	f.connect("alice", "x") // alice: 2 of 3
	ids := make([]string, recipients)
	for i := range recipients {
		res := f.invite("alice", fmt.Sprintf("r%d", i+1))
		if !res.Invitation.Visible() { // inbox, or spam past the hourly burst
			t.Fatalf("invitation %d: %+v", i+1, res)
		}
		ids[i] = res.Invitation.ID
	}
	out := race(t, recipients, func(i int) (string, error) {
		ar, err := f.n.Accept(f.ctx, ids[i])
		return ar.Decision.Outcome + "/" + ar.Decision.Rule + "/" + ar.Invitation.Status, err
	})
	if out["allow//accepted"] != 1 || out["deny/accept_sender_cap/pending"] != recipients-1 {
		t.Fatalf("outcomes = %v; want exactly one accepted", out)
	}
	if m := f.meter("alice"); m.Connections != 3 {
		t.Fatalf("alice has %d connections, want the cap of 3", m.Connections)
	}
}

// testAcceptOnce: one invitation accepted 32 times at once connects once.
func testAcceptOnce(t *testing.T, open Open) {
	f := newFixture(t, open(t), Policy(t), rules.StageAccept)
	f.hub("free", 1)
	id := f.invite("alice", "r1").Invitation.ID
	out := race(t, 32, func(int) (string, error) {
		ar, err := f.n.Accept(f.ctx, id)
		if err != nil {
			return "error", nil
		}
		return ar.Invitation.Status, nil
	})
	if out[lifecycle.StatusAccepted] != 1 || out["error"] != 31 {
		t.Fatalf("outcomes = %v", out)
	}
	if m := f.meter("alice"); m.Connections != 2 {
		t.Fatalf("alice has %d connections, want 2", m.Connections)
	}
	if m, _ := f.store.Member(f.ctx, "alice"); m.Accepted != 1 {
		t.Fatalf("alice has %d accepted answers, want 1", m.Accepted)
	}
}

// testLifecycleEventLog runs every action through a Network on the store
// and on a MemStore and wants byte-identical event logs.
func testLifecycleEventLog(t *testing.T, open Open) {
	logOf := func(st lifecycle.Store) []byte {
		f := newFixture(t, st, Policy(t), "")
		f.hub("free", 6)
		f.member(lifecycle.Member{ID: "dave", Company: "Acme", Settings: rules.Settings{Companies: []string{"Acme"}}})
		f.connect("dave", "carol")
		f.invite("alice", "r1")
		f.clock.Advance(time.Minute)
		id2 := f.invite("alice", "r2").Invitation.ID
		id3 := f.invite("alice", "r3").Invitation.ID
		id4 := f.invite("alice", "r4").Invitation.ID
		f.invite("alice", "dave")
		f.invite("alice", "r1") // already pending
		_, err := f.n.Accept(f.ctx, id2)
		must(t, err)
		_, err = f.n.Ignore(f.ctx, id3)
		must(t, err)
		_, err = f.n.Reject(f.ctx, id4)
		must(t, err)
		f.invite("alice", "r4") // rejected before
		id5 := f.invite("alice", "r5").Invitation.ID
		_, err = f.n.Withdraw(f.ctx, id5)
		must(t, err)
		_, err = f.n.ImportContacts(f.ctx, "r6", []string{"alice@example.com", "nobody@example.com"})
		must(t, err)
		_, err = f.n.Block(f.ctx, "r1", "alice")
		must(t, err)
		must(t, f.n.Unblock(f.ctx, "r1", "alice"))
		_, err = f.n.Remove(f.ctx, "alice", "r2")
		must(t, err)
		f.invite("alice", "r6")
		f.clock.Advance(200 * 24 * time.Hour)
		_, err = f.n.Expire(f.ctx)
		must(t, err)
		evs, err := st.(lifecycle.EventReader).ReadEvents(f.ctx)
		must(t, err)
		var b bytes.Buffer
		must(t, lifecycle.WriteEvents(&b, evs))
		return b.Bytes()
	}
	st := open(t)
	if _, ok := st.(lifecycle.EventReader); !ok {
		t.Skip("the store does not read its log back")
	}
	want, got := logOf(lifecycle.NewMemStore()), logOf(st)
	if !bytes.Equal(got, want) {
		gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := range min(len(gl), len(wl)) {
			if !bytes.Equal(gl[i], wl[i]) {
				t.Fatalf("event log differs from MemStore's at line %d:\n got %s\nwant %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("event log has %d lines, MemStore's %d", len(gl), len(wl))
	}
}

// testReadsAndWrites hammers every kind of call from 8 goroutines at once,
// with no sleep between them: single-row reads, multi-row reads,
// transactions and appends must not trip over each other.
func testReadsAndWrites(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	put(t, ctx, s, "a", "b", "c")
	must(t, s.Connect(ctx, "a", "c"))
	must(t, s.Connect(ctx, "c", "b"))
	w := windows(Monday)
	// Every sixth call ignores one of these invitations.
	var ids []string
	for g := range 8 {
		for i := range 100 {
			if (g+i)%6 == 5 {
				ids = append(ids, reserve(t, ctx, s, "a", "b", Monday).ID)
			}
		}
	}
	var next atomic.Int32
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				var err error
				switch (g + i) % 6 {
				case 0:
					_, err = s.Member(ctx, "a")
				case 1:
					_, err = s.Usage(ctx, "b", w)
				case 2:
					err = s.Append(ctx, &lifecycle.Event{V: lifecycle.EventVersion, At: Monday, Action: lifecycle.ActionBlock})
				case 3:
					_, err = s.Snapshot(ctx, lifecycle.SnapshotQuery{From: "a", To: "b", Windows: w, Budget: 100})
				case 4:
					_, err = s.Pending(ctx, "a", "b")
				case 5:
					var ok bool
					_, ok, err = s.CloseInvitation(ctx, lifecycle.Closing{ID: ids[next.Add(1)-1], From: lifecycle.StatusPending,
						Status: lifecycle.StatusIgnored, At: Monday, Ignore: true, Answered: true})
					if err == nil && !ok {
						err = errors.New("closing a pending invitation did not apply")
					}
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if rec, _ := s.Pair(ctx, "a", "b"); rec.Ignored != len(ids) {
		t.Fatalf("%d ignores counted, want %d", rec.Ignored, len(ids))
	}
	if m, _ := s.Member(ctx, "a"); m.Answered != len(ids) {
		t.Fatalf("%d answers counted, want %d", m.Answered, len(ids))
	}
}
