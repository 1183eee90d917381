package lifecycle_test

import (
	"context"
	"fmt"
	"time"

	"github.com/connrules/connrules/rules/lifecycle"
)

func ExampleNetwork_Sent() {
	n, _, _ := exampleNetwork()
	ctx := context.Background()
	res, _ := n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: "bob", Note: "Hi Bob"})
	_, _ = n.Ignore(ctx, res.Invitation.ID) // alice is never told

	sent, _ := n.Sent(ctx, "alice")
	for _, inv := range sent {
		fmt.Println(inv.ID, inv.To, inv.Status)
	}
	// Output: inv-1 bob pending
}

func ExampleNetwork_Withdraw() {
	n, _, _ := exampleNetwork()
	ctx := context.Background()
	res, _ := n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: "bob"})
	_, _ = n.Block(ctx, "bob", "alice") // closes alice's invitation, privately

	inv, err := n.Withdraw(ctx, res.Invitation.ID)
	fmt.Println(inv.Status, err)
	_, err = n.Withdraw(ctx, res.Invitation.ID)
	fmt.Println(err)
	// Output:
	// withdrawn <nil>
	// invitation inv-1 (withdrawn): invitation is not pending
}

func ExampleNetwork_UpdateMember() {
	n, _, store := exampleNetwork()
	ctx := context.Background()
	_, _ = store.Restrict(ctx, "bob", time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC))
	m, _ := n.UpdateMember(ctx, "bob", func(m *lifecycle.Member) { m.Company = "Initech" })
	fmt.Println(m.Company, m.RestrictedUntil.Format(time.DateOnly), m.Version)
	// Output: Initech 2026-03-09 2
}

func ExampleInvitation_SenderView() {
	sent := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	inv := lifecycle.Invitation{ID: "inv-1", From: "alice", To: "bob", SentAt: sent,
		Status: lifecycle.StatusIgnored, Delivery: lifecycle.DeliveryAutoIgnore, ClosedAt: sent}
	fmt.Println(inv.SenderView(lifecycle.DefaultPendingExpiry, sent.Add(time.Hour)).Status)
	fmt.Println(inv.SenderView(lifecycle.DefaultPendingExpiry, sent.Add(lifecycle.DefaultPendingExpiry)).Status)
	// Output:
	// pending
	// expired
}
