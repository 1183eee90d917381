package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/connrules/connrules/rules/lifecycle"
)

// closeOK closes an invitation and fails the test unless it applied.
func closeOK(t testing.TB, ctx context.Context, s lifecycle.Store, c lifecycle.Closing) lifecycle.Invitation {
	t.Helper()
	inv, ok, err := s.CloseInvitation(ctx, c)
	must(t, err)
	if !ok {
		t.Fatalf("CloseInvitation(%+v) did not apply: %s", c, fmtInv(inv))
	}
	return inv
}

func seqOf(t testing.TB, ctx context.Context, s lifecycle.Store, id string) uint64 {
	t.Helper()
	u, err := s.Usage(ctx, id, windows(Monday))
	must(t, err)
	return u.Seq
}

// testCloseInvitation checks each of the closing's flags, the conditional
// refusal and the unknown id.
func testCloseInvitation(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	put(t, ctx, s, "a", "b")
	at := Monday.Add(2 * time.Hour)
	pending := lifecycle.StatusPending
	for _, c := range []struct {
		name  string
		close lifecycle.Closing
		want  lifecycle.PairRecord
		ans   int
	}{
		{"ignore", lifecycle.Closing{From: pending, Status: lifecycle.StatusIgnored, Ignore: true, Answered: true},
			lifecycle.PairRecord{Ignored: 1, LastIgnoredAt: at}, 1},
		{"reject", lifecycle.Closing{From: pending, Status: lifecycle.StatusRejected, Reject: true, Answered: true},
			lifecycle.PairRecord{Rejected: true}, 1},
		{"withdraw", lifecycle.Closing{From: pending, Status: lifecycle.StatusWithdrawn, Withdraw: true},
			lifecycle.PairRecord{WithdrawnAt: at}, 0},
		{"private", lifecycle.Closing{From: pending, Status: lifecycle.StatusRejected, Private: true},
			lifecycle.PairRecord{}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, s := context.Background(), open(t)
			put(t, ctx, s, "a", "b")
			inv := reserve(t, ctx, s, "a", "b", Monday)
			seq := seqOf(t, ctx, s, "a")
			cl := c.close
			cl.ID, cl.At = inv.ID, at
			got := closeOK(t, ctx, s, cl)
			if got.Status != cl.Status || !got.ClosedAt.Equal(at) || got.Private != cl.Private || !got.SenderWithdrawnAt.IsZero() ||
				got.Delivery != inv.Delivery || got.Note != inv.Note {
				t.Fatalf("returned %+v", got)
			}
			stored, err := s.Invitation(ctx, inv.ID)
			must(t, err)
			if stored.Status != cl.Status || !stored.ClosedAt.Equal(at) || stored.Private != cl.Private {
				t.Fatalf("stored %+v", stored)
			}
			if pend, _ := s.Pending(ctx, "a", "b"); len(pend) != 0 {
				t.Fatalf("still pending: %v", pend)
			}
			rec, err := s.Pair(ctx, "a", "b")
			must(t, err)
			if rec.Ignored != c.want.Ignored || rec.Rejected != c.want.Rejected || !rec.LastIgnoredAt.Equal(c.want.LastIgnoredAt) ||
				!rec.WithdrawnAt.Equal(c.want.WithdrawnAt) {
				t.Fatalf("pair %+v, want %+v", rec, c.want)
			}
			if m, _ := s.Member(ctx, "a"); m.Answered != c.ans || m.Accepted != 0 {
				t.Fatalf("answers %d/%d, want %d/0", m.Accepted, m.Answered, c.ans)
			}
			if got := seqOf(t, ctx, s, "a"); got != seq+1 {
				t.Fatalf("Seq %d, want %d", got, seq+1)
			}
			// The same closing again: the status moved, nothing changes.
			again, ok, err := s.CloseInvitation(ctx, cl)
			if err != nil || ok || again.Status != cl.Status || again.ID != inv.ID {
				t.Fatalf("second close = %+v, %v, %v", again, ok, err)
			}
			if rec2, _ := s.Pair(ctx, "a", "b"); rec2 != rec {
				t.Fatalf("a refused close changed the pair: %+v", rec2)
			}
			if got := seqOf(t, ctx, s, "a"); got != seq+1 {
				t.Fatal("a refused close bumped the Seq")
			}
		})
	}
	_, _, err := s.CloseInvitation(ctx, lifecycle.Closing{ID: "inv-77", From: pending, Status: lifecycle.StatusIgnored, At: at})
	wantNotFound(t, "CloseInvitation inv-77", err)
	_, _, err = s.CloseInvitation(ctx, lifecycle.Closing{ID: "bogus", From: pending, Status: lifecycle.StatusIgnored, At: at})
	wantNotFound(t, "CloseInvitation bogus", err)
}

