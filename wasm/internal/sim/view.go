package sim

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/lifecycle"
)

// View is everything the page shows, read in one call.
type View struct {
	Now      time.Time    `json:"now"`
	NowText  string       `json:"now_text"`
	Timezone string       `json:"timezone"`
	Policy   string       `json:"policy"`
	File     string       `json:"file"`
	Members  []MemberView `json:"members"`
	// Invitations lists every pending invitation and the last maxClosed
	// closed ones, newest first.
	Invitations []lifecycle.Invitation `json:"invitations"`
	// Sent is the selected sender's view of their invitations, newest
	// first: what their sent list may show (see
	// [lifecycle.Invitation.SenderView]); at most maxSent.
	Sent []lifecycle.SentInvitation `json:"sent"`
	// Blocks are [blocker, blocked] pairs.
	Blocks  [][2]string `json:"blocks"`
	Pair    *PairView   `json:"pair,omitempty"`
	Events  int         `json:"events"`
	Journal int         `json:"journal"`
	// NextReset is the earliest moment after now when one of the selected
	// sender's windows resets or its restriction ends.
	NextReset time.Time `json:"next_reset,omitzero"`
}

// maxClosed bounds the closed invitations a View carries, and maxSent the
// sender's list.
const (
	maxClosed = 100
	maxSent   = 200
)

// MemberView is a member with its meter and connections.
type MemberView struct {
	lifecycle.Member
	Connections []string        `json:"connections"`
	Meter       lifecycle.Meter `json:"meter"`
	// Restricted is true while a restriction is in force; RestrictedLeft
	// is the time left, in seconds of the simulated clock.
	Restricted     bool  `json:"restricted"`
	RestrictedLeft int64 `json:"restricted_left_s,omitempty"`
}

// PairView is the relationship of a sender and a recipient, as the engine
// would see it for an invitation.
type PairView struct {
	From       string   `json:"from"`
	To         string   `json:"to"`
	Degree     int      `json:"degree"`
	Mutual     int      `json:"mutual"`
	MutualIDs  []string `json:"mutual_ids"`
	Connected  bool     `json:"connected"`
	KnowsEmail bool     `json:"knows_email"`
	InContacts bool     `json:"in_contacts"`
	Blocked    bool     `json:"blocked"`
	// Pending is the id of a pending invitation from sender to recipient.
	Pending string `json:"pending,omitempty"`
}

// View reads the state. from and to select a pair; either may be empty.
func (s *Sim) View(from, to string) (View, error) {
	ctx := context.Background()
	now := s.clock.Now()
	v := View{Now: now, Timezone: s.pol.Calendar().Loc.String(), Policy: s.pol.Name(), File: s.polName,
		Events: s.EventCount(), Journal: len(s.journal)}
	v.NowText = now.In(s.pol.Calendar().Loc).Format("Mon Jan 2, 2006 3:04 PM MST")
	ids := s.memberIDs()
	for _, id := range ids {
		m, err := s.store.Member(ctx, id)
		if err != nil {
			return v, err
		}
		mt, err := s.net.Meter(ctx, id)
		if err != nil {
			return v, err
		}
		mv := MemberView{Member: m, Connections: s.store.Connections(id), Meter: mt}
		if mv.Connections == nil {
			mv.Connections = []string{}
		}
		if m.RestrictedUntil.After(now) {
			mv.Restricted, mv.RestrictedLeft = true, int64(m.RestrictedUntil.Sub(now)/time.Second)
		}
		v.Members = append(v.Members, mv)
		if id == from {
			v.NextReset = nextReset(mt, now)
		}
	}
	// Every pending invitation, and the most recent closed ones.
	closed := 0
	for i := len(s.invitations) - 1; i >= 0; i-- {
		inv, err := s.store.Invitation(ctx, s.invitations[i])
		if err != nil {
			return v, err
		}
		if inv.Status != lifecycle.StatusPending {
			if closed >= maxClosed {
				continue
			}
			closed++
		}
		v.Invitations = append(v.Invitations, inv)
	}
	if v.Invitations == nil {
		v.Invitations = []lifecycle.Invitation{}
	}
	v.Sent = []lifecycle.SentInvitation{}
	if from != "" {
		sent, err := s.net.Sent(ctx, from)
		if err != nil {
			return v, err
		}
		for i := len(sent) - 1; i >= 0 && len(v.Sent) < maxSent; i-- {
			v.Sent = append(v.Sent, sent[i])
		}
	}
	v.Blocks = [][2]string{}
	for b := range s.blocks {
		v.Blocks = append(v.Blocks, b)
	}
	sort.Slice(v.Blocks, func(i, j int) bool {
		return v.Blocks[i][0]+"\x00"+v.Blocks[i][1] < v.Blocks[j][0]+"\x00"+v.Blocks[j][1]
	})
	if from != "" && to != "" {
		p, err := s.pair(ctx, from, to)
		if err != nil {
			return v, err
		}
		v.Pair = &p
	}
	return v, nil
}

// memberIDs lists the members: the seed's in order, then any added since.
func (s *Sim) memberIDs() []string {
	var ids []string
	seen := map[string]bool{}
	for _, m := range s.seed.Members {
		ids = append(ids, m.ID)
		seen[m.ID] = true
	}
	for _, c := range s.journal {
		if c.Op == "member" && c.Member != nil && !seen[c.Member.ID] {
			ids = append(ids, c.Member.ID)
			seen[c.Member.ID] = true
		}
	}
	return ids
}

