package service

import (
	"context"
	"sort"
	"time"

	"github.com/connrules/connrules/rules/lifecycle"
)

// This file is the one place that reads invitations back for a member:
// the lists, and what each side may see of an invitation. The Store
// interface has no per-member listing yet, so the lists are built from
// the event log; a store with its own listing replaces eventsOf and
// invitationsOf here and nowhere else.

// eventSource is a store that can read its event log back.
type eventSource interface {
	Events() []lifecycle.Event
}

// events returns up to limit events with Seq > after, in order.
func (s *Server) events(after uint64, limit int) ([]lifecycle.Event, bool) {
	src, ok := s.store.(eventSource)
	if !ok {
		return nil, false
	}
	all := src.Events()
	i := sort.Search(len(all), func(i int) bool { return all[i].Seq > after })
	all = all[i:]
	if len(all) > limit {
		all = all[:limit]
	}
	return all, true
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

// sentView maps an invitation to the sender's view. byFrom says whether
// the sender themselves withdrew it.
func sentView(inv lifecycle.Invitation, byFrom bool, now time.Time, expiry time.Duration, cursor uint64) SentInvitation {
	v := SentInvitation{ID: inv.ID, To: inv.To, Email: inv.Email, Note: inv.Note, SentAt: inv.SentAt, Cursor: cursor}
	if inv.Email != "" {
		v.To = "" // invited by email: the sender knows only the address
	}
	switch {
	case inv.Status == lifecycle.StatusAccepted, inv.Status == lifecycle.StatusRejected,
		inv.Status == lifecycle.StatusExpired, inv.Status == lifecycle.StatusWithdrawn && byFrom:
		v.Status, v.ClosedAt = inv.Status, inv.ClosedAt
	case byFrom: // the sender withdrew what they saw as pending
		v.Status = lifecycle.StatusWithdrawn
	case !inv.SentAt.Add(expiry).After(now):
		v.Status, v.ClosedAt = lifecycle.StatusExpired, inv.SentAt.Add(expiry)
	default: // pending, ignored, withdrawn by a block
		v.Status = lifecycle.StatusPending
	}
	return v
}

// receivedView reports the recipient's view, and false if they cannot see it.
func receivedView(inv lifecycle.Invitation, now time.Time, expiry time.Duration, cursor uint64) (ReceivedInvitation, bool) {
	if !inv.Visible() || !inv.SentAt.Add(expiry).After(now) {
		return ReceivedInvitation{}, false
	}
	return ReceivedInvitation{ID: inv.ID, From: inv.From, Note: inv.Note, SentAt: inv.SentAt, Delivery: inv.Delivery, Cursor: cursor}, true
}

// withdrawnBySender reports whether the log has the sender withdrawing id.
func (s *Server) withdrawnBySender(inv lifecycle.Invitation) bool {
	evs, ok := s.events(0, 1<<62)
	if !ok {
		return inv.Status == lifecycle.StatusWithdrawn
	}
	for i := len(evs) - 1; i >= 0; i-- {
		e := &evs[i]
		if e.Invitation == inv.ID && e.Action == lifecycle.ActionWithdraw && e.Actor == inv.From {
			return true
		}
	}
	return false
}

// sentList lists a sender's invitations after a cursor, oldest first.
func (s *Server) sentList(ctx context.Context, g *generation, member string, after uint64, limit int) ([]SentInvitation, bool, error) {
	evs, ok := s.events(0, 1<<62)
	if !ok {
		return nil, false, nil
	}
	withdrawn := map[string]bool{}
	for i := range evs {
		e := &evs[i]
		if e.Action == lifecycle.ActionWithdraw && e.Actor == member {
			withdrawn[e.Invitation] = true
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
	evs, ok := s.events(after, 1<<62)
	if !ok {
		return nil, false, nil
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
