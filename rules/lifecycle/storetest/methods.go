package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

func testMembers(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	_, err := s.Member(ctx, "nobody")
	wantNotFound(t, "Member", err)
	_, err = s.MemberByEmail(ctx, "nobody@example.com")
	wantNotFound(t, "MemberByEmail", err)
	_, err = s.MemberByEmail(ctx, "")
	wantNotFound(t, "MemberByEmail empty", err)
	m := lifecycle.Member{ID: "alice", Kind: "person", Tier: "premium", Status: "active", Company: "Acme", School: "MIT",
		Email: "Alice@Example.com", AcceptanceRate: 0.25, Answered: 3, Accepted: 1,
		RestrictedUntil: time.Date(2026, 3, 9, 0, 0, 0, 0, LA),
		Settings:        rules.Settings{Companies: []string{"Acme"}}}
	must(t, s.PutMember(ctx, m))
	got, err := s.Member(ctx, "alice")
	must(t, err)
	if !got.RestrictedUntil.Equal(m.RestrictedUntil) {
		t.Fatalf("restricted_until %v, want %v", got.RestrictedUntil, m.RestrictedUntil)
	}
	got.RestrictedUntil = m.RestrictedUntil
	m.Version = 1 // the first write
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("Member = %+v\nwant %+v", got, m)
	}
	byEmail, err := s.MemberByEmail(ctx, "ALICE@example.COM")
	must(t, err)
	if byEmail.ID != "alice" {
		t.Fatalf("MemberByEmail = %q", byEmail.ID)
	}
	// Restrict keeps the later end.
	end, err := s.Restrict(ctx, "alice", time.Date(2026, 3, 5, 0, 0, 0, 0, LA))
	must(t, err)
	if !end.Equal(m.RestrictedUntil) {
		t.Fatalf("earlier restriction moved the end to %v", end)
	}
	later := time.Date(2026, 3, 20, 0, 0, 0, 0, LA)
	if end, err = s.Restrict(ctx, "alice", later); err != nil || !end.Equal(later) {
		t.Fatalf("Restrict = %v, %v; want %v", end, err, later)
	}
	_, err = s.Restrict(ctx, "nobody", later)
	wantNotFound(t, "Restrict", err)
	answer(t, ctx, s, "alice", true)
	answer(t, ctx, s, "alice", false)
	got, err = s.Member(ctx, "alice")
	must(t, err)
	if got.Answered != 5 || got.Accepted != 2 || !got.RestrictedUntil.Equal(later) {
		t.Fatalf("after answers: %+v", got)
	}
	// Replacing, at the version read, keeps the counters, the answers and
	// the restriction (m still holds the old ones) and moves the email.
	u0 := reserveTo(t, ctx, s, "alice")
	m.Email = "alice@new.example"
	must(t, s.PutMember(ctx, m))
	if got, err := s.Member(ctx, "alice"); err != nil || got.Answered != 5 || got.Accepted != 2 ||
		!got.RestrictedUntil.Equal(later) || got.Version != 2 || got.Email != m.Email {
		t.Fatalf("after the profile update: %+v, %v", got, err)
	}
	_, err = s.MemberByEmail(ctx, "alice@example.com")
	wantNotFound(t, "old email", err)
	if got, err := s.MemberByEmail(ctx, "ALICE@new.example"); err != nil || got.ID != "alice" {
		t.Fatalf("new email: %v %v", got.ID, err)
	}
	u, err := s.Usage(ctx, "alice", windows(Monday))
	must(t, err)
	if u.Sent.Day != u0.Sent.Day || u.Seq != u0.Seq {
		t.Fatalf("PutMember reset the counters: %+v, was %+v", u, u0)
	}
	_, err = s.Usage(ctx, "nobody", windows(Monday))
	wantNotFound(t, "Usage", err)
}

