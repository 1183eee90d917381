package service

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/connrules/connrules/rules/lifecycle"
)

// This file is the one place that reads invitations back for a member:
// the lists, what each side may see of an invitation, and the sender's
// withdrawal. The Store interface has no per-member listing yet, so the
// lists are built from the event log. When the lifecycle has the sender's
// view (Network.Sent, and Network.Withdraw answering with it), sentList
// and withdrawForSender become calls to those, here and nowhere else.

// eventReader is a store whose event log can be read back in append
// order (lifecycle.EventReader where the stores have it); eventSource is
// MemStore's older accessor.
type eventReader interface {
	ReadEvents(ctx context.Context) ([]lifecycle.Event, error)
}

type eventSource interface {
	Events() []lifecycle.Event
}

// events returns up to limit events with Seq > after, in order, and false
// if the store cannot read its log back.
func (s *Server) events(ctx context.Context, after uint64, limit int) ([]lifecycle.Event, bool, error) {
	var all []lifecycle.Event
	switch src := s.store.(type) {
	case eventReader:
		var err error
		if all, err = src.ReadEvents(ctx); err != nil {
			return nil, true, err
		}
	case eventSource:
		all = src.Events()
	default:
		return nil, false, nil
	}
	i := sort.Search(len(all), func(i int) bool { return all[i].Seq > after })
	all = all[i:]
	if len(all) > limit {
		all = all[:limit]
	}
	return all, true, nil
}

// SentInvitation is what a sender sees of their invitation. An invitation
// the recipient ignored, or that a block closed, reads as pending (the
// sender is never told) until it would have expired; a shadowed one reads
// as pending too. Delivery (inbox, spam, hold...) is never shown.
type SentInvitation struct {
	ID     string    `json:"id"`
	To     string    `json:"to,omitempty"`
	Email  string    `json:"email,omitempty"`
	Note   string    `json:"note,omitempty"`
	SentAt time.Time `json:"sent_at"`
	// Status is pending, accepted, rejected, withdrawn or expired.
	Status   string    `json:"status"`
	ClosedAt time.Time `json:"closed_at,omitzero"`
	// Cursor orders the list; pass it as after= for the next page.
	Cursor uint64 `json:"cursor"`
}

// ReceivedInvitation is what a recipient sees of an invitation to them.
type ReceivedInvitation struct {
	ID     string    `json:"id"`
	From   string    `json:"from"`
	Note   string    `json:"note,omitempty"`
	SentAt time.Time `json:"sent_at"`
	// Delivery is inbox, hold (awaiting confirmation) or spam.
	Delivery string `json:"delivery"`
	Cursor   uint64 `json:"cursor"`
}

// sentView maps an invitation to the sender's view. withdrawnAt is when
// the sender themselves withdrew it, zero if they did not: an invitation a
// block closed shows the sender's own withdrawal time, not the block's.
func sentView(inv lifecycle.Invitation, withdrawnAt time.Time, now time.Time, expiry time.Duration, cursor uint64) SentInvitation {
	v := SentInvitation{ID: inv.ID, To: inv.To, Email: inv.Email, Note: inv.Note, SentAt: inv.SentAt, Cursor: cursor}
	if inv.Email != "" {
		v.To = "" // invited by email: the sender knows only the address
	}
	switch {
	case inv.Status == lifecycle.StatusAccepted, inv.Status == lifecycle.StatusRejected, inv.Status == lifecycle.StatusExpired:
		v.Status, v.ClosedAt = inv.Status, inv.ClosedAt
	case !withdrawnAt.IsZero(): // the sender withdrew what they saw as pending
		v.Status, v.ClosedAt = lifecycle.StatusWithdrawn, withdrawnAt
	case !inv.SentAt.Add(expiry).After(now):
		v.Status, v.ClosedAt = lifecycle.StatusExpired, inv.SentAt.Add(expiry)
	default: // pending, ignored, withdrawn by a block
		v.Status = lifecycle.StatusPending
	}
	return v
}

// sentOf is the sender's view of an invitation they just sent.
func sentOf(g *generation, inv lifecycle.Invitation) SentInvitation {
	return sentView(inv, time.Time{}, g.net.Now(), g.net.PendingExpiry(), 0)
}

// receivedView reports the recipient's view, and false if they cannot see it.
func receivedView(inv lifecycle.Invitation, now time.Time, expiry time.Duration, cursor uint64) (ReceivedInvitation, bool) {
	if !inv.Visible() || !inv.SentAt.Add(expiry).After(now) {
		return ReceivedInvitation{}, false
	}
	return ReceivedInvitation{ID: inv.ID, From: inv.From, Note: inv.Note, SentAt: inv.SentAt, Delivery: inv.Delivery, Cursor: cursor}, true
}