// testSenderWithdrew: the sender's withdrawal of an invitation closed out
// of their sight keeps the status, sets SenderWithdrawnAt once, and takes
// it out of the snapshot's hidden ones.
func testSenderWithdrew(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	put(t, ctx, s, "a", "b")
	inv := reserve(t, ctx, s, "a", "b", Monday)
	at, later := Monday.Add(time.Hour), Monday.Add(3*time.Hour)
	closeOK(t, ctx, s, lifecycle.Closing{ID: inv.ID, From: lifecycle.StatusPending, Status: lifecycle.StatusIgnored, At: at, Ignore: true})
	seq := seqOf(t, ctx, s, "a")
	// The wrong From is refused.
	wd := lifecycle.Closing{ID: inv.ID, From: lifecycle.StatusPending, At: later, SenderWithdrew: true, Withdraw: true}
	if got, ok, err := s.CloseInvitation(ctx, wd); err != nil || ok || got.Status != lifecycle.StatusIgnored {
		t.Fatalf("withdrawal from pending = %+v, %v, %v", got, ok, err)
	}
	wd.From = lifecycle.StatusIgnored
	got := closeOK(t, ctx, s, wd)
	if got.Status != lifecycle.StatusIgnored || !got.ClosedAt.Equal(at) || !got.SenderWithdrawnAt.Equal(later) {
		t.Fatalf("after the sender's withdrawal: %+v", got)
	}
	stored, _ := s.Invitation(ctx, inv.ID)
	if stored.Status != lifecycle.StatusIgnored || !stored.SenderWithdrawnAt.Equal(later) {
		t.Fatalf("stored %+v", stored)
	}
	if rec, _ := s.Pair(ctx, "a", "b"); rec.Ignored != 1 || !rec.WithdrawnAt.Equal(later) {
		t.Fatalf("pair %+v", rec)
	}
	if seqOf(t, ctx, s, "a") != seq+1 {
		t.Fatal("the sender's withdrawal did not bump the Seq")
	}
	// Once withdrawn by the sender, nothing closes it again.
	if _, ok, err := s.CloseInvitation(ctx, wd); err != nil || ok {
		t.Fatalf("second withdrawal: %v, %v", ok, err)
	}
	snap, err := s.Snapshot(ctx, lifecycle.SnapshotQuery{From: "a", To: "b", Windows: windows(Monday), Budget: 100})
	must(t, err)
	if len(snap.Hidden) != 0 {
		t.Fatalf("withdrawn invitation still hidden: %v", snap.Hidden)
	}
}