// reserveTo sends one invitation from id to a new member and returns the
// sender's usage after it.
func reserveTo(t testing.TB, ctx context.Context, s lifecycle.Store, id string) lifecycle.Usage {
	put(t, ctx, s, "zed")
	reserve(t, ctx, s, id, "zed", Monday)
	u, err := s.Usage(ctx, id, windows(Monday))
	must(t, err)
	if u.Sent.Day != 1 {
		t.Fatalf("usage after one reserve: %+v", u)
	}
	return u
}

func testGraph(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	put(t, ctx, s, "a", "b", "c", "d", "e", "f")
	if err := s.Connect(ctx, "a", "a"); err == nil {
		t.Fatal("Connect to itself succeeded")
	}
	// a - b - c - d, and a - e - c: a and c have two mutual connections.
	for _, p := range [][2]string{{"a", "b"}, {"b", "c"}, {"c", "d"}, {"a", "e"}, {"e", "c"}, {"b", "a"}} {
		must(t, s.Connect(ctx, p[0], p[1]))
	}
	for _, c := range []struct {
		a, b           string
		degree, mutual int
	}{
		{"a", "b", 1, 0}, {"b", "a", 1, 0}, {"a", "c", 2, 2}, {"a", "d", 3, 0}, {"d", "a", 3, 0},
		{"a", "f", 0, 0}, {"a", "a", 0, 0}, {"a", "nobody", 0, 0}, {"b", "e", 2, 2},
	} {
		d, m, err := s.Relation(ctx, c.a, c.b, lifecycle.DefaultSearchBudget)
		must(t, err)
		if d != c.degree || m != c.mutual {
			t.Errorf("Relation(%s, %s) = %d, %d; want %d, %d", c.a, c.b, d, m, c.degree, c.mutual)
		}
	}
	if d, _, _ := s.Relation(ctx, "a", "d", 1); d != 0 {
		t.Errorf("degree 3 found within a budget of 1")
	}
	if n, err := s.ConnectionCount(ctx, "a"); err != nil || n != 2 {
		t.Fatalf("ConnectionCount(a) = %d, %v", n, err)
	}
	if n, err := s.ConnectionCount(ctx, "nobody"); err != nil || n != 0 {
		t.Fatalf("ConnectionCount(nobody) = %d, %v", n, err)
	}
	if had, err := s.Disconnect(ctx, "b", "a"); err != nil || !had {
		t.Fatalf("Disconnect = %v, %v", had, err)
	}
	if had, err := s.Disconnect(ctx, "a", "b"); err != nil || had {
		t.Fatalf("second Disconnect = %v, %v", had, err)
	}
	if n, _ := s.ConnectionCount(ctx, "b"); n != 1 {
		t.Fatalf("b has %d connections after the disconnect, want 1", n)
	}
}

