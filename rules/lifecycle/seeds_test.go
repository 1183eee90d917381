package lifecycle_test

import (
	"testing"
	"time"

	"github.com/connrules/connrules/rules/lifecycle"
)

// TestRestrictedAcceptLeavesNoTrace: seed 000, a restricted member cannot
// accept. The refused accept stores nothing but its event: the invitation
// stays pending, nobody is connected, the counts are unchanged; at the
// restriction's end the same invitation is accepted.
func TestRestrictedAcceptLeavesNoTrace(t *testing.T) {
	f := newFixture(t, policy(t), monday)
	f.hub("free", 1)
	until := monday.Add(72 * time.Hour)
	f.member(lifecycle.Member{ID: "bob", RestrictedUntil: until})
	f.connect("carol", "bob")
	inv := f.invite("alice", "bob").Invitation
	before := len(f.events())

	f.clock.Set(until.Add(-time.Second))
	res, err := f.n.Accept(f.ctx, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Decision.Outcome != "deny" || res.Decision.Rule != "accept_restricted" || !res.Decision.RetryAfter.Equal(until) {
		t.Fatalf("decision %+v", res.Decision)
	}
	got, err := f.store.Invitation(f.ctx, inv.ID)
	if err != nil || got.Status != lifecycle.StatusPending || !got.ClosedAt.IsZero() {
		t.Fatalf("invitation %+v, %v; want it pending", got, err)
	}
	if d, _, _ := f.n.Relation(f.ctx, "alice", "bob"); d == 1 {
		t.Fatal("connected after a refused accept")
	}
	if n, _ := f.store.ConnectionCount(f.ctx, "bob"); n != 1 {
		t.Fatalf("bob has %d connections, want 1 (carol)", n)
	}
	evs := f.events()[before:]
	if len(evs) != 1 || evs[0].Action != lifecycle.ActionAccept || evs[0].Result != "refused" {
		t.Fatalf("events %+v, want one refused accept", evs)
	}

	f.clock.Set(until)
	if res, err = f.n.Accept(f.ctx, inv.ID); err != nil || res.Decision.Outcome != "allow" || res.Invitation.Status != lifecycle.StatusAccepted {
		t.Fatalf("accept at the end: %+v, %v", res, err)
	}
}

// TestSoftBanEnds: seed 000, soft bans "may expire". With an end time the
// sender reads as active from then on; without one the ban stays.
func TestSoftBanEnds(t *testing.T) {
	f := newFixture(t, policy(t), monday)
	f.hub("free", 3)
	until := monday.Add(time.Hour)
	f.member(lifecycle.Member{ID: "alice", Status: "soft_banned", SoftBannedUntil: until, Company: "Acme"})
	f.member(lifecycle.Member{ID: "sam", Status: "soft_banned"})
	f.connect("sam", "carol")
	if res := f.invite("alice", "r1"); res.Invite.Outcome != "shadow" || res.Request.Sender.Status != "soft_banned" {
		t.Fatalf("during the ban: %+v", res.Invite)
	}
	f.clock.Set(until)
	if res := f.invite("alice", "r2"); res.Invite.Outcome != "allow" || res.Request.Sender.Status != "active" {
		t.Fatalf("at the end: %+v (status %s)", res.Invite, res.Request.Sender.Status)
	}
	if res := f.invite("sam", "r3"); res.Invite.Outcome != "shadow" {
		t.Fatalf("a soft ban without an end: %+v", res.Invite)
	}
}
