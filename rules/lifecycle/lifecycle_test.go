package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

var la = mustLoc("America/Los_Angeles")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// monday is Monday 2 March 2026, 10:00 Pacific: the week began at 00:01.
var monday = time.Date(2026, 3, 2, 10, 0, 0, 0, la)

// policy loads policies.yaml with textual replacements, each old=>new,
// applied once.
func policy(t testing.TB, replace ...string) *rules.Policy {
	t.Helper()
	src, err := os.ReadFile("../../policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(s, replace[i]) {
			t.Fatalf("policies.yaml no longer contains %q", replace[i])
		}
		s = strings.Replace(s, replace[i], replace[i+1], 1)
	}
	p, err := rules.Load("policies.yaml", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type fixture struct {
	t     testing.TB
	ctx   context.Context
	n     *lifecycle.Network
	store lifecycle.Store
	clock *lifecycle.ManualClock
}

func newFixture(t testing.TB, p *rules.Policy, start time.Time) *fixture {
	t.Helper()
	st := storeUnderTest(t)
	clock := lifecycle.NewManualClock(start)
	n, err := lifecycle.New(lifecycle.Config{Policy: p, Store: st, Clock: clock})
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
	if err := f.n.AddMember(f.ctx, m); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) connect(a, b string) {
	f.t.Helper()
	if err := f.n.Connect(f.ctx, a, b); err != nil {
		f.t.Fatal(err)
	}
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
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

func (f *fixture) meter(id string) lifecycle.Meter {
	f.t.Helper()
	m, err := f.n.Meter(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func TestInviteDeliverAccept(t *testing.T) {
	f := newFixture(t, policy(t), monday)
	f.hub("free", 1)
	if d, m, _ := f.n.Relation(f.ctx, "alice", "r1"); d != 2 || m != 1 {
		t.Fatalf("degree, mutual = %d, %d; want 2, 1", d, m)
	}
	res := f.invite("alice", "r1")
	if res.Invite.Outcome != "allow" || res.Deliver == nil || res.Deliver.Outcome != "inbox" {
		t.Fatalf("invite = %+v, deliver = %+v", res.Invite, res.Deliver)
	}
	if res.Invitation.Status != lifecycle.StatusPending || res.Invitation.Delivery != lifecycle.DeliveryInbox {
		t.Fatalf("invitation = %+v", res.Invitation)
	}
	if res.Public.Message != "Invitation sent." {
		t.Fatalf("public = %+v", res.Public)
	}
	if got := f.invite("alice", "r1"); got.Invite.Reason != "already_pending" {
		t.Fatalf("second invitation: %+v", got.Invite)
	}
	ar, err := f.n.Accept(f.ctx, res.Invitation.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ar.Decision.Outcome != "allow" || ar.Invitation.Status != lifecycle.StatusAccepted {
		t.Fatalf("accept = %+v", ar)
	}
	if d, _, _ := f.n.Relation(f.ctx, "alice", "r1"); d != 1 {
		t.Fatalf("after accept degree = %d", d)
	}
	if _, err := f.n.Accept(f.ctx, res.Invitation.ID); !errors.Is(err, lifecycle.ErrNotPending) {
		t.Fatalf("accepting twice: err = %v", err)
	}
	if got := f.invite("alice", "r1"); got.Invite.Reason != "already_connected" {
		t.Fatalf("invite a connection: %+v", got.Invite)
	}
	m := f.meter("alice")
	if m.Day.Used != 1 || m.Day.Remaining != 29 || m.Week.Used != 1 || m.Connections != 2 {
		t.Fatalf("meter = %+v", m)
	}
	// The log has every action, versioned, with facts on engine decisions.
	var actions []string
	for _, e := range f.events() {
		if e.V != lifecycle.EventVersion {
			t.Fatalf("event %d has version %d", e.Seq, e.V)
		}
		if e.Action == lifecycle.ActionInvite && (e.Request == nil || e.Decision == nil) {
			t.Fatalf("invite event without facts: %+v", e)
		}
		if e.Action != lifecycle.ActionMember && e.Action != lifecycle.ActionConnect {
			actions = append(actions, e.Action+":"+e.Result)
		}
	}
	want := "invite:pending deliver:inbox invite:refused accept:connected invite:refused"
	if got := strings.Join(actions, " "); got != want {
		t.Fatalf("log = %s\nwant  %s", got, want)
	}
}

func TestDailyLimitThenNextDay(t *testing.T) {
	f := newFixture(t, policy(t), monday)
	f.hub("free", 40)
	for i := 1; i <= 30; i++ {
		if res := f.invite("alice", fmt.Sprintf("r%d", i)); res.Invite.Outcome != "allow" {
			t.Fatalf("invitation %d: %+v", i, res.Invite)
		}
	}
	res := f.invite("alice", "r31")
	want := time.Date(2026, 3, 3, 0, 0, 0, 0, la)
	if res.Invite.Reason != "daily_limit" || !res.Invite.RetryAfter.Equal(want) || res.Invitation.ID != "" {
		t.Fatalf("31st: %+v", res)
	}
	if m := f.meter("alice"); m.Day.Remaining != 0 || !m.Day.ResetsAt.Equal(want) || m.OverLimit != 0 {
		t.Fatalf("meter = %+v", m)
	}
	f.clock.Set(want)
	if res := f.invite("alice", "r31"); res.Invite.Outcome != "allow" {
		t.Fatalf("next day: %+v", res.Invite)
	}
	if m := f.meter("alice"); m.Day.Used != 1 || m.Week.Used != 31 {
		t.Fatalf("meter next day = %+v", m)
	}
}

// TestConcurrentInvitesAdmitExactlyTheLimit runs under -race in CI: 32
// goroutines invite from one sender at once and exactly the daily limit
// commits.
func TestConcurrentInvitesAdmitExactlyTheLimit(t *testing.T) {
	f := newFixture(t, policy(t), monday)
	const goroutines, each = 32, 3
	f.hub("free", goroutines*each)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed, denied := 0, map[string]int{}
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < each; k++ {
				res, err := f.n.Invite(f.ctx, lifecycle.InviteInput{From: "alice", To: fmt.Sprintf("r%d", g*each+k+1), Note: "hi"})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if res.Invite.Outcome == "allow" {
					allowed++
				} else {
					denied[res.Invite.Reason]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != 30 || denied["daily_limit"] != goroutines*each-30 {
		t.Fatalf("allowed %d, denied %v; want exactly 30 allowed", allowed, denied)
	}
	if m := f.meter("alice"); m.Day.Used != 30 {
		t.Fatalf("meter day used = %d", m.Day.Used)
	}
	pending := 0
	for i := 1; i <= goroutines*each; i++ {
		p, _ := f.store.Pending(f.ctx, "alice", fmt.Sprintf("r%d", i))
		pending += len(p)
	}
	if pending != 30 {
		t.Fatalf("%d pending invitations stored, want 30", pending)
	}
}

// Concurrent invitations to one recipient: exactly one is pending.
func TestConcurrentInvitesToOneRecipient(t *testing.T) {
	f := newFixture(t, policy(t), monday)
	f.hub("free", 1)
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.n.Invite(f.ctx, lifecycle.InviteInput{From: "alice", To: "r1", Note: "hi"})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			outcomes[res.Invite.Outcome+"/"+res.Invite.Reason]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if outcomes["allow/sent"] != 1 || outcomes["deny/already_pending"] != 31 {
		t.Fatalf("outcomes = %v", outcomes)
	}
}

func TestWeeklyLimitRestrictsAndLifts(t *testing.T) {
	// Free members cannot reach 300 a week at 30 a day; read seed 001's
	// "about 300 requests per day" instead.
	p := policy(t, "free:    {daily: 30,", "free:    {daily: 300,")
	f := newFixture(t, p, monday)
	f.hub("free", 301)
	for i := 1; i <= 300; i++ {
		if i == 151 {
			f.clock.Advance(24 * time.Hour) // 150 a day keeps under the daily 300
		}
		if res := f.invite("alice", fmt.Sprintf("r%d", i)); res.Invite.Outcome != "allow" {
			t.Fatalf("invitation %d: %+v", i, res.Invite)
		}
	}
	now := f.clock.Now()
	res := f.invite("alice", "r301")
	until := now.Add(7 * 24 * time.Hour)
	if res.Invite.Reason != "weekly_limit" || !res.RestrictedUntil.Equal(until) {
		t.Fatalf("301st: %+v", res)
	}
	m := f.meter("alice")
	if m.OverLimit != 1 || !m.RestrictedUntil.Equal(until) || m.Available != 0 {
		t.Fatalf("meter = %+v", m)
	}
	// Refused while restricted, and still counted as over the limit.
	f.clock.Advance(time.Hour)
	if res := f.invite("alice", "r301"); res.Invite.Reason != "sender_restricted" || !res.Invite.RetryAfter.Equal(until) {
		t.Fatalf("while restricted: %+v", res.Invite)
	}
	if m := f.meter("alice"); m.OverLimit != 2 {
		t.Fatalf("over limit = %d", m.OverLimit)
	}
	// The restriction lifts by itself.
	f.clock.Set(until)
	if res := f.invite("alice", "r301"); res.Invite.Outcome != "allow" {
		t.Fatalf("after the restriction: %+v", res.Invite)
	}
	if m := f.meter("alice"); !m.RestrictedUntil.IsZero() || m.OverLimit != 0 || m.Week.Used != 1 {
		t.Fatalf("meter after = %+v", m)
	}
}

func TestIgnoreRejectWithdraw(t *testing.T) {
	f := newFixture(t, policy(t), monday)
	f.hub("free", 3)
	// Ignored: the sender waits 90 days; the third ignore is final.
	var lastIgnored time.Time
	for round := 1; round <= 3; round++ {
		res := f.invite("alice", "r1")
		if res.Invite.Outcome != "allow" {
			t.Fatalf("round %d: %+v", round, res.Invite)
		}
		if _, err := f.n.Ignore(f.ctx, res.Invitation.ID); err != nil {
			t.Fatal(err)
		}
		lastIgnored = f.clock.Now()
		// alice is not told: her invitation reads pending until she
		// withdraws it; then the resend rules apply.
		if res := f.invite("alice", "r1"); res.Invite.Reason != "already_pending" {
			t.Fatalf("round %d, right after the ignore: %+v", round, res.Invite)
		}
		if inv, err := f.n.Withdraw(f.ctx, res.Invitation.ID); err != nil || inv.Status != lifecycle.StatusWithdrawn {
			t.Fatalf("round %d, withdrawing the ignored invitation: %+v, %v", round, inv, err)
		}
		res = f.invite("alice", "r1")
		switch round {
		case 1:
			if want := lastIgnored.Add(90 * 24 * time.Hour); res.Invite.Reason != "resend_cooldown" || !res.Invite.RetryAfter.Equal(want) {
				t.Fatalf("after one ignore: %+v", res.Invite)
			}
			f.clock.Advance(90 * 24 * time.Hour)
		case 2:
			if want := lastIgnored.Add(365 * 24 * time.Hour); !res.Invite.RetryAfter.Equal(want) {
				t.Fatalf("after two ignores: %+v", res.Invite)
			}
			f.clock.Advance(365 * 24 * time.Hour)
		case 3:
			if res.Invite.Rule != "resend_never" {
				t.Fatalf("after three ignores: %+v", res.Invite)
			}
		}
	}
	// Rejected: never again, and the sender is told.
	res := f.invite("alice", "r2")
	ar, err := f.n.Reject(f.ctx, res.Invitation.ID)
	if err != nil || !ar.NotifySender || ar.Invitation.Status != lifecycle.StatusRejected {
		t.Fatalf("reject = %+v, %v", ar, err)
	}
	f.clock.Advance(5 * 365 * 24 * time.Hour)
	if res := f.invite("alice", "r2"); res.Invite.Reason != "previously_rejected" {
		t.Fatalf("after reject: %+v", res.Invite)
	}
	// Withdrawn: a new invitation may follow at once (withdraw_cooldown 0d).
	res = f.invite("alice", "r3")
	inv, err := f.n.Withdraw(f.ctx, res.Invitation.ID)
	if err != nil || inv.Status != lifecycle.StatusWithdrawn {
		t.Fatalf("withdraw = %+v, %v", inv, err)
	}
	if _, err := f.n.Accept(f.ctx, res.Invitation.ID); !errors.Is(err, lifecycle.ErrNotPending) {
		t.Fatalf("accepting a withdrawn invitation: %v", err)
	}
	if res := f.invite("alice", "r3"); res.Invite.Outcome != "allow" {
		t.Fatalf("after withdraw: %+v", res.Invite)
	}
}

func TestBlockWithdrawsBothWaysAndDisconnects(t *testing.T) {
	f := newFixture(t, policy(t), monday)
	f.hub("free", 2)
	out := f.invite("alice", "r1")
	in := f.invite("r1", "alice")
	f.connect("alice", "r2")
	br, err := f.n.Block(f.ctx, "r1", "alice")
	if err != nil || len(br.Withdrawn) != 2 {
		t.Fatalf("block = %+v, %v", br, err)
	}
	for _, id := range []string{out.Invitation.ID, in.Invitation.ID} {
		if inv, _ := f.store.Invitation(f.ctx, id); inv.Status != lifecycle.StatusWithdrawn {
			t.Fatalf("%s is %s after the block", id, inv.Status)
		}
	}
	// alice still sees hers pending; once she withdraws it, the generic
	// message.
	if res := f.invite("alice", "r1"); res.Invite.Reason != "already_pending" {
		t.Fatalf("after the block: %+v", res.Invite)
	}
	if _, err := f.n.Withdraw(f.ctx, out.Invitation.ID); err != nil {
		t.Fatal(err)
	}
	res := f.invite("alice", "r1")
	if res.Invite.Reason != "blocked" || res.Public != f.n.Policy().GenericDenial() {
		t.Fatalf("blocked: %+v", res)
	}
	br, _ = f.n.Block(f.ctx, "alice", "r2")
	if !br.Disconnected {
		t.Fatal("block did not remove the connection")
	}
	if err := f.n.Unblock(f.ctx, "r1", "alice"); err != nil {
		t.Fatal(err)
	}
	if res := f.invite("alice", "r1"); res.Invite.Outcome != "allow" {
		t.Fatalf("after unblock: %+v", res.Invite)
	}
}

func TestSoftBanShadowsAndNeverDelivers(t *testing.T) {
	f := newFixture(t, policy(t), monday)
	f.hub("free", 1)
	f.member(lifecycle.Member{ID: "alice", Status: "soft_banned", Company: "Acme"})
	res := f.invite("alice", "r1")
	if res.Invite.Outcome != "shadow" || res.Public.Outcome != "allow" || res.Public.Message != "Invitation sent." {
		t.Fatalf("soft-banned: %+v", res)
	}
	if res.Deliver != nil || res.Invitation.Delivery != lifecycle.DeliveryShadow {
		t.Fatalf("a shadowed invitation was delivered: %+v", res)
	}
	if _, err := f.n.Accept(f.ctx, res.Invitation.ID); !errors.Is(err, lifecycle.ErrNotPending) {
		t.Fatalf("the recipient could accept a shadowed invitation: %v", err)
	}
	if m := f.meter("alice"); m.Day.Used != 1 {
		t.Fatalf("the meter gives the shadow away: %+v", m)
	}
	if m := f.meter("r1"); m.Member != "r1" {
		t.Fatal(m)
	}
	u, _ := f.store.Usage(f.ctx, "r1", lifecycle.WindowsAt(f.n.Policy().Calendar(), f.clock.Now()))
	if u.Received.Day != 0 {
		t.Fatalf("a shadowed invitation counted as received: %+v", u)
	}
}

func TestDeliverOutcomes(t *testing.T) {
	f := newFixture(t, policy(t), monday)
	f.hub("free", 0)
	f.member(lifecycle.Member{ID: "auto", Settings: rules.Settings{AutoAccept: rules.AutoAccept{Companies: []string{"Acme"}}}})
	f.member(lifecycle.Member{ID: "held", Settings: rules.Settings{RequireConfirmation: true}})
	f.member(lifecycle.Member{ID: "nobody", Settings: rules.Settings{Invitations: "nobody"}})
	for _, id := range []string{"auto", "held", "nobody"} {
		f.connect("carol", id)
	}
	res := f.invite("alice", "auto")
	if res.Deliver.Outcome != "auto_accept" || res.Accept == nil || res.Invitation.Status != lifecycle.StatusAccepted {
		t.Fatalf("auto_accept: %+v", res)
	}
	if d, _, _ := f.n.Relation(f.ctx, "alice", "auto"); d != 1 {
		t.Fatal("auto_accept did not connect")
	}
	res = f.invite("alice", "held")
	if res.Invitation.Delivery != lifecycle.DeliveryHold || res.Invitation.Status != lifecycle.StatusPending {
		t.Fatalf("hold: %+v", res.Invitation)
	}
	res = f.invite("alice", "nobody")
	if res.Invitation.Status != lifecycle.StatusIgnored || res.Public.Message != "Invitation sent." {
		t.Fatalf("auto_ignore: %+v", res)
	}
	// The recipient's setting is not an answer to alice: it leaves no
	// trace in the pair's resend facts, and alice sees her invitation
	// pending.
	if p, _ := f.store.Pair(f.ctx, "alice", "nobody"); p.Ignored != 0 {
		t.Fatalf("auto_ignore counted as an ignore: %+v", p)
	}
	if res.Sent.Status != lifecycle.StatusPending || res.Sent.ID != res.Invitation.ID {
		t.Fatalf("auto_ignore, the sender's view: %+v", res.Sent)
	}
}

func TestPendingExpiry(t *testing.T) {
	f := newFixture(t, policy(t), monday)
	f.hub("free", 2)
	a := f.invite("alice", "r1")
	f.clock.Advance(24 * time.Hour)
	b := f.invite("alice", "r2")
	f.clock.Set(monday.Add(180*24*time.Hour - time.Second))
	if got, _ := f.n.Expire(f.ctx); len(got) != 0 {
		t.Fatalf("expired too early: %+v", got)
	}
	f.clock.Set(monday.Add(180 * 24 * time.Hour))
	got, err := f.n.Expire(f.ctx)
	if err != nil || len(got) != 1 || got[0].ID != a.Invitation.ID {
		t.Fatalf("expired %+v, %v", got, err)
	}
	// Without a sweep, reading the pair expires b before deciding.
	f.clock.Advance(24 * time.Hour)
	if res := f.invite("alice", "r2"); res.Invite.Outcome != "allow" {
		t.Fatalf("after expiry: %+v", res.Invite)
	}
	if inv, _ := f.store.Invitation(f.ctx, b.Invitation.ID); inv.Status != lifecycle.StatusExpired {
		t.Fatalf("b is %s", inv.Status)
	}
}

func TestImportContactsCountTowardQuota(t *testing.T) {
	f := newFixture(t, policy(t), monday)
	f.member(lifecycle.Member{ID: "alice"})
	for i := 1; i <= 35; i++ { // strangers: only the email makes them reachable
		f.member(lifecycle.Member{ID: fmt.Sprintf("s%d", i)})
	}
	emails := []string{"nobody@nowhere.example"}
	for i := 1; i <= 35; i++ {
		emails = append(emails, fmt.Sprintf("S%d@example.com", i))
	}
	matched, err := f.n.ImportContacts(f.ctx, "alice", emails)
	if err != nil || len(matched) != 35 {
		t.Fatalf("matched %v, %v", matched, err)
	}
	allowed := 0
	for _, id := range matched {
		if res := f.invite("alice", id); res.Invite.Outcome == "allow" {
			if !res.Request.Pair.KnowsEmail || res.Request.Pair.Degree != 0 {
				t.Fatalf("facts: %+v", res.Request.Pair)
			}
			allowed++
		} else if res.Invite.Reason != "daily_limit" {
			t.Fatalf("%s: %+v", id, res.Invite)
		}
	}
	if allowed != 30 {
		t.Fatalf("%d invitations from imported contacts allowed, want the daily 30", allowed)
	}
}

func TestConnectionCaps(t *testing.T) {
	p := policy(t, "free:    {daily: 30,  weekly: 300, monthly: 0, connections: 500}", "free:    {daily: 30,  weekly: 300, monthly: 0, connections: 2}")
	f := newFixture(t, p, monday)
	f.hub("free", 3)
	// alice has 1 connection (carol); r1 will fill up before accepting.
	res := f.invite("alice", "r1")
	f.member(lifecycle.Member{ID: "x"})
	f.connect("r1", "x") // r1: carol, x = 2 = the cap
	ar, err := f.n.Accept(f.ctx, res.Invitation.ID)
	if err != nil || ar.Decision.Rule != "accept_recipient_cap" || ar.Invitation.Status != lifecycle.StatusPending {
		t.Fatalf("accept at the cap: %+v, %v", ar, err)
	}
	f.connect("alice", "r3") // alice at 2
	if res := f.invite("alice", "r2"); res.Invite.Reason != "sender_connection_limit" {
		t.Fatalf("invite at the cap: %+v", res.Invite)
	}
}

func TestDeciderErrorFailsClosed(t *testing.T) {
	p := policy(t)
	boom := errors.New("module trapped")
	st := lifecycle.NewMemStore()
	n, err := lifecycle.New(lifecycle.Config{Policy: p, Store: st, Clock: lifecycle.NewManualClock(monday),
		Decider: lifecycle.DeciderFunc(func(context.Context, *rules.Request) (rules.Decision, error) { return rules.Decision{}, boom })})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_ = n.AddMember(ctx, lifecycle.Member{ID: "a"})
	_ = n.AddMember(ctx, lifecycle.Member{ID: "b"})
	res, err := n.Invite(ctx, lifecycle.InviteInput{From: "a", To: "b"})
	if !errors.Is(err, boom) || res.Invite.Outcome != "deny" || res.Invite.Reason != rules.ReasonServiceUnavailable || res.Invitation.ID != "" {
		t.Fatalf("res = %+v, err = %v", res, err)
	}
}

func TestNewNeedsPolicyAndClock(t *testing.T) {
	if _, err := lifecycle.New(lifecycle.Config{Clock: lifecycle.NewManualClock(monday)}); err == nil {
		t.Fatal("no error without a policy")
	}
	if _, err := lifecycle.New(lifecycle.Config{Policy: policy(t)}); err == nil {
		t.Fatal("no error without a clock")
	}
}