// withdrawnBySender returns when the log has the sender withdrawing the
// invitation, zero if it does not.
func (s *Server) withdrawnBySender(ctx context.Context, inv lifecycle.Invitation) (time.Time, error) {
	evs, ok, err := s.events(ctx, 0, 1<<62)
	if err != nil || !ok {
		return time.Time{}, err
	}
	for i := len(evs) - 1; i >= 0; i-- {
		e := &evs[i]
		if e.Invitation == inv.ID && e.Action == lifecycle.ActionWithdraw && e.Actor == inv.From {
			return e.At, nil
		}
	}
	return time.Time{}, nil
}

// sentList lists a sender's invitations after a cursor, oldest first.
func (s *Server) sentList(ctx context.Context, g *generation, member string, after uint64, limit int) ([]SentInvitation, bool, error) {
	evs, ok, err := s.events(ctx, 0, 1<<62)
	if err != nil || !ok {
		return nil, ok, err
	}
	withdrawn := map[string]time.Time{}
	for i := range evs {
		e := &evs[i]
		if e.Action == lifecycle.ActionWithdraw && e.Actor == member {
			withdrawn[e.Invitation] = e.At
		}
	}
	now := g.net.Now()
	out := []SentInvitation{}
	for i := range evs {
		e := &evs[i]
		if e.Seq <= after || e.Action != lifecycle.ActionInvite || e.Actor != member || e.Invitation == "" {
			continue
		}
		inv, err := s.store.Invitation(ctx, e.Invitation)
		if err != nil {
			return nil, true, err
		}
		out = append(out, sentView(inv, withdrawn[inv.ID], now, g.net.PendingExpiry(), e.Seq))
		if len(out) == limit {
			break
		}
	}
	return out, true, nil
}

// receivedList lists the invitations a member can see and answer.
func (s *Server) receivedList(ctx context.Context, g *generation, member string, after uint64, limit int) ([]ReceivedInvitation, bool, error) {
	evs, ok, err := s.events(ctx, after, 1<<62)
	if err != nil || !ok {
		return nil, ok, err
	}
	now := g.net.Now()
	out := []ReceivedInvitation{}
	for i := range evs {
		e := &evs[i]
		if e.Action != lifecycle.ActionInvite || e.Subject != member || e.Invitation == "" {
			continue
		}
		inv, err := s.store.Invitation(ctx, e.Invitation)
		if err != nil {
			return nil, true, err
		}
		if v, ok := receivedView(inv, now, g.net.PendingExpiry(), e.Seq); ok {
			out = append(out, v)
			if len(out) == limit {
				break
			}
		}
	}
	return out, true, nil
}

// withdrawForSender withdraws an invitation its sender sees as pending.
// One that was ignored, or closed by a block, is withdrawn only in the
// sender's view (a withdraw event by the sender), so that they cannot tell
// it from one nobody answered. It returns the operator's and the sender's
// view of the result.
func (s *Server) withdrawForSender(c *call, inv lifecycle.Invitation) (any, SentInvitation, error) {
	now, exp := c.g.net.Now(), c.g.net.PendingExpiry()
	withdrawnAt, err := s.withdrawnBySender(c.ctx, inv)
	if err != nil {
		return nil, SentInvitation{}, c.storeErr(err, "invitation")
	}
	if view := sentView(inv, withdrawnAt, now, exp, 0); view.Status != lifecycle.StatusPending {
		return nil, view, conflict("the invitation is no longer pending")
	}
	if inv.Status != lifecycle.StatusPending {
		ev := &lifecycle.Event{V: lifecycle.EventVersion, At: now, Action: lifecycle.ActionWithdraw, Actor: inv.From,
			Subject: inv.To, Invitation: inv.ID, Result: "withdrawn_view", Detail: map[string]any{"status": inv.Status}}
		if err := s.store.Append(c.ctx, ev); err != nil {
			return nil, SentInvitation{}, c.storeErr(err, "invitation")
		}
		return inv, sentView(inv, now, now, exp, 0), nil
	}
	out, err := c.g.net.Withdraw(c.ctx, inv.ID)
	if errors.Is(err, lifecycle.ErrNotPending) {
		return nil, SentInvitation{}, conflict("the invitation is no longer pending")
	}
	if err != nil {
		return nil, SentInvitation{}, c.storeErr(err, "invitation")
	}
	return out, sentView(out, now, now, exp, 0), nil
}