// testHidden: the snapshot lists the pair's ignored and private
// invitations, oldest first, and none of its others.
func testHidden(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	put(t, ctx, s, "a", "b", "c")
	var ids []string
	for i := range 5 {
		ids = append(ids, reserve(t, ctx, s, "a", "b", Monday.Add(time.Duration(i)*time.Minute)).ID)
	}
	other := reserve(t, ctx, s, "a", "c", Monday)
	back := reserve(t, ctx, s, "b", "a", Monday)
	at := Monday.Add(time.Hour)
	pending := lifecycle.StatusPending
	// ids[3] closes first: the list is still oldest first.
	closeOK(t, ctx, s, lifecycle.Closing{ID: ids[3], From: pending, Status: lifecycle.StatusIgnored, At: at.Add(-time.Minute), Ignore: true})
	closeOK(t, ctx, s, lifecycle.Closing{ID: ids[0], From: pending, Status: lifecycle.StatusIgnored, At: at, Ignore: true})
	closeOK(t, ctx, s, lifecycle.Closing{ID: ids[1], From: pending, Status: lifecycle.StatusRejected, At: at, Reject: true})
	closeOK(t, ctx, s, lifecycle.Closing{ID: ids[2], From: pending, Status: lifecycle.StatusWithdrawn, At: at, Private: true})
	closeOK(t, ctx, s, lifecycle.Closing{ID: other.ID, From: pending, Status: lifecycle.StatusIgnored, At: at, Ignore: true})
	closeOK(t, ctx, s, lifecycle.Closing{ID: back.ID, From: pending, Status: lifecycle.StatusIgnored, At: at, Ignore: true})
	snap, err := s.Snapshot(ctx, lifecycle.SnapshotQuery{From: "a", To: "b", Windows: windows(Monday), Budget: 100})
	must(t, err)
	var got []string
	for _, inv := range snap.Hidden {
		got = append(got, inv.ID)
	}
	if len(got) != 3 || got[0] != ids[0] || got[1] != ids[2] || got[2] != ids[3] || !snap.Hidden[1].Private {
		t.Fatalf("Hidden = %v, want %v %v %v (the second private)", got, ids[0], ids[2], ids[3])
	}
	if len(snap.Pending) != 1 || snap.Pending[0].ID != ids[4] {
		t.Fatalf("Pending = %v", snap.Pending)
	}
}

// testSentBy: every invitation a member sent, whatever became of it, in
// the order stored.
func testSentBy(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	put(t, ctx, s, "a", "b", "c")
	if got, err := s.SentBy(ctx, "nobody"); err != nil || len(got) != 0 {
		t.Fatalf("SentBy(nobody) = %v, %v", got, err)
	}
	i1 := reserve(t, ctx, s, "a", "b", Monday.Add(time.Hour))
	reserve(t, ctx, s, "b", "a", Monday)
	i2 := reserve(t, ctx, s, "a", "c", Monday) // earlier, but stored later
	i3 := reserve(t, ctx, s, "a", "b", Monday.Add(2*time.Hour))
	closeOK(t, ctx, s, lifecycle.Closing{ID: i1.ID, From: lifecycle.StatusPending, Status: lifecycle.StatusIgnored,
		At: Monday.Add(3 * time.Hour), Ignore: true})
	got, err := s.SentBy(ctx, "a")
	must(t, err)
	if len(got) != 3 || got[0].ID != i1.ID || got[1].ID != i2.ID || got[2].ID != i3.ID ||
		got[0].Status != lifecycle.StatusIgnored || got[1].To != "c" || got[2].Status != lifecycle.StatusPending {
		t.Fatalf("SentBy(a) = %v", got)
	}
}

// testMemberVersions: PutMember's optimistic check and its profile-only
// update.
func testMemberVersions(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	m := lifecycle.Member{ID: "a", Kind: "person", Tier: "free", Status: "active", Title: "one", Version: 3}
	if err := s.PutMember(ctx, m); !errors.Is(err, lifecycle.ErrConflict) {
		t.Fatalf("creating at version 3: %v, want ErrConflict", err)
	}
	if _, err := s.Member(ctx, "a"); !errors.Is(err, lifecycle.ErrNotFound) {
		t.Fatal("a refused PutMember created the member")
	}
	m.Version = 0
	must(t, s.PutMember(ctx, m))
	if got, _ := s.Member(ctx, "a"); got.Version != 1 {
		t.Fatalf("version after creation %d, want 1", got.Version)
	}
	m.Title, m.Version = "two", 1
	must(t, s.PutMember(ctx, m))
	m.Title = "stale"
	if err := s.PutMember(ctx, m); !errors.Is(err, lifecycle.ErrConflict) {
		t.Fatalf("writing over version 1 at 2: %v, want ErrConflict", err)
	}
	if got, _ := s.Member(ctx, "a"); got.Title != "two" || got.Version != 2 {
		t.Fatalf("after the conflict: title %q version %d", got.Title, got.Version)
	}
	// Version 0: no check, still a bump.
	m.Title, m.Version = "three", 0
	must(t, s.PutMember(ctx, m))
	if got, _ := s.Member(ctx, "a"); got.Title != "three" || got.Version != 3 {
		t.Fatalf("unchecked write: title %q version %d", got.Title, got.Version)
	}
	// The profile only: a restriction, the answers and the counters stay.
	until := Monday.AddDate(0, 0, 7)
	_, err := s.Restrict(ctx, "a", until)
	must(t, err)
	answer(t, ctx, s, "a", true)
	m.RestrictedUntil, m.Answered, m.Accepted, m.Title, m.Version = time.Time{}, 9, 9, "four", 3
	must(t, s.PutMember(ctx, m))
	got, _ := s.Member(ctx, "a")
	if !got.RestrictedUntil.Equal(until) || got.Answered != 1 || got.Accepted != 1 || got.Title != "four" || got.Version != 4 {
		t.Fatalf("profile update: %+v", got)
	}
}

