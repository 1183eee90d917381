package lifecycle_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// slowFixture is a fixture whose decider sleeps before deciding the given
// stage, so that concurrent actions all read the store before any of them
// commits: without an atomic commit they would all pass on stale facts.
func slowFixture(t *testing.T, p *rules.Policy, stage string) *fixture {
	t.Helper()
	st := storeUnderTest(t)
	clock := lifecycle.NewManualClock(monday)
	native := lifecycle.Native(p)
	dec := lifecycle.DeciderFunc(func(ctx context.Context, req *rules.Request) (rules.Decision, error) {
		if req.Stage == stage {
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

// run calls fn(0..n-1) on n goroutines at once and counts the results.
func run(t *testing.T, n int, fn func(i int) (string, error)) map[string]int {
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

// TestConcurrentInvitesToABusyRecipient: 32 senders race for a recipient's
// last 5 slots of the day (recipient_daily_max 5); exactly 5 get through,
// the rest see recipient_busy. The received counts are part of the atomic
// reserve: the recipient's RecvSeq must be unchanged.
func TestConcurrentInvitesToABusyRecipient(t *testing.T) {
	const senders, max = 32, 5
	f := slowFixture(t, policy(t, "recipient_daily_max: 1000", fmt.Sprintf("recipient_daily_max: %d", max)), rules.StageInvite)
	f.member(lifecycle.Member{ID: "bob"})
	f.member(lifecycle.Member{ID: "carol", Tier: "premium"})
	f.connect("carol", "bob")
	for i := range senders {
		id := fmt.Sprintf("s%d", i)
		f.member(lifecycle.Member{ID: id})
		f.connect(id, "carol")
	}
	out := run(t, senders, func(i int) (string, error) {
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

// TestConcurrentAcceptsAtTheRecipientCap: a recipient one connection short
// of the cap accepts 32 invitations at once; exactly one connects.
func TestConcurrentAcceptsAtTheRecipientCap(t *testing.T) {
	const senders = 32
	f := slowFixture(t, policy(t, "free:    {daily: 30,  weekly: 300, monthly: 0, connections: 500}",
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
	out := run(t, senders, func(i int) (string, error) {
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

// TestConcurrentAcceptsAtTheSenderCap: 32 recipients accept invitations
// from one sender who is one connection short of the cap, all at once;
// exactly one connects.
func TestConcurrentAcceptsAtTheSenderCap(t *testing.T) {
	const recipients = 32
	f := slowFixture(t, policy(t, "free:    {daily: 30,  weekly: 300, monthly: 0, connections: 500}",
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
	out := run(t, recipients, func(i int) (string, error) {
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

// TestConcurrentAcceptsOfOneInvitation: one invitation accepted 32 times at
// once connects once; every other attempt is told it is not pending.
func TestConcurrentAcceptsOfOneInvitation(t *testing.T) {
	f := slowFixture(t, policy(t), rules.StageAccept)
	f.hub("free", 1)
	id := f.invite("alice", "r1").Invitation.ID
	var mu sync.Mutex
	notPending := 0
	out := run(t, 32, func(int) (string, error) {
		ar, err := f.n.Accept(f.ctx, id)
		if err != nil {
			mu.Lock()
			notPending++
			mu.Unlock()
			return "error", nil
		}
		return ar.Invitation.Status, nil
	})
	if out[lifecycle.StatusAccepted] != 1 || notPending != 31 {
		t.Fatalf("outcomes = %v", out)
	}
	if m := f.meter("alice"); m.Connections != 2 {
		t.Fatalf("alice has %d connections, want 2", m.Connections)
	}
}
