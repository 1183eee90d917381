package lifecycle_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// exampleNetwork is alice and bob, who share carol, on the default policy
// at Monday 2 March 2026 10:00 Pacific.
func exampleNetwork() (*lifecycle.Network, *lifecycle.ManualClock, *lifecycle.MemStore) {
	src, err := os.ReadFile("../../policies.yaml")
	if err != nil {
		panic(err)
	}
	p, err := rules.Load("policies.yaml", src)
	if err != nil {
		panic(err)
	}
	la, _ := time.LoadLocation("America/Los_Angeles")
	clock := lifecycle.NewManualClock(time.Date(2026, 3, 2, 10, 0, 0, 0, la))
	store := lifecycle.NewMemStore()
	n, err := lifecycle.New(lifecycle.Config{Policy: p, Store: store, Clock: clock})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, id := range []string{"alice", "bob", "carol"} {
		_ = n.AddMember(ctx, lifecycle.Member{ID: id, Email: id + "@example.com", AcceptanceRate: 0.5})
	}
	_ = n.Connect(ctx, "alice", "carol")
	_ = n.Connect(ctx, "carol", "bob")
	return n, clock, store
}

// Example is the package's quick start, as in README.md: two new members
// who share no connection. The default policy lets a member invite people
// they share a connection with, or whose email address they know; the
// refusal says so, and the invitation with bob's address is sent.
func Example() {
	src, err := os.ReadFile("../../policies.yaml")
	if err != nil {
		panic(err)
	}
	p, err := rules.Load("policies.yaml", src)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	clock := lifecycle.NewManualClock(time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC))
	n, err := lifecycle.New(lifecycle.Config{Policy: p, Clock: clock}) // a MemStore
	if err != nil {
		panic(err)
	}
	_ = n.AddMember(ctx, lifecycle.Member{ID: "alice", Tier: "free", Email: "alice@example.com"})
	_ = n.AddMember(ctx, lifecycle.Member{ID: "bob", Tier: "free", Email: "bob@example.com"})

	res, _ := n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: "bob"})
	fmt.Println(res.Invite.Reason+":", res.Public.Message)

	res, _ = n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: "bob", Email: "bob@example.com"})
	fmt.Println(res.Invite.Reason+":", res.Public.Message)

	acc, _ := n.Accept(ctx, res.Invitation.ID)
	fmt.Println(acc.Invitation.Status+":", acc.Decision.Message)
	// Output:
	// not_close_enough: You and this member share no connection, and you didn't give their email address. Invite them with their email address, or connect with someone they know first.
	// sent: Invitation sent.
	// accepted: You're now connected.
}

func ExampleNetwork_Invite() {
	n, _, _ := exampleNetwork()
	ctx := context.Background()
	res, err := n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: "bob", Note: "Hi Bob, we met at the meetup."})
	if err != nil {
		panic(err)
	}
	fmt.Println("invite:", res.Invite.Outcome, res.Invite.Reason)
	fmt.Println("facts: degree", res.Request.Pair.Degree, "mutual", res.Request.Pair.Mutual)
	fmt.Println("deliver:", res.Deliver.Outcome)
	fmt.Println("alice sees:", res.Public.Message)

	again, _ := n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: "bob"})
	fmt.Println("again:", again.Invite.Reason)
	// Output:
	// invite: allow sent
	// facts: degree 2 mutual 1
	// deliver: inbox
	// alice sees: Invitation sent.
	// again: already_pending
}

func ExampleNetwork_Accept() {
	n, _, _ := exampleNetwork()
	ctx := context.Background()
	res, _ := n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: "bob"})
	ar, err := n.Accept(ctx, res.Invitation.ID)
	if err != nil {
		panic(err)
	}
	degree, _, _ := n.Relation(ctx, "alice", "bob")
	fmt.Println(ar.Decision.Outcome, ar.Invitation.Status, "degree", degree)
	// Output: allow accepted degree 1
}

func ExampleNetwork_Ignore() {
	n, clock, _ := exampleNetwork()
	ctx := context.Background()
	res, _ := n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: "bob"})
	_, _ = n.Ignore(ctx, res.Invitation.ID) // alice is not told
	again, _ := n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: "bob"})
	fmt.Println(again.Invite.Reason) // she still sees it pending

	clock.Advance(24 * time.Hour)
	_, _ = n.Withdraw(ctx, res.Invitation.ID)
	again, _ = n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: "bob"})
	fmt.Println(again.Invite.Reason, "until", again.Invite.RetryAfter.Format("Jan 2 15:04 MST"))
	// Output:
	// already_pending
	// resend_cooldown until May 31 11:00 PDT
}

func ExampleNetwork_Block() {
	n, _, _ := exampleNetwork()
	ctx := context.Background()
	first, _ := n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: "bob"})
	br, _ := n.Block(ctx, "bob", "alice")
	fmt.Println("withdrawn:", len(br.Withdrawn))

	// alice is not told: her invitation still reads pending.
	sent, _ := n.Sent(ctx, "alice")
	fmt.Println(sent[0].Status)
	mine, _ := n.Withdraw(ctx, first.Invitation.ID)
	fmt.Println(mine.Status)
	res, _ := n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: "bob"})
	fmt.Println(res.Invite.Reason)
	fmt.Println(res.Public.Message)
	// Output:
	// withdrawn: 1
	// pending
	// withdrawn
	// blocked
	// Unable to connect. You can't send an invitation to this member right now.
}

func ExampleNetwork_Meter() {
	n, _, _ := exampleNetwork()
	ctx := context.Background()
	for _, to := range []string{"bob", "carol"} { // carol is a connection: refused, not counted
		_, _ = n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: to})
	}
	m, _ := n.Meter(ctx, "alice")
	fmt.Printf("day %d/%d, resets %s\n", m.Day.Used, m.Day.Limit, m.Day.ResetsAt.Format("Mon Jan 2 15:04 MST"))
	fmt.Printf("week %d/%d, resets %s\n", m.Week.Used, m.Week.Limit, m.Week.ResetsAt.Format("Mon Jan 2 15:04 MST"))
	fmt.Println("available:", m.Available)
	// Output:
	// day 1/30, resets Tue Mar 3 00:00 PST
	// week 1/300, resets Mon Mar 9 00:01 PDT
	// available: 29
}

func ExampleNetwork_Expire() {
	n, clock, _ := exampleNetwork()
	ctx := context.Background()
	_, _ = n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: "bob"})
	clock.Advance(n.PendingExpiry())
	expired, _ := n.Expire(ctx)
	fmt.Println(len(expired), expired[0].Status)
	// Output: 1 expired
}

func ExampleWriteEvents() {
	n, _, store := exampleNetwork()
	ctx := context.Background()
	_, _ = n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: "bob"})
	for _, e := range store.Events()[5:] { // after three members and two connections
		fmt.Println(e.Seq, e.Action, e.Actor, e.Subject, e.Result, e.Decision.Reason)
	}
	// Output:
	// 6 invite alice bob pending sent
	// 7 deliver alice bob inbox delivered
}
