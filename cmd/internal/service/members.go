package service

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// MemberInput creates or replaces a member. The id is the path's.
type MemberInput struct {
	// Kind is person or company; empty means person.
	Kind string `json:"kind,omitempty"`
	// Tier is a key of the policy's tiers table; empty means free.
	Tier string `json:"tier,omitempty"`
	// Status is active, soft_banned, deactivated or closed; empty is active.
	Status         string         `json:"status,omitempty"`
	Company        string         `json:"company,omitempty"`
	School         string         `json:"school,omitempty"`
	Email          string         `json:"email,omitempty"`
	Settings       rules.Settings `json:"settings"`
	AcceptanceRate float64        `json:"acceptance_rate,omitempty"`
}

// MemberView is what an app key sees of a member: a soft ban is never
// shown (it reads as active), nor the answer counters.
type MemberView struct {
	ID              string         `json:"id"`
	Kind            string         `json:"kind"`
	Tier            string         `json:"tier"`
	Status          string         `json:"status"`
	Company         string         `json:"company,omitempty"`
	School          string         `json:"school,omitempty"`
	Email           string         `json:"email,omitempty"`
	Settings        rules.Settings `json:"settings"`
	RestrictedUntil time.Time      `json:"restricted_until,omitzero"`
}

func memberView(m lifecycle.Member) MemberView {
	st := m.Status
	if st == "soft_banned" {
		st = "active"
	}
	return MemberView{ID: m.ID, Kind: m.Kind, Tier: m.Tier, Status: st, Company: m.Company, School: m.School,
		Email: m.Email, Settings: m.Settings, RestrictedUntil: m.RestrictedUntil}
}

// ContactsInput imports email addresses into a member's contacts.
type ContactsInput struct {
	Emails []string `json:"emails"`
}

// ContactsResult says how many addresses were imported; the operator also
// sees which members they matched.
type ContactsResult struct {
	Imported int      `json:"imported"`
	Matched  []string `json:"matched,omitempty"`
}

// RemoveResult says whether a connection was removed.
type RemoveResult struct {
	Removed bool `json:"removed"`
}

// BlockView is the blocker's view of a block.
type BlockView struct {
	Member  string `json:"member"`
	Blocked bool   `json:"blocked"`
}

// maxContacts bounds one import.
const maxContacts = 5000

// memberID reads and checks a member id from the path.
func memberID(c *call, name string) (string, error) {
	id := c.r.PathValue(name)
	if id == "" || len(id) > 128 || strings.IndexFunc(id, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) >= 0 {
		return "", badRequest(name, "must be 1 to 128 printable characters without spaces")
	}
	return id, nil
}

// storeErr maps a lifecycle error: not found is 404, anything else is a
// store failure (counted, logged, and a fail-closed 503).
func (c *call) storeErr(err error, what string) error {
	switch {
	case errors.Is(err, lifecycle.ErrNotFound):
		return notFound(what + " not found")
	case errors.Is(err, lifecycle.ErrContention):
		return unavailable("too many concurrent invitations for this member; retry")
	}
	c.s.met.storeErrs.WithLabelValues(c.rt.op).Inc()
	return err
}

func (s *Server) memberRoutes() []*route {
	mv := []any{lifecycle.Member{}, MemberView{}}
	return []*route{
		{method: "PUT", path: "/v1/members/{member}", op: "put_member", access: app, in: MemberInput{},
			summary: "Create or replace a member.",
			out:     []response{{200, "Replaced.", mv}, {201, "Created.", mv}}, serve: s.putMember},
		{method: "GET", path: "/v1/members/{member}", op: "get_member", access: app,
			summary: "Read a member.", out: []response{{200, "The member.", mv}}, serve: s.getMember},
		{method: "POST", path: "/v1/members/{member}/contacts", op: "import_contacts", access: app, in: ContactsInput{},
			summary: "Import email addresses into the member's contacts.",
			out:     []response{{200, "Imported.", []any{ContactsResult{}}}}, serve: s.importContacts},
		{method: "DELETE", path: "/v1/members/{member}/connections/{other}", op: "remove_connection", access: app,
			summary: "Remove the member's connection with another.",
			out:     []response{{200, "Done.", []any{RemoveResult{}}}}, serve: s.removeConnection},
		{method: "PUT", path: "/v1/members/{member}/blocks/{other}", op: "block", access: app,
			summary: "Block another member: pending invitations both ways are withdrawn and the connection removed. The blocked member is never told.",
			out:     []response{{200, "Blocked.", []any{lifecycle.BlockResult{}, BlockView{}}}}, serve: s.block(true)},
		{method: "DELETE", path: "/v1/members/{member}/blocks/{other}", op: "unblock", access: app,
			summary: "Lift a block.", out: []response{{200, "Unblocked.", []any{BlockView{}}}}, serve: s.block(false)},
		{method: "GET", path: "/v1/members/{member}/meter", op: "meter", access: app,
			summary: "The member's quota meter: used, limit, remaining and reset time per window.",
			out:     []response{{200, "The meter.", []any{lifecycle.Meter{}}}}, serve: s.meter},
	}
}

