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
// withdrawal. The sender's side is the lifecycle's (Network.Sent,
// Network.Withdraw); the recipient's list is built from the event log,
// which the Store interface can read back (lifecycle.EventReader).

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

// SentInvitation is what a sender sees of their invitation
// (lifecycle.Invitation.SenderView): an ignored one, or one a block
// closed, reads as pending until it would have expired; a shadowed one
// too. Delivery (inbox, spam, hold...) is never shown.
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

// sentView is the lifecycle's sender view with the list cursor.
func sentView(inv lifecycle.Invitation, now time.Time, expiry time.Duration, cursor uint64) SentInvitation {
	return fromSenderView(inv.SenderView(expiry, now), cursor)
}

func fromSenderView(sv lifecycle.SentInvitation, cursor uint64) SentInvitation {
	v := SentInvitation{ID: sv.ID, To: sv.To, Email: sv.Email, Note: sv.Note, SentAt: sv.SentAt, Status: sv.Status, ClosedAt: sv.ClosedAt, Cursor: cursor}
	if v.Email != "" {
		v.To = "" // invited by email: the sender knows only the address
	}
	return v
}

// sentOf is the sender's view of an invitation they just sent.
func sentOf(g *generation, inv lifecycle.Invitation) SentInvitation {
	return sentView(inv, g.net.Now(), g.net.PendingExpiry(), 0)
}

// receivedView reports the recipient's view, and false if they cannot see it.
func receivedView(inv lifecycle.Invitation, now time.Time, expiry time.Duration, cursor uint64) (ReceivedInvitation, bool) {
	if !inv.Visible() || !inv.SentAt.Add(expiry).After(now) {
		return ReceivedInvitation{}, false
	}
	return ReceivedInvitation{ID: inv.ID, From: inv.From, Note: inv.Note, SentAt: inv.SentAt, Delivery: inv.Delivery, Cursor: cursor}, true
}

// sentList lists a sender's invitations after a cursor (its position in
// the list, from 1), oldest first.
func (s *Server) sentList(ctx context.Context, g *generation, member string, after uint64, limit int) ([]SentInvitation, bool, error) {
	all, err := g.net.Sent(ctx, member)
	if err != nil {
		return nil, true, err
	}
	out := []SentInvitation{}
	for i := int(min(after, uint64(len(all)))); i < len(all) && len(out) < limit; i++ {
		out = append(out, fromSenderView(all[i], uint64(i+1)))
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

// withdrawForSender withdraws an invitation its sender sees as pending
// (the lifecycle keeps an ignored or blocked one closed and records the
// withdrawal in the sender's view only). It returns the operator's and
// the sender's view of the result.
func (s *Server) withdrawForSender(c *call, inv lifecycle.Invitation) (any, SentInvitation, error) {
	view, err := c.g.net.Withdraw(c.ctx, inv.ID)
	if errors.Is(err, lifecycle.ErrNotPending) {
		return nil, SentInvitation{}, conflict("the invitation is no longer pending")
	}
	if err != nil {
		return nil, SentInvitation{}, c.storeErr(err, "invitation")
	}
	full, err := s.store.Invitation(c.ctx, inv.ID)
	if err != nil {
		return nil, SentInvitation{}, c.storeErr(err, "invitation")
	}
	return full, fromSenderView(view, 0), nil
}
