package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// hookStore runs a one-shot hook right after a named store method
// returns, so a test can put another action between two steps of one.
type hookStore struct {
	lifecycle.Store
	mu    sync.Mutex
	hooks map[string]func()
}

func (h *hookStore) after(method string, fn func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hooks == nil {
		h.hooks = map[string]func(){}
	}
	h.hooks[method] = fn
}

func (h *hookStore) fire(method string) {
	h.mu.Lock()
	fn := h.hooks[method]
	delete(h.hooks, method)
	h.mu.Unlock()
	if fn != nil {
		fn()
	}
}

func (h *hookStore) UpdateInvitation(ctx context.Context, inv lifecycle.Invitation, from string) (bool, error) {
	ok, err := h.Store.UpdateInvitation(ctx, inv, from)
	h.fire("close")
	return ok, err
}

func (h *hookStore) CloseInvitation(ctx context.Context, c lifecycle.Closing) (lifecycle.Invitation, bool, error) {
	inv, ok, err := h.Store.CloseInvitation(ctx, c)
	h.fire("close")
	return inv, ok, err
}

func (h *hookStore) Snapshot(ctx context.Context, q lifecycle.SnapshotQuery) (lifecycle.Snapshot, error) {
	s, err := h.Store.Snapshot(ctx, q)
	h.fire("Snapshot")
	return s, err
}