func testContactsBlocksPairs(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	put(t, ctx, s, "a", "b")
	must(t, s.AddContacts(ctx, "a", []string{"B@Example.com", "x@example.com"}))
	must(t, s.AddContacts(ctx, "a", []string{"b@example.com"}))
	for _, c := range []struct {
		owner, email string
		want         bool
	}{{"a", "b@EXAMPLE.com", true}, {"a", "x@example.com", true}, {"a", "", false}, {"b", "a@example.com", false}, {"nobody", "b@example.com", false}} {
		if got, err := s.HasContact(ctx, c.owner, c.email); err != nil || got != c.want {
			t.Errorf("HasContact(%s, %s) = %v, %v", c.owner, c.email, got, err)
		}
	}
	u0, _ := s.Usage(ctx, "b", windows(Monday))
	must(t, s.SetBlock(ctx, "a", "b", true))
	for _, p := range [][2]string{{"a", "b"}, {"b", "a"}} {
		if got, err := s.Blocked(ctx, p[0], p[1]); err != nil || !got {
			t.Fatalf("Blocked(%s, %s) = %v, %v", p[0], p[1], got, err)
		}
	}
	if u, _ := s.Usage(ctx, "b", windows(Monday)); u.Seq == u0.Seq {
		t.Fatal("a block did not bump the blocked member's Seq")
	}
	must(t, s.SetBlock(ctx, "a", "b", false))
	if got, _ := s.Blocked(ctx, "b", "a"); got {
		t.Fatal("still blocked after the unblock")
	}
	if got, _ := s.Blocked(ctx, "a", "nobody"); got {
		t.Fatal("blocked with nobody")
	}
	if rec, err := s.Pair(ctx, "a", "b"); err != nil || rec != (lifecycle.PairRecord{}) {
		t.Fatalf("empty Pair = %+v, %v", rec, err)
	}
	at := time.Date(2026, 3, 3, 12, 0, 0, 0, LA)
	i1, i2 := reserve(t, ctx, s, "a", "b", Monday), reserve(t, ctx, s, "a", "b", Monday)
	closeOK(t, ctx, s, lifecycle.Closing{ID: i1.ID, From: lifecycle.StatusPending, Status: lifecycle.StatusIgnored, At: at, Ignore: true})
	closeOK(t, ctx, s, lifecycle.Closing{ID: i2.ID, From: lifecycle.StatusPending, Status: lifecycle.StatusRejected, At: at.Add(time.Hour),
		Ignore: true, Reject: true})
	rec, err := s.Pair(ctx, "a", "b")
	must(t, err)
	if rec.Ignored != 2 || !rec.Rejected || !rec.LastIgnoredAt.Equal(at.Add(time.Hour)) || !rec.WithdrawnAt.IsZero() {
		t.Fatalf("Pair = %+v", rec)
	}
	if rec, _ := s.Pair(ctx, "b", "a"); rec != (lifecycle.PairRecord{}) {
		t.Fatalf("the other direction has a record: %+v", rec)
	}
}

func testInvitations(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	put(t, ctx, s, "a", "b", "c")
	_, err := s.Invitation(ctx, "inv-1")
	wantNotFound(t, "Invitation", err)
	_, err = s.Invitation(ctx, "bogus")
	wantNotFound(t, "Invitation bogus", err)
	i1 := reserve(t, ctx, s, "a", "b", Monday)
	i2 := reserve(t, ctx, s, "a", "b", Monday.Add(time.Minute))
	i3 := reserve(t, ctx, s, "c", "b", Monday.Add(-time.Hour))
	if i1.ID != "inv-1" || i2.ID != "inv-2" || i3.ID != "inv-3" {
		t.Fatalf("ids %s %s %s, want inv-1..3", i1.ID, i2.ID, i3.ID)
	}
	got, err := s.Invitation(ctx, i1.ID)
	must(t, err)
	if fmtInv(got) != fmtInv(i1) || got.Note != "hi" {
		t.Fatalf("Invitation = %s, want %s", fmtInv(got), fmtInv(i1))
	}
	pend, err := s.Pending(ctx, "a", "b")
	must(t, err)
	if len(pend) != 2 || pend[0].ID != i1.ID || pend[1].ID != i2.ID {
		t.Fatalf("Pending = %v", pend)
	}
	if pend, _ := s.Pending(ctx, "b", "a"); len(pend) != 0 {
		t.Fatalf("Pending the other way = %v", pend)
	}
	before, err := s.PendingSentBefore(ctx, Monday.Add(time.Second))
	must(t, err)
	if len(before) != 2 || before[0].ID != i3.ID || before[1].ID != i1.ID {
		t.Fatalf("PendingSentBefore = %v", before)
	}
	closed := i1
	closed.Status, closed.Delivery, closed.ClosedAt = lifecycle.StatusWithdrawn, lifecycle.DeliveryInbox, Monday.Add(time.Hour)
	if ok, err := s.UpdateInvitation(ctx, closed, lifecycle.StatusPending); err != nil || !ok {
		t.Fatalf("UpdateInvitation = %v, %v", ok, err)
	}
	if ok, err := s.UpdateInvitation(ctx, closed, lifecycle.StatusPending); err != nil || ok {
		t.Fatalf("second UpdateInvitation = %v, %v; want false", ok, err)
	}
	closed.ID = "inv-99"
	_, err = s.UpdateInvitation(ctx, closed, lifecycle.StatusPending)
	wantNotFound(t, "UpdateInvitation", err)
	got, _ = s.Invitation(ctx, i1.ID)
	closed.ID = i1.ID
	if fmtInv(got) != fmtInv(closed) {
		t.Fatalf("after update %s, want %s", fmtInv(got), fmtInv(closed))
	}
	if pend, _ := s.Pending(ctx, "a", "b"); len(pend) != 1 || pend[0].ID != i2.ID {
		t.Fatalf("Pending after the withdrawal = %v", pend)
	}
}