func (s *Server) putMember(c *call) (int, any, error) {
	id, err := memberID(c, "member")
	if err != nil {
		return 0, nil, err
	}
	in := c.body.(*MemberInput)
	m := lifecycle.Member{ID: id, Kind: in.Kind, Tier: in.Tier, Status: in.Status, Company: in.Company,
		School: in.School, Email: in.Email, Settings: in.Settings, AcceptanceRate: in.AcceptanceRate}
	if err := checkMember(c.g, &m); err != nil {
		return 0, nil, err
	}
	status := http.StatusCreated
	old, err := s.store.Member(c.ctx, id)
	switch {
	case err == nil:
		status = http.StatusOK
		// What the lifecycle keeps is not the caller's to overwrite.
		m.RestrictedUntil, m.Answered, m.Accepted = old.RestrictedUntil, old.Answered, old.Accepted
	case !errors.Is(err, lifecycle.ErrNotFound):
		return 0, nil, c.storeErr(err, "member")
	}
	if err := c.g.net.AddMember(c.ctx, m); err != nil {
		return 0, nil, c.storeErr(err, "member")
	}
	stored, err := s.store.Member(c.ctx, id)
	if err != nil {
		return 0, nil, c.storeErr(err, "member")
	}
	if c.operator() {
		return status, stored, nil
	}
	return status, memberView(stored), nil
}

// checkMember validates a member's enumerations as the engine will.
func checkMember(g *generation, m *lifecycle.Member) error {
	if m.Status == "restricted" {
		return badRequest("status", "a restriction is not set directly; the policy's effects set it")
	}
	kind, tier, status := m.Kind, m.Tier, m.Status
	if kind == "" {
		kind = "person"
	}
	if tier == "" {
		tier = "free"
	}
	if status == "" {
		status = "active"
	}
	rm := rules.Member{ID: m.ID, Kind: kind, Tier: tier, Status: status, Settings: m.Settings, AcceptanceRate: m.AcceptanceRate}
	req := rules.Request{Stage: rules.StageInvite, Now: time.Unix(0, 0), Sender: &rm}
	if err := req.Validate(); err != nil {
		var fe *rules.FactsError
		if errors.As(err, &fe) {
			return badRequest(strings.TrimPrefix(fe.Field, "sender."), fe.Msg)
		}
		return badRequest("", err.Error())
	}
	if _, ok := g.pol.Param("tiers." + tier); !ok {
		return badRequest("tier", "\""+tier+"\" is not a tier of the policy")
	}
	if len(m.Email) > 254 {
		return badRequest("email", "longer than 254 characters")
	}
	return nil
}

func (s *Server) getMember(c *call) (int, any, error) {
	id, err := memberID(c, "member")
	if err != nil {
		return 0, nil, err
	}
	m, err := s.store.Member(c.ctx, id)
	if err != nil {
		return 0, nil, c.storeErr(err, "member")
	}
	if c.operator() {
		return http.StatusOK, m, nil
	}
	return http.StatusOK, memberView(m), nil
}

func (s *Server) importContacts(c *call) (int, any, error) {
	id, err := memberID(c, "member")
	if err != nil {
		return 0, nil, err
	}
	in := c.body.(*ContactsInput)
	if len(in.Emails) > maxContacts {
		return 0, nil, badRequest("emails", "at most 5000 addresses per import")
	}
	for i, e := range in.Emails {
		if e == "" || len(e) > 254 || !strings.Contains(e, "@") {
			return 0, nil, badRequest("emails["+itoa(i)+"]", "not an email address")
		}
	}
	matched, err := c.g.net.ImportContacts(c.ctx, id, in.Emails)
	if err != nil {
		return 0, nil, c.storeErr(err, "member")
	}
	res := ContactsResult{Imported: len(in.Emails)}
	if c.operator() {
		res.Matched = matched
	}
	return http.StatusOK, res, nil
}

func (s *Server) removeConnection(c *call) (int, any, error) {
	id, err := memberID(c, "member")
	if err != nil {
		return 0, nil, err
	}
	other, err := memberID(c, "other")
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.store.Member(c.ctx, id); err != nil {
		return 0, nil, c.storeErr(err, "member")
	}
	had, err := c.g.net.Remove(c.ctx, id, other)
	if err != nil {
		return 0, nil, c.storeErr(err, "member")
	}
	return http.StatusOK, RemoveResult{Removed: had}, nil
}

func (s *Server) block(on bool) func(c *call) (int, any, error) {
	return func(c *call) (int, any, error) {
		id, err := memberID(c, "member")
		if err != nil {
			return 0, nil, err
		}
		other, err := memberID(c, "other")
		if err != nil {
			return 0, nil, err
		}
		if id == other {
			return 0, nil, badRequest("other", "a member cannot block themselves")
		}
		if !on {
			if _, err := s.store.Member(c.ctx, id); err != nil {
				return 0, nil, c.storeErr(err, "member")
			}
			if err := c.g.net.Unblock(c.ctx, id, other); err != nil {
				return 0, nil, c.storeErr(err, "member")
			}
			return http.StatusOK, BlockView{Member: other, Blocked: false}, nil
		}
		res, err := c.g.net.Block(c.ctx, id, other)
		if err != nil {
			return 0, nil, c.storeErr(err, "member")
		}
		if c.operator() {
			return http.StatusOK, res, nil
		}
		return http.StatusOK, BlockView{Member: other, Blocked: true}, nil
	}
}

func (s *Server) meter(c *call) (int, any, error) {
	id, err := memberID(c, "member")
	if err != nil {
		return 0, nil, err
	}
	m, err := c.g.net.Meter(c.ctx, id)
	if err != nil {
		return 0, nil, c.storeErr(err, "member")
	}
	return http.StatusOK, m, nil
}