// hookFixture is a fixture over a hookStore.
func hookFixture(t *testing.T, p *rules.Policy) (*fixture, *hookStore) {
	t.Helper()
	hs := &hookStore{Store: storeUnderTest(t)}
	clock := lifecycle.NewManualClock(monday)
	n, err := lifecycle.New(lifecycle.Config{Policy: p, Store: hs, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, ctx: context.Background(), n: n, store: hs.Store, clock: clock}, hs
}

// TestReinviteRightAfterTheAnswerCloses puts a re-invite right after the
// step that closes the invitation, before anything else of the answer:
// it must see the whole answer (the pair rejected, or the ignore), never
// half of it.
func TestReinviteRightAfterTheAnswerCloses(t *testing.T) {
	for _, answer := range []string{"reject", "ignore"} {
		t.Run(answer, func(t *testing.T) {
			f, hs := hookFixture(t, policy(t))
			f.hub("free", 1)
			id := f.invite("alice", "r1").Invitation.ID
			var again lifecycle.InviteResult
			hs.after("close", func() { again = f.invite("alice", "r1") })
			var err error
			if answer == "reject" {
				_, err = f.n.Reject(f.ctx, id)
			} else {
				_, err = f.n.Ignore(f.ctx, id)
			}
			if err != nil {
				t.Fatal(err)
			}
			if again.Invite.Outcome != "deny" || again.Invitation.ID != "" {
				t.Fatalf("re-invite during the %s: %s/%s, invitation %q", answer, again.Invite.Outcome, again.Invite.Reason, again.Invitation.ID)
			}
			if later := f.invite("alice", "r1"); later.Invite.Outcome != "deny" {
				t.Fatalf("re-invite after the %s: %+v", answer, later.Invite)
			}
		})
	}
}

// TestReinviteDecidedBeforeARejectCommitsAfterIt: with three pending
// invitations allowed per pair, a re-invite that read the pair before the
// reject must not commit after it: the reject bumps the sender's Seq, so
// the re-invite decides again and sees the rejection.
func TestReinviteDecidedBeforeARejectCommitsAfterIt(t *testing.T) {
	f, hs := hookFixture(t, policy(t, "max_pending_per_pair: 1", "max_pending_per_pair: 3"))
	f.hub("free", 1)
	id := f.invite("alice", "r1").Invitation.ID
	hs.after("Snapshot", func() {
		if _, err := f.n.Reject(f.ctx, id); err != nil {
			t.Error(err)
		}
	})
	again := f.invite("alice", "r1")
	if again.Invite.Reason != "previously_rejected" || again.Invitation.ID != "" || again.Attempts != 2 {
		t.Fatalf("re-invite across the reject: %s/%s, invitation %q, attempts %d", again.Invite.Outcome, again.Invite.Reason, again.Invitation.ID, again.Attempts)
	}
}

// hookClock returns its times in turn (the last one forever after) and
// runs a one-shot hook after its first reading.
type hookClock struct {
	mu    sync.Mutex
	times []time.Time
	hook  func()
}

func (c *hookClock) Now() time.Time {
	c.mu.Lock()
	t := c.times[0]
	if len(c.times) > 1 {
		c.times = c.times[1:]
	}
	hook := c.hook
	c.hook = nil
	c.mu.Unlock()
	if hook != nil {
		hook()
	}
	return t
}

// TestWindowCountersNeverGoBack: an invitation that read the clock just
// before midnight commits after one that read it just after. Monday is
// full (30 of 30): the late one must not be a 31st Monday invitation,
// nor reset Tuesday's count; it decides again in Tuesday.
func TestWindowCountersNeverGoBack(t *testing.T) {
	f := newFixture(t, policy(t), monday)
	f.hub("free", 40)
	for i := 1; i <= 30; i++ {
		if res := f.invite("alice", fmt.Sprintf("r%d", i)); res.Invite.Outcome != "allow" {
			t.Fatalf("invitation %d: %+v", i, res.Invite)
		}
	}
	beforeMidnight := time.Date(2026, 3, 2, 23, 59, 59, 0, la)
	afterMidnight := time.Date(2026, 3, 3, 0, 0, 1, 0, la)
	tuesday := lifecycle.NewManualClock(afterMidnight)
	nTue, err := lifecycle.New(lifecycle.Config{Policy: f.n.Policy(), Store: f.store, Clock: tuesday})
	if err != nil {
		t.Fatal(err)
	}
	late := &hookClock{times: []time.Time{beforeMidnight, afterMidnight}}
	late.hook = func() {
		res, err := nTue.Invite(f.ctx, lifecycle.InviteInput{From: "alice", To: "r31"})
		if err != nil || res.Invite.Outcome != "allow" {
			t.Errorf("Tuesday's invitation: %+v, %v", res.Invite, err)
		}
	}
	nLate, err := lifecycle.New(lifecycle.Config{Policy: f.n.Policy(), Store: f.store, Clock: late})
	if err != nil {
		t.Fatal(err)
	}
	res, err := nLate.Invite(f.ctx, lifecycle.InviteInput{From: "alice", To: "r32"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Invite.Outcome != "allow" || !res.Invitation.SentAt.Equal(afterMidnight) {
		t.Fatalf("the late invitation: %s/%s sent at %s; want allowed on Tuesday", res.Invite.Outcome, res.Invite.Reason, res.Invitation.SentAt)
	}
	if m, _ := nTue.Meter(f.ctx, "alice"); m.Day.Used != 2 || m.Week.Used != 32 {
		t.Fatalf("Tuesday: %d sent today, %d this week; want 2 and 32", m.Day.Used, m.Week.Used)
	}
}

// TestMemberEditKeepsAConcurrentRestriction: an edit that read the member
// before a restriction and an answer were recorded must not erase them.
func TestMemberEditKeepsAConcurrentRestriction(t *testing.T) {
	f := newFixture(t, policy(t), monday)
	f.hub("free", 1)
	m, err := f.store.Member(f.ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.n.Accept(f.ctx, f.invite("alice", "r1").Invitation.ID); err != nil {
		t.Fatal(err)
	}
	until := monday.Add(7 * 24 * time.Hour)
	if _, err := f.store.Restrict(f.ctx, "alice", until); err != nil {
		t.Fatal(err)
	}
	m.Company = "Initech"
	if err := f.n.AddMember(f.ctx, m); err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.Member(f.ctx, "alice")
	if !got.RestrictedUntil.Equal(until) || got.Answered != 1 || got.Accepted != 1 || got.Company != "Initech" {
		t.Fatalf("after the edit: restricted until %s, answered %d, accepted %d, company %q", got.RestrictedUntil, got.Answered, got.Accepted, got.Company)
	}
}

// TestRacingProfileEditsKeepBoth: an edit lands between another edit's
// read and its write; the late write conflicts, reads again, and both
// edits survive. A write over a stale version is refused.
func TestRacingProfileEditsKeepBoth(t *testing.T) {
	f := newFixture(t, policy(t), monday)
	f.member(lifecycle.Member{ID: "bob"})
	stale, _ := f.store.Member(f.ctx, "bob")
	calls := 0
	_, err := f.n.UpdateMember(f.ctx, "bob", func(m *lifecycle.Member) {
		calls++
		if calls == 1 {
			if _, err := f.n.UpdateMember(f.ctx, "bob", func(m *lifecycle.Member) { m.Company = "Initech" }); err != nil {
				t.Fatal(err)
			}
		}
		m.Tier = "premium"
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.Member(f.ctx, "bob")
	if got.Company != "Initech" || got.Tier != "premium" || calls != 2 {
		t.Fatalf("company %q, tier %q after %d calls; want both edits, in 2", got.Company, got.Tier, calls)
	}
	stale.School = "MIT"
	if err := f.store.PutMember(f.ctx, stale); !errors.Is(err, lifecycle.ErrConflict) {
		t.Fatalf("write over a stale version: %v", err)
	}
}

// TestReceivedCountersNeverGoBack: as TestWindowCountersNeverGoBack, for
// the recipient's received counters: two senders, one recipient allowed 5
// a day, already at 5 on Monday.
func TestReceivedCountersNeverGoBack(t *testing.T) {
	f := newFixture(t, policy(t, "recipient_daily_max: 1000", "recipient_daily_max: 5"), monday)
	f.member(lifecycle.Member{ID: "bob"})
	f.member(lifecycle.Member{ID: "carol", Tier: "premium"})
	f.connect("carol", "bob")
	for i := range 7 {
		id := fmt.Sprintf("s%d", i)
		f.member(lifecycle.Member{ID: id})
		f.connect(id, "carol")
		if i < 5 {
			if res := f.invite(id, "bob"); res.Invite.Outcome != "allow" {
				t.Fatalf("invitation %d: %+v", i, res.Invite)
			}
		}
	}
	beforeMidnight := time.Date(2026, 3, 2, 23, 59, 59, 0, la)
	afterMidnight := time.Date(2026, 3, 3, 0, 0, 1, 0, la)
	nTue, _ := lifecycle.New(lifecycle.Config{Policy: f.n.Policy(), Store: f.store, Clock: lifecycle.NewManualClock(afterMidnight)})
	late := &hookClock{times: []time.Time{beforeMidnight, afterMidnight}}
	late.hook = func() {
		if res, err := nTue.Invite(f.ctx, lifecycle.InviteInput{From: "s5", To: "bob"}); err != nil || res.Invite.Outcome != "allow" {
			t.Errorf("Tuesday's invitation: %+v, %v", res.Invite, err)
		}
	}
	nLate, _ := lifecycle.New(lifecycle.Config{Policy: f.n.Policy(), Store: f.store, Clock: late})
	res, err := nLate.Invite(f.ctx, lifecycle.InviteInput{From: "s6", To: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Invite.Outcome != "allow" || !res.Invitation.SentAt.Equal(afterMidnight) {
		t.Fatalf("the late invitation: %s/%s sent at %s; want allowed on Tuesday", res.Invite.Outcome, res.Invite.Reason, res.Invitation.SentAt)
	}
	if m, _ := nTue.Meter(f.ctx, "bob"); m.Received.Day != 2 || m.Received.Week != 7 {
		t.Fatalf("bob received %d on Tuesday, %d this week; want 2 and 7", m.Received.Day, m.Received.Week)
	}
}