func testReserve(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	put(t, ctx, s, "a", "b", "c")
	w := windows(Monday)
	u, _ := s.Usage(ctx, "a", w)
	rb, _ := s.Usage(ctx, "b", w)
	inv := lifecycle.Invitation{From: "a", To: "b", SentAt: Monday, Status: lifecycle.StatusPending}
	// A stale Seq changes nothing.
	if _, ok, err := s.Reserve(ctx, lifecycle.Reservation{Seq: u.Seq + 1, Windows: w, Invitation: inv}); err != nil || ok {
		t.Fatalf("stale Seq: ok %v, err %v", ok, err)
	}
	// A stale RecvSeq changes nothing either.
	if _, ok, err := s.Reserve(ctx, lifecycle.Reservation{Seq: u.Seq, Windows: w, Invitation: inv, Received: true, RecipientSeq: rb.RecvSeq + 1}); err != nil || ok {
		t.Fatalf("stale RecvSeq: ok %v, err %v", ok, err)
	}
	if _, err := s.Invitation(ctx, "inv-1"); !errors.Is(err, lifecycle.ErrNotFound) {
		t.Fatal("a refused Reserve stored its invitation")
	}
	if u2, _ := s.Usage(ctx, "a", w); u2 != u {
		t.Fatalf("a refused Reserve moved the counters: %+v", u2)
	}
	missing := inv
	missing.From = "nobody"
	_, _, err := s.Reserve(ctx, lifecycle.Reservation{Windows: w, Invitation: missing})
	wantNotFound(t, "Reserve from nobody", err)
	// Shadowed: counted for the sender only.
	sh := inv
	sh.Delivery = lifecycle.DeliveryShadow
	got, ok, err := s.Reserve(ctx, lifecycle.Reservation{Seq: u.Seq, Windows: w, Invitation: sh})
	if err != nil || !ok || got.ID == "" || got.Delivery != lifecycle.DeliveryShadow {
		t.Fatalf("shadow Reserve = %+v, %v, %v", got, ok, err)
	}
	if rb2, _ := s.Usage(ctx, "b", w); rb2.Received.Day != 0 || rb2.RecvSeq != rb.RecvSeq {
		t.Fatalf("a shadowed invitation counted as received: %+v", rb2)
	}
	// Three more, an hour and a day apart: the windows count what is in them.
	reserve(t, ctx, s, "a", "b", Monday.Add(30*time.Minute))
	reserve(t, ctx, s, "a", "c", Monday.Add(90*time.Minute))
	reserve(t, ctx, s, "a", "c", Monday.Add(25*time.Hour))
	at := Monday.Add(25*time.Hour + time.Minute)
	ua, _ := s.Usage(ctx, "a", windows(at))
	if ua.Sent != (rules.Counts{Hour: 1, Day: 1, Week: 4, Month: 4}) || ua.Seq != u.Seq+4 {
		t.Fatalf("a's usage = %+v", ua)
	}
	if !ua.HourOldest.Equal(Monday.Add(25 * time.Hour)) {
		t.Fatalf("HourOldest = %v", ua.HourOldest)
	}
	ub, _ := s.Usage(ctx, "b", windows(Monday.Add(31*time.Minute)))
	if ub.Received != (rules.Counts{Hour: 1, Day: 1, Week: 1, Month: 1}) || ub.RecvSeq != rb.RecvSeq+1 {
		t.Fatalf("b's usage = %+v", ub)
	}
	// A stored counter from another window reads as zero.
	if un, _ := s.Usage(ctx, "a", windows(Monday.AddDate(0, 2, 0))); un.Sent != (rules.Counts{}) {
		t.Fatalf("usage two months on = %+v", un.Sent)
	}
}

