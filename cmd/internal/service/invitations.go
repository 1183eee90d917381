package service

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// InviteInput names the recipient by member id (to) or email address.
type InviteInput struct {
	To    string `json:"to,omitempty"`
	Email string `json:"email,omitempty"`
	Note  string `json:"note,omitempty"`
}

// InviteView is what an app key gets for an invitation attempt: the
// public decision and, when it was sent, the sender's view of it. A
// private denial reads exactly like the generic denial.
type InviteView struct {
	Decision   rules.PublicDecision `json:"decision"`
	Invitation *SentInvitation      `json:"invitation,omitempty"`
}

// AnswerView is what an app key gets for an answer to an invitation.
type AnswerView struct {
	// Decision is the accept stage's public decision, for accept only.
	Decision   *rules.PublicDecision `json:"decision,omitempty"`
	Invitation ReceivedInvitation    `json:"invitation"`
	// Status is the invitation's status after the answer.
	Status string `json:"status"`
}

// SentList is a page of a sender's invitations.
type SentList struct {
	Invitations []SentInvitation `json:"invitations"`
	// Next is the after= of the next page; 0 when this is the last.
	Next uint64 `json:"next"`
}

// ReceivedList is a page of the invitations a member can answer.
type ReceivedList struct {
	Invitations []ReceivedInvitation `json:"invitations"`
	Next        uint64               `json:"next"`
}

// EventList is a page of the event log.
type EventList struct {
	Events []lifecycle.Event `json:"events"`
	Next   uint64            `json:"next"`
}

// maxNote bounds a note before the policy sees it; the policy's own
// note_max_chars is the rule a sender is shown.
const maxNote = 8000

var pageParams = []param{
	{name: "after", desc: "Return items after this cursor (the previous page's next).", integer: true},
	{name: "limit", desc: "Page size, 1 to 500 (default 50).", integer: true},
}

func (s *Server) invitationRoutes() []*route {
	answer := []any{lifecycle.AnswerResult{}, AnswerView{}}
	return []*route{
		{method: "POST", path: "/v1/members/{member}/invitations", op: "invite", access: app, in: InviteInput{},
			summary: "Invite another member, by id or email address. The answer is a decision, whatever it is.",
			out:     []response{{200, "The decision, and the invitation if it was sent.", []any{lifecycle.InviteResult{}, InviteView{}}}}, serve: s.invite},
		{method: "GET", path: "/v1/members/{member}/invitations/sent", op: "list_sent", access: app, query: pageParams,
			summary: "The invitations the member sent, as the member sees them.",
			out:     []response{{200, "A page.", []any{SentList{}}}}, serve: s.listSent},
		{method: "GET", path: "/v1/members/{member}/invitations/received", op: "list_received", access: app, query: pageParams,
			summary: "The invitations the member can answer.",
			out:     []response{{200, "A page.", []any{ReceivedList{}}}}, serve: s.listReceived},
		{method: "POST", path: "/v1/members/{member}/invitations/{id}/accept", op: "accept", access: app,
			summary: "Accept an invitation to the member (the accept stage decides; a cap leaves it pending).",
			out:     []response{{200, "The accept stage's decision.", answer}}, serve: s.answer("accept")},
		{method: "POST", path: "/v1/members/{member}/invitations/{id}/ignore", op: "ignore", access: app,
			summary: "Ignore an invitation to the member; the sender is not told.",
			out:     []response{{200, "Ignored.", answer}}, serve: s.answer("ignore")},
		{method: "POST", path: "/v1/members/{member}/invitations/{id}/reject", op: "reject", access: app,
			summary: "Reject an invitation to the member; the sender can never invite them again.",
			out:     []response{{200, "Rejected.", answer}}, serve: s.answer("reject")},
		{method: "POST", path: "/v1/members/{member}/invitations/{id}/withdraw", op: "withdraw", access: app,
			summary: "Withdraw an invitation the member sent.",
			out:     []response{{200, "Withdrawn.", []any{lifecycle.Invitation{}, SentInvitation{}}}}, serve: s.withdraw},
		{method: "GET", path: "/v1/events", op: "events", access: operator, query: pageParams,
			summary: "The event log from a sequence number on, for replay and for feeding other systems.",
			out:     []response{{200, "A page of events.", []any{EventList{}}}}, serve: s.listEvents},
	}
}

func (s *Server) invite(c *call) (int, any, error) {
	id, err := memberID(c, "member")
	if err != nil {
		return 0, nil, err
	}
	in := c.body.(*InviteInput)
	switch {
	case (in.To == "") == (in.Email == ""):
		return 0, nil, badRequest("to", "give exactly one of to (a member id) and email")
	case len(in.To) > 128:
		return 0, nil, badRequest("to", "longer than 128 characters")
	case in.Email != "" && (len(in.Email) > 254 || !strings.Contains(in.Email, "@")):
		return 0, nil, badRequest("email", "not an email address")
	case len(in.Note) > maxNote:
		return 0, nil, badRequest("note", "longer than 8000 bytes")
	}
	res, err := c.g.net.Invite(c.ctx, lifecycle.InviteInput{From: id, To: in.To, Email: in.Email, Note: in.Note})
	if res.Request != nil {
		s.record(c, res.Request, res.Invite, in.Email)
	}
	switch {
	case err == nil:
	case errors.Is(err, lifecycle.ErrNotFound) || res.Request == nil:
		return 0, nil, c.storeErr(err, "member")
	default: // decided, then the engine or the store failed: fail closed
		c.logger().Error("invite failed", "error", err)
		return 0, nil, unavailable("the invitation could not be completed; retry")
	}
	if c.operator() {
		return http.StatusOK, res, nil
	}
	v := InviteView{Decision: res.Public}
	if res.Invitation.ID != "" {
		sv := sentOf(c.g, res.Invitation)
		v.Invitation = &sv
	}
	return http.StatusOK, v, nil
}