func nextReset(mt lifecycle.Meter, now time.Time) time.Time {
	var best time.Time
	for _, t := range []time.Time{mt.Day.ResetsAt, mt.Week.ResetsAt, mt.Month.ResetsAt, mt.RestrictedUntil} {
		if t.After(now) && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	return best
}

func (s *Sim) pair(ctx context.Context, from, to string) (PairView, error) {
	p := PairView{From: from, To: to, MutualIDs: []string{}}
	sm, err := s.store.Member(ctx, from)
	if err != nil {
		return p, err
	}
	rm, err := s.store.Member(ctx, to)
	if err != nil {
		return p, err
	}
	if p.Degree, p.Mutual, err = s.net.Relation(ctx, from, to); err != nil {
		return p, err
	}
	p.Connected = p.Degree == 1
	a, b := s.store.Connections(from), s.store.Connections(to)
	for _, id := range a {
		if slices.Contains(b, id) {
			p.MutualIDs = append(p.MutualIDs, id)
		}
	}
	if rm.Email != "" {
		if p.KnowsEmail, err = s.store.HasContact(ctx, from, rm.Email); err != nil {
			return p, err
		}
	}
	if sm.Email != "" {
		if p.InContacts, err = s.store.HasContact(ctx, to, sm.Email); err != nil {
			return p, err
		}
	}
	if p.Blocked, err = s.store.Blocked(ctx, from, to); err != nil {
		return p, err
	}
	if inv, err := s.net.PendingFrom(ctx, from, to); err == nil {
		p.Pending = inv.ID
	}
	return p, nil
}

// Preview is what an invitation would do now, decided by the policy in
// force and explained, without changing anything.
type Preview struct {
	// Decisions are the explained decisions: invite, then deliver (and
	// accept after an auto_accept) when the invitation would go through.
	Decisions []rules.Decision     `json:"decisions"`
	Public    rules.PublicDecision `json:"public"`
	Request   *rules.Request       `json:"request,omitempty"`
	Micros    int64                `json:"us"`
}

// Preview decides an invitation from one member to another as Invite
// would, through the lifecycle's own code, on a store that discards every
// write.
func (s *Sim) Preview(from, to, note string) (Preview, error) {
	ctx := context.Background()
	t0 := time.Now()
	var out Preview
	p := s.pol
	dec := lifecycle.DeciderFunc(func(_ context.Context, req *rules.Request) (rules.Decision, error) {
		d := p.Explain(req)
		out.Decisions = append(out.Decisions, d)
		return d, nil
	})
	n, err := lifecycle.New(lifecycle.Config{Policy: p, Store: &dryStore{Store: s.store}, Clock: s.clock, Decider: dec})
	if err != nil {
		return out, err
	}
	r, err := n.Invite(ctx, lifecycle.InviteInput{From: from, To: to, Note: note})
	out.Public, out.Request = r.Public, r.Request
	out.Micros = time.Since(t0).Microseconds()
	return out, err
}

// dryStore reads through to a store and discards every write, answering
// as if each had succeeded. The invitation a dry Reserve would store is
// kept locally so that the rest of the action (delivery, auto-accept) can
// read it back.
type dryStore struct {
	lifecycle.Store
	inv *lifecycle.Invitation
}

const previewID = "preview"

func (d *dryStore) PutMember(context.Context, lifecycle.Member) error { return nil }
func (d *dryStore) Restrict(_ context.Context, _ string, until time.Time) (time.Time, error) {
	return until, nil
}
func (d *dryStore) Connect(context.Context, string, string) error            { return nil }
func (d *dryStore) Disconnect(context.Context, string, string) (bool, error) { return false, nil }
func (d *dryStore) AddContacts(context.Context, string, []string) error      { return nil }
func (d *dryStore) SetBlock(context.Context, string, string, bool) error     { return nil }
func (d *dryStore) Append(context.Context, *lifecycle.Event) error           { return nil }
func (d *dryStore) CountOverLimit(context.Context, string, uint64, lifecycle.Windows) (bool, error) {
	return true, nil
}
func (d *dryStore) Reserve(_ context.Context, r lifecycle.Reservation) (lifecycle.Invitation, bool, error) {
	inv := r.Invitation
	inv.ID = previewID
	d.inv = &inv
	return inv, true, nil
}
func (d *dryStore) AcceptInvitation(_ context.Context, a lifecycle.Acceptance) (bool, error) {
	if d.inv != nil && a.Invitation.ID == previewID {
		if d.inv.Status != lifecycle.StatusPending {
			return false, lifecycle.ErrNotPending
		}
		*d.inv = a.Invitation
	}
	return true, nil
}
func (d *dryStore) UpdateInvitation(ctx context.Context, inv lifecycle.Invitation, from string) (bool, error) {
	if d.inv != nil && inv.ID == previewID {
		if d.inv.Status != from {
			return false, nil
		}
		*d.inv = inv
	}
	return true, nil
}
func (d *dryStore) CloseInvitation(ctx context.Context, c lifecycle.Closing) (lifecycle.Invitation, bool, error) {
	if d.inv != nil && c.ID == previewID {
		if d.inv.Status != c.From {
			return *d.inv, false, nil
		}
		if !c.SenderWithdrew {
			d.inv.Status, d.inv.ClosedAt, d.inv.Private = c.Status, c.At, c.Private
		}
		return *d.inv, true, nil
	}
	inv, err := d.Store.Invitation(ctx, c.ID)
	return inv, err == nil, err
}
func (d *dryStore) Invitation(ctx context.Context, id string) (lifecycle.Invitation, error) {
	if d.inv != nil && id == previewID {
		return *d.inv, nil
	}
	return d.Store.Invitation(ctx, id)
}
