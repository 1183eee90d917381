package lifecycle_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connrules/connrules/rules/lifecycle"
)

// These stress tests inject nothing: goroutines race freely (run them
// with -race) and the invariants are checked at the end.

// TestStressRejectAgainstReinvites: for each of many pairs, one goroutine
// keeps inviting while another rejects the first invitation it sees. A
// re-invite must never get in after the reject: at the end no rejected
// pair has a pending invitation.
func TestStressRejectAgainstReinvites(t *testing.T) {
	const pairs, tries = 40, 30
	f := newFixture(t, policy(t), monday) // one pending invitation per pair
	f.member(lifecycle.Member{ID: "carol", Tier: "premium"})
	for i := range pairs {
		f.member(lifecycle.Member{ID: fmt.Sprintf("s%d", i), Tier: "premium"})
		f.member(lifecycle.Member{ID: fmt.Sprintf("r%d", i)})
		f.connect(fmt.Sprintf("s%d", i), "carol")
		f.connect("carol", fmt.Sprintf("r%d", i))
	}
	var wg sync.WaitGroup
	for i := range pairs {
		from, to := fmt.Sprintf("s%d", i), fmt.Sprintf("r%d", i)
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range tries {
				if _, err := f.n.Invite(f.ctx, lifecycle.InviteInput{From: from, To: to}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range tries * 10 {
				inv, err := f.n.PendingFrom(f.ctx, from, to)
				if err != nil {
					continue
				}
				if _, err := f.n.Reject(f.ctx, inv.ID); err == nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	for i := range pairs {
		from, to := fmt.Sprintf("s%d", i), fmt.Sprintf("r%d", i)
		rec, _ := f.store.Pair(f.ctx, from, to)
		pend, _ := f.store.Pending(f.ctx, from, to)
		if rec.Rejected && len(pend) > 0 {
			t.Errorf("%s → %s: rejected, yet %d invitations pending (first %s)", from, to, len(pend), pend[0].ID)
		}
	}
}

// TestStressAcrossMidnight: many invitations from one sender whose clock
// crosses midnight while they race. Monday never gets more than its 30,
// and Tuesday's count is every invitation sent on Tuesday.
func TestStressAcrossMidnight(t *testing.T) {
	const goroutines, each = 16, 8
	f := newFixture(t, policy(t), monday)
	f.hub("free", goroutines*each+25)
	for i := 1; i <= 25; i++ {
		f.invite("alice", fmt.Sprintf("r%d", i))
	}
	midnight := time.Date(2026, 3, 3, 0, 0, 0, 0, la)
	var tick atomic.Int64
	clock := lifecycle.ClockFunc(func() time.Time {
		return midnight.Add(-20*time.Millisecond + time.Duration(tick.Add(1))*100*time.Microsecond)
	})
	n, err := lifecycle.New(lifecycle.Config{Policy: f.n.Policy(), Store: f.store, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				to := fmt.Sprintf("r%d", 26+g*each+k)
				if _, err := n.Invite(f.ctx, lifecycle.InviteInput{From: "alice", To: to}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	sent, _ := n.Sent(f.ctx, "alice")
	var mon, tue int
	for _, inv := range sent {
		if inv.SentAt.Before(midnight) {
			mon++
		} else {
			tue++
		}
	}
	f.clock.Set(midnight.Add(time.Hour))
	m := f.meter("alice")
	if mon > 30 || m.Day.Used != tue || m.Week.Used != mon+tue {
		t.Fatalf("Monday %d (max 30), Tuesday %d; meter on Tuesday: day %d, week %d", mon, tue, m.Day.Used, m.Week.Used)
	}
}

// TestStressMemberEdits: profile edits race with restrictions and
// answers; none is lost.
func TestStressMemberEdits(t *testing.T) {
	const goroutines, each = 8, 25
	f := newFixture(t, policy(t), monday)
	f.member(lifecycle.Member{ID: "bob"})
	invs := pendingFrom(f, "bob", goroutines*each)
	var wg sync.WaitGroup
	var latest atomic.Int64
	for g := range goroutines {
		wg.Add(3)
		go func() {
			defer wg.Done()
			for k := range each {
				if _, err := f.n.UpdateMember(f.ctx, "bob", func(m *lifecycle.Member) {
					m.Settings.Companies = append(m.Settings.Companies, fmt.Sprintf("c%d-%d", g, k))
				}); err != nil {
					t.Error(err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for k := range each {
				until := monday.Add(time.Duration(g*each+k+1) * time.Hour)
				if _, err := f.store.Restrict(f.ctx, "bob", until); err != nil {
					t.Error(err)
				}
				for {
					old := latest.Load()
					if until.UnixNano() <= old || latest.CompareAndSwap(old, until.UnixNano()) {
						break
					}
				}
			}
		}()
		go func() {
			defer wg.Done()
			for _, id := range invs[g*each : (g+1)*each] {
				if _, ok, err := f.store.CloseInvitation(f.ctx, lifecycle.Closing{ID: id, From: lifecycle.StatusPending,
					Status: lifecycle.StatusRejected, At: monday, Reject: true, Answered: true}); err != nil || !ok {
					t.Error(ok, err)
				}
			}
		}()
	}
	wg.Wait()
	m, _ := f.store.Member(f.ctx, "bob")
	if len(m.Settings.Companies) != goroutines*each || m.Answered != goroutines*each ||
		m.RestrictedUntil.UnixNano() != latest.Load() || m.Version != goroutines*each+1 {
		t.Fatalf("companies %d, answered %d, restricted until %s, version %d; want %d, %d, %s, %d",
			len(m.Settings.Companies), m.Answered, m.RestrictedUntil, m.Version,
			goroutines*each, goroutines*each, time.Unix(0, latest.Load()), goroutines*each+1)
	}
}

// pendingFrom stores n pending invitations from one member, each to a new
// member, straight in the store, and returns their ids.
func pendingFrom(f *fixture, from string, n int) []string {
	f.t.Helper()
	w := lifecycle.WindowsAt(f.n.Policy().Calendar(), f.clock.Now())
	ids := make([]string, n)
	for i := range ids {
		to := fmt.Sprintf("%s-to-%d", from, i)
		f.member(lifecycle.Member{ID: to})
		u, err := f.store.Usage(f.ctx, from, w)
		if err != nil {
			f.t.Fatal(err)
		}
		inv, ok, err := f.store.Reserve(f.ctx, lifecycle.Reservation{Seq: u.Seq, Windows: w,
			Invitation: lifecycle.Invitation{From: from, To: to, SentAt: w.Now, Status: lifecycle.StatusPending, Delivery: lifecycle.DeliveryInbox}})
		if err != nil || !ok {
			f.t.Fatal(ok, err)
		}
		ids[i] = inv.ID
	}
	return ids
}