func (c *call) page() (after uint64, limit int, err error) {
	a, err := c.queryInt("after", 0, 0, 1<<62)
	if err != nil {
		return 0, 0, err
	}
	limit, err = c.queryInt("limit", 50, 1, 500)
	return uint64(a), limit, err
}

var errNoLog = &apiError{status: http.StatusNotImplemented, title: "Not implemented",
	detail: "this store cannot read its event log back"}

func (s *Server) listSent(c *call) (int, any, error) {
	return listPage(c, s.sentList, func(l []SentInvitation, next uint64) any { return SentList{Invitations: l, Next: next} },
		func(v SentInvitation) uint64 { return v.Cursor })
}

func (s *Server) listReceived(c *call) (int, any, error) {
	return listPage(c, s.receivedList, func(l []ReceivedInvitation, next uint64) any { return ReceivedList{Invitations: l, Next: next} },
		func(v ReceivedInvitation) uint64 { return v.Cursor })
}

// listPage serves one page of a member's list: next is the last item's
// cursor when the page is full, 0 when it is the last.
func listPage[T any](c *call, list func(context.Context, *generation, string, uint64, int) ([]T, bool, error),
	wrap func([]T, uint64) any, cursor func(T) uint64) (int, any, error) {
	id, err := memberID(c, "member")
	if err != nil {
		return 0, nil, err
	}
	after, limit, err := c.page()
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.s.store.Member(c.ctx, id); err != nil {
		return 0, nil, c.storeErr(err, "member")
	}
	items, ok, err := list(c.ctx, c.g, id, after, limit)
	if !ok {
		return 0, nil, errNoLog
	}
	if err != nil {
		return 0, nil, c.storeErr(err, "invitation")
	}
	var next uint64
	if len(items) == limit {
		next = cursor(items[len(items)-1])
	}
	return http.StatusOK, wrap(items, next), nil
}

// ownInvitation loads invitation {id} if the member is its recipient
// (to == true) or its sender; any other invitation, or one the recipient
// cannot see, is "not found", exactly like one that does not exist.
func (s *Server) ownInvitation(c *call, to bool) (string, lifecycle.Invitation, error) {
	member, err := memberID(c, "member")
	if err != nil {
		return "", lifecycle.Invitation{}, err
	}
	id := c.r.PathValue("id")
	if id == "" || len(id) > 128 {
		return "", lifecycle.Invitation{}, badRequest("id", "must be 1 to 128 characters")
	}
	inv, err := s.store.Invitation(c.ctx, id)
	if errors.Is(err, lifecycle.ErrNotFound) {
		return "", inv, notFound("invitation not found")
	}
	if err != nil {
		return "", inv, c.storeErr(err, "invitation")
	}
	owner := inv.From
	if to {
		owner = inv.To
	}
	// A shadowed invitation does not exist for its recipient.
	if owner != member || to && inv.Delivery == lifecycle.DeliveryShadow {
		return "", inv, notFound("invitation not found")
	}
	return member, inv, nil
}

func (s *Server) answer(action string) func(c *call) (int, any, error) {
	return func(c *call) (int, any, error) {
		_, inv, err := s.ownInvitation(c, true)
		if err != nil {
			return 0, nil, err
		}
		var res lifecycle.AnswerResult
		switch action {
		case "accept":
			res, err = c.g.net.Accept(c.ctx, inv.ID)
			if res.Request != nil {
				s.record(c, res.Request, res.Decision, "")
			}
		case "ignore":
			res, err = c.g.net.Ignore(c.ctx, inv.ID)
		default:
			res, err = c.g.net.Reject(c.ctx, inv.ID)
		}
		if errors.Is(err, lifecycle.ErrNotPending) {
			return 0, nil, conflict("the invitation is no longer pending")
		}
		if err != nil {
			return 0, nil, c.storeErr(err, "invitation")
		}
		if c.operator() {
			return http.StatusOK, res, nil
		}
		v := AnswerView{Status: res.Invitation.Status,
			Invitation: ReceivedInvitation{ID: res.Invitation.ID, From: res.Invitation.From, Note: res.Invitation.Note,
				SentAt: res.Invitation.SentAt, Delivery: res.Invitation.Delivery}}
		if action == "accept" {
			pub := c.g.pol.Public(res.Decision)
			v.Decision = &pub
		}
		return http.StatusOK, v, nil
	}
}

func (s *Server) withdraw(c *call) (int, any, error) {
	_, inv, err := s.ownInvitation(c, false)
	if err != nil {
		return 0, nil, err
	}
	full, view, err := s.withdrawForSender(c, inv)
	if err != nil {
		return 0, nil, err
	}
	if c.operator() {
		return http.StatusOK, full, nil
	}
	return http.StatusOK, view, nil
}

func (s *Server) listEvents(c *call) (int, any, error) {
	after, limit, err := c.page()
	if err != nil {
		return 0, nil, err
	}
	evs, ok, err := s.events(c.ctx, after, limit)
	if !ok {
		return 0, nil, errNoLog
	}
	if err != nil {
		return 0, nil, c.storeErr(err, "events")
	}
	out := EventList{Events: evs}
	if out.Events == nil {
		out.Events = []lifecycle.Event{}
	}
	if len(evs) == limit {
		out.Next = evs[len(evs)-1].Seq
	}
	return http.StatusOK, out, nil
}
