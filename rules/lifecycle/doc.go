// Package lifecycle keeps the state the rules engine decides from and
// applies what its decisions say: members and their settings, the
// connection graph, imported contacts, blocks, invitations, quota counters
// over calendar windows, restrictions, and an append-only event log.
//
// It is pure Go: no wazero, no clock and no I/O beyond its [Store]
// interface, so the Go host and the browser demo's js build run the same
// code. Time comes from an injected [Clock]; decisions come from a
// [Decider], which the native engine ([Native]) and the wazero host both
// satisfy.
//
// Quick start:
//
//	p, _ := rules.Load("policies.yaml", src)
//	clock := lifecycle.NewManualClock(start)
//	n, _ := lifecycle.New(lifecycle.Config{Policy: p, Clock: clock})
//	_ = n.AddMember(ctx, lifecycle.Member{ID: "alice", Tier: "free"})
//	_ = n.AddMember(ctx, lifecycle.Member{ID: "bob", Tier: "free", Email: "bob@example.com"})
//	// Strangers need the email address (or a shared connection).
//	res, _ := n.Invite(ctx, lifecycle.InviteInput{From: "alice", To: "bob", Email: "bob@example.com"})
//	fmt.Println(res.Public.Message) // what alice sees: "Invitation sent."
//
// # Actions
//
// Every action of the seeds is a method of [Network]: [Network.Invite]
// (the invite stage, then, when allowed, the deliver stage),
// [Network.Accept] (the accept stage), [Network.Ignore],
// [Network.Reject], [Network.Withdraw], [Network.Expire],
// [Network.Remove], [Network.Block], [Network.Unblock] and
// [Network.ImportContacts]. Each appends events to the store's log.
//
// # Quotas
//
// Sent and received invitations are counted per member over four windows
// of the policy's calendar: the rolling hour, the day, the week (by default
// from Monday 00:01 America/Los_Angeles) and the month. A window is named
// by the instant it starts, computed with the policy's time zone, so a
// day is 23 or 25 hours long across a daylight-saving change and nothing
// is off by an hour. The check and the increment are one atomic step:
// [Store.Reserve] commits an invitation only if the sender's counters, and
// the recipient's received counters, are still the ones the engine
// decided on. Likewise [Store.AcceptInvitation] connects two members only
// if their connection counts are still the ones the accept stage's caps
// were checked against, and [Store.CloseInvitation] closes an invitation
// together with the pair record the resend rules read. Counters per
// window never go back.
//
// # The sender's view
//
// A sender is never told of an ignore or a block. Everything they look
// at goes through [Invitation.SenderView]: [Network.Sent] (their sent
// list), [Network.Withdraw], [InviteResult.Sent] and the pending count
// the invite stage sees, so an ignored or blocked invitation reads as
// pending, like one nobody answered, until they withdraw it or it
// expires.
package lifecycle