// testStaleWindows: counters never go back to an earlier window.
func testStaleWindows(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	put(t, ctx, s, "a", "b", "c")
	tue := Monday.AddDate(0, 0, 1)
	reserve(t, ctx, s, "a", "b", tue)
	// a's sent day counter holds Tuesday: a Monday decision is stale.
	u, _ := s.Usage(ctx, "a", windows(Monday))
	inv := lifecycle.Invitation{From: "a", To: "c", SentAt: Monday, Status: lifecycle.StatusPending}
	if _, ok, err := s.Reserve(ctx, lifecycle.Reservation{Seq: u.Seq, Windows: windows(Monday), Invitation: inv}); err != nil || ok {
		t.Fatalf("Reserve in an older day: %v, %v", ok, err)
	}
	// b's received counter holds Tuesday: c's Monday decision is stale.
	uc, _ := s.Usage(ctx, "c", windows(Monday))
	ub, _ := s.Usage(ctx, "b", windows(Monday))
	inv = lifecycle.Invitation{From: "c", To: "b", SentAt: Monday, Status: lifecycle.StatusPending}
	if _, ok, err := s.Reserve(ctx, lifecycle.Reservation{Seq: uc.Seq, Windows: windows(Monday), Invitation: inv,
		Received: true, RecipientSeq: ub.RecvSeq}); err != nil || ok {
		t.Fatalf("Reserve into an older received day: %v, %v", ok, err)
	}
	if got, _ := s.SentBy(ctx, "c"); len(got) != 0 {
		t.Fatal("a refused Reserve stored its invitation")
	}
	if ut, _ := s.Usage(ctx, "b", windows(tue)); ut.Received.Day != 1 {
		t.Fatalf("b's Tuesday count %d, want 1", ut.Received.Day)
	}
	// Over-limit: a count in next week refuses this week's.
	next := windows(Monday.AddDate(0, 0, 7))
	ua, _ := s.Usage(ctx, "a", next)
	if ok, err := s.CountOverLimit(ctx, "a", ua.Seq, next); err != nil || !ok {
		t.Fatalf("CountOverLimit next week: %v, %v", ok, err)
	}
	if ok, err := s.CountOverLimit(ctx, "a", ua.Seq+1, windows(Monday)); err != nil || ok {
		t.Fatalf("CountOverLimit in an older week: %v, %v", ok, err)
	}
	if un, _ := s.Usage(ctx, "a", next); un.OverLimit != 1 || un.Seq != ua.Seq+1 {
		t.Fatalf("after the refused count: %+v", un)
	}
}

// testAcceptBumpsSeq: an acceptance bumps the sender's Seq, so a decision
// read before it cannot commit.
func testAcceptBumpsSeq(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	put(t, ctx, s, "a", "b")
	inv := reserve(t, ctx, s, "a", "b", Monday)
	seq := seqOf(t, ctx, s, "a")
	acc := inv
	acc.Status, acc.ClosedAt = lifecycle.StatusAccepted, Monday.Add(time.Hour)
	if ok, err := s.AcceptInvitation(ctx, lifecycle.Acceptance{Invitation: acc}); err != nil || !ok {
		t.Fatalf("AcceptInvitation = %v, %v", ok, err)
	}
	if got := seqOf(t, ctx, s, "a"); got != seq+1 {
		t.Fatalf("Seq %d after the acceptance, want %d", got, seq+1)
	}
}