func testAccept(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	put(t, ctx, s, "a", "b", "c")
	must(t, s.Connect(ctx, "b", "c"))
	inv := reserve(t, ctx, s, "a", "b", Monday)
	acc := inv
	acc.Status, acc.ClosedAt = lifecycle.StatusAccepted, Monday.Add(time.Hour)
	// Counts that moved change nothing.
	if ok, err := s.AcceptInvitation(ctx, lifecycle.Acceptance{Invitation: acc, SenderConnections: 0, RecipientConnections: 0}); err != nil || ok {
		t.Fatalf("stale counts: %v, %v", ok, err)
	}
	if n, _ := s.ConnectionCount(ctx, "a"); n != 0 {
		t.Fatal("a refused acceptance connected")
	}
	if ok, err := s.AcceptInvitation(ctx, lifecycle.Acceptance{Invitation: acc, SenderConnections: 0, RecipientConnections: 1}); err != nil || !ok {
		t.Fatalf("AcceptInvitation = %v, %v", ok, err)
	}
	if d, _, _ := s.Relation(ctx, "a", "b", 100); d != 1 {
		t.Fatal("not connected after the acceptance")
	}
	got, _ := s.Invitation(ctx, inv.ID)
	if got.Status != lifecycle.StatusAccepted || !got.ClosedAt.Equal(acc.ClosedAt) {
		t.Fatalf("invitation after the acceptance: %s", fmtInv(got))
	}
	if m, _ := s.Member(ctx, "a"); m.Answered != 1 || m.Accepted != 1 {
		t.Fatalf("sender's answers: %d/%d", m.Accepted, m.Answered)
	}
	_, err := s.AcceptInvitation(ctx, lifecycle.Acceptance{Invitation: acc, SenderConnections: 1, RecipientConnections: 2})
	if !errors.Is(err, lifecycle.ErrNotPending) {
		t.Fatalf("second acceptance: %v, want ErrNotPending", err)
	}
	acc.ID = "inv-42"
	_, err = s.AcceptInvitation(ctx, lifecycle.Acceptance{Invitation: acc})
	wantNotFound(t, "AcceptInvitation", err)
}

func testCountOverLimit(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	put(t, ctx, s, "a")
	w := windows(Monday)
	u, _ := s.Usage(ctx, "a", w)
	if ok, err := s.CountOverLimit(ctx, "a", u.Seq+1, w); err != nil || ok {
		t.Fatalf("stale Seq: %v, %v", ok, err)
	}
	for i := range 2 {
		if ok, err := s.CountOverLimit(ctx, "a", u.Seq+uint64(i), w); err != nil || !ok {
			t.Fatalf("CountOverLimit %d: %v, %v", i, ok, err)
		}
	}
	if u2, _ := s.Usage(ctx, "a", w); u2.OverLimit != 2 || u2.Seq != u.Seq+2 {
		t.Fatalf("usage = %+v", u2)
	}
	next := windows(Monday.AddDate(0, 0, 7))
	if u3, _ := s.Usage(ctx, "a", next); u3.OverLimit != 0 {
		t.Fatalf("next week's over-limit count = %d", u3.OverLimit)
	}
	if ok, err := s.CountOverLimit(ctx, "a", u.Seq+2, next); err != nil || !ok {
		t.Fatalf("next week: %v, %v", ok, err)
	}
	if u3, _ := s.Usage(ctx, "a", next); u3.OverLimit != 1 {
		t.Fatalf("next week's over-limit count = %d, want 1", u3.OverLimit)
	}
	_, err := s.CountOverLimit(ctx, "nobody", 0, w)
	wantNotFound(t, "CountOverLimit", err)
}

func testSnapshot(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	put(t, ctx, s, "a", "b", "c")
	must(t, s.Connect(ctx, "a", "c"))
	must(t, s.Connect(ctx, "c", "b"))
	must(t, s.AddContacts(ctx, "a", []string{"b@example.com"}))
	ign := reserve(t, ctx, s, "a", "b", Monday.Add(-time.Hour))
	closeOK(t, ctx, s, lifecycle.Closing{ID: ign.ID, From: lifecycle.StatusPending, Status: lifecycle.StatusIgnored,
		At: Monday.Add(-time.Minute), Ignore: true, Answered: true})
	inv := reserve(t, ctx, s, "a", "b", Monday)
	q := lifecycle.SnapshotQuery{From: "a", To: "b", Windows: windows(Monday), Budget: 1000}
	snap, err := s.Snapshot(ctx, q)
	must(t, err)
	if !snap.RecipientFound || snap.Sender.ID != "a" || snap.Recipient.ID != "b" || snap.Degree != 2 || snap.Mutual != 1 ||
		snap.SenderConnections != 1 || snap.RecipientConnections != 1 || !snap.SenderHasContact || snap.RecipientHasContact ||
		snap.Blocked || snap.Pair.Ignored != 1 || len(snap.Pending) != 1 || snap.Pending[0].ID != inv.ID ||
		len(snap.Hidden) != 1 || snap.Hidden[0].ID != ign.ID || snap.Hidden[0].Status != lifecycle.StatusIgnored ||
		snap.SenderUsage.Sent.Day != 2 || snap.RecipientUsage.Received.Day != 2 {
		t.Fatalf("Snapshot = %+v", snap)
	}
	byEmail, err := s.Snapshot(ctx, lifecycle.SnapshotQuery{From: "a", Email: "B@EXAMPLE.COM", Windows: q.Windows, Budget: 1000})
	must(t, err)
	if !byEmail.RecipientFound || byEmail.Recipient.ID != "b" {
		t.Fatalf("Snapshot by email: %+v", byEmail)
	}
	must(t, s.SetBlock(ctx, "b", "a", true))
	if snap, _ := s.Snapshot(ctx, q); !snap.Blocked {
		t.Fatal("Snapshot misses the recipient's block")
	}
	if snap, err := s.Snapshot(ctx, lifecycle.SnapshotQuery{From: "a", To: "nobody", Windows: q.Windows}); err != nil || snap.RecipientFound || snap.Sender.ID != "a" {
		t.Fatalf("Snapshot to nobody = %+v, %v", snap, err)
	}
	_, err = s.Snapshot(ctx, lifecycle.SnapshotQuery{From: "nobody", To: "a", Windows: q.Windows})
	wantNotFound(t, "Snapshot from nobody", err)
}

func testEvents(t *testing.T, open Open) {
	ctx, s := context.Background(), open(t)
	for i := range 5 {
		e := &lifecycle.Event{V: lifecycle.EventVersion, At: Monday.Add(time.Duration(i) * time.Second), Action: lifecycle.ActionBlock,
			Actor: "a", Result: "blocked", Detail: map[string]any{"i": i}}
		must(t, s.Append(ctx, e))
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d got Seq %d", i, e.Seq)
		}
	}
	r, ok := s.(lifecycle.EventReader)
	if !ok {
		t.Skip("the store does not read its log back")
	}
	evs, err := r.ReadEvents(ctx)
	must(t, err)
	if len(evs) != 5 {
		t.Fatalf("%d events, want 5", len(evs))
	}
	for i, e := range evs {
		if e.Seq != uint64(i+1) || !e.At.Equal(Monday.Add(time.Duration(i)*time.Second)) || e.Actor != "a" {
			t.Fatalf("event %d = %+v", i, e)
		}
	}
}
