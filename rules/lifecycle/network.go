package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/connrules/connrules/rules"
)

// DefaultPendingExpiry is how long an invitation stays pending when the
// policy has no pending_expiry parameter: six months.
const DefaultPendingExpiry = 180 * 24 * time.Hour

// DefaultSearchBudget bounds the degree search: the number of adjacency
// entries [Store.Relation] may visit before it answers 0.
const DefaultSearchBudget = 50_000

// maxAttempts bounds the optimistic retries of one invitation or
// acceptance. Every failed attempt means another invitation from the same
// sender or to the same recipient committed (or, for an acceptance,
// another connection of one of the two), so this is only reached under
// pathological contention.
const maxAttempts = 1 << 16

// ErrContention is returned when an invitation or an acceptance could not
// commit after many retries because other invitations from the same
// sender or to the same recipient (or other connections) kept committing
// first.
var ErrContention = errors.New("lifecycle: too much contention on the sender's quota")

// ErrNotPending is returned (wrapped) when an invitation is answered,
// withdrawn or shown that is no longer pending, or that the recipient
// cannot see.
var ErrNotPending = errors.New("invitation is not pending")

// Config configures a [Network].
type Config struct {
	// Policy is required even when Decider is another engine: its calendar
	// defines the quota windows, its params the limits and the expiry, and
	// its Public the sender's view.
	Policy *rules.Policy
	// Decider decides each stage; nil means Native(Policy).
	Decider Decider
	// Store holds the state; nil means a new [MemStore].
	Store Store
	// Clock is required: nothing here reads the system clock.
	Clock Clock
	// SearchBudget bounds the degree search; 0 means DefaultSearchBudget.
	SearchBudget int
}

// Limits are a tier's quotas from the policy's params.tiers table. Zero
// means no limit.
type Limits struct {
	Daily       int `json:"daily"`
	Weekly      int `json:"weekly"`
	Monthly     int `json:"monthly"`
	Connections int `json:"connections"`
}

// Network runs the invitation lifecycle over a store. It is safe for
// concurrent use.
type Network struct {
	pol    *rules.Policy
	dec    Decider
	store  Store
	clock  Clock
	cal    rules.Calendar
	expiry time.Duration
	budget int
	limits map[string]Limits
	span   atomic.Pointer[windowSpan]
	// disc is the store as an [EventDiscarder], if it is one.
	disc EventDiscarder
}

// New checks cfg and returns a Network.
func New(cfg Config) (*Network, error) {
	if cfg.Policy == nil {
		return nil, errors.New("lifecycle: Config.Policy is required")
	}
	if cfg.Clock == nil {
		return nil, errors.New("lifecycle: Config.Clock is required; the lifecycle never reads the system clock")
	}
	n := &Network{pol: cfg.Policy, dec: cfg.Decider, store: cfg.Store, clock: cfg.Clock,
		cal: cfg.Policy.Calendar(), expiry: DefaultPendingExpiry, budget: cfg.SearchBudget}
	if n.dec == nil {
		n.dec = Native(cfg.Policy)
	}
	if n.store == nil {
		n.store = NewMemStore()
	}
	if n.budget <= 0 {
		n.budget = DefaultSearchBudget
	}
	if v, ok := cfg.Policy.Param("pending_expiry"); ok {
		d, ok := v.(time.Duration)
		if !ok || d <= 0 {
			return nil, fmt.Errorf("lifecycle: policy param pending_expiry is %v, want a positive duration such as 180d", v)
		}
		n.expiry = d
	}
	n.limits = tierLimits(cfg.Policy)
	n.disc, _ = n.store.(EventDiscarder)
	return n, nil
}

// tierLimits reads params.tiers.<tier>.{daily,weekly,monthly,connections}.
func tierLimits(p *rules.Policy) map[string]Limits {
	out := map[string]Limits{}
	v, ok := p.Param("tiers")
	if !ok {
		return out
	}
	rv := reflect.ValueOf(v)
	var names []string
	switch rv.Kind() {
	case reflect.Map:
		for _, k := range rv.MapKeys() {
			names = append(names, k.String())
		}
	case reflect.Struct: // a table of one tier is a struct
		for i := 0; i < rv.NumField(); i++ {
			names = append(names, rv.Type().Field(i).Tag.Get("expr"))
		}
	}
	num := func(path string) int {
		v, ok := p.Param(path)
		if !ok {
			return 0
		}
		switch x := v.(type) {
		case int:
			return x
		case float64:
			return int(x)
		}
		return 0
	}
	for _, t := range names {
		out[t] = Limits{
			Daily:       num("tiers." + t + ".daily"),
			Weekly:      num("tiers." + t + ".weekly"),
			Monthly:     num("tiers." + t + ".monthly"),
			Connections: num("tiers." + t + ".connections"),
		}
	}
	return out
}

// Policy returns the policy the network was configured with.
func (n *Network) Policy() *rules.Policy { return n.pol }

// Store returns the network's store.
func (n *Network) Store() Store { return n.store }

// windowSpan is a computed set of window starts and the instants they
// stay valid until.
type windowSpan struct {
	day, nextDay, week, nextWeek, month, nextMonth time.Time
}

// windows computes the quota windows of now in the policy's calendar. The
// day, week and month starts are computed with time zone arithmetic, so
// the last ones are kept with their ends and reused while now is inside
// all three: a day start is the same for every instant of that day.
func (n *Network) windows(now time.Time) Windows {
	if c := n.span.Load(); c != nil && !now.Before(c.day) && now.Before(c.nextDay) &&
		!now.Before(c.week) && now.Before(c.nextWeek) && !now.Before(c.month) && now.Before(c.nextMonth) {
		return Windows{Now: now, Hour: now.Add(-time.Hour), Day: c.day, Week: c.week, Month: c.month}
	}
	w := WindowsAt(n.cal, now)
	n.span.Store(&windowSpan{day: w.Day, nextDay: n.cal.NextDay(now), week: w.Week, nextWeek: n.cal.NextWeek(now),
		month: w.Month, nextMonth: n.cal.NextMonth(now)})
	return w
}

// Now is the network clock's time.
func (n *Network) Now() time.Time { return n.clock.Now() }

// PendingExpiry is how long invitations stay pending.
func (n *Network) PendingExpiry() time.Duration { return n.expiry }

// Limits returns a tier's quotas.
func (n *Network) Limits(tier string) Limits { return n.limits[tier] }

// AddMember stores a member, filling defaults: kind person, tier free,
// status active. An existing member's profile is replaced, but never its
// restriction or answer counts (see [Store.PutMember]); m.Version, when
// not 0, must be the stored one. To edit a member safely under
// concurrent edits use [Network.UpdateMember].
func (n *Network) AddMember(ctx context.Context, m Member) error {
	if m.ID == "" {
		return errors.New("lifecycle: member without an id")
	}
	m.normalize()
	if err := n.store.PutMember(ctx, m); err != nil {
		return err
	}
	return n.log(ctx, &Event{At: n.clock.Now(), Action: ActionMember, Actor: m.ID, Result: "stored",
		Detail: map[string]any{"member": m}})
}

// UpdateMember edits a stored member's profile: it reads the member,
// applies fn and writes it back only if no other edit came in between,
// reading and applying fn again otherwise. Restrictions and answers
// recorded meanwhile are kept. It returns the profile it wrote.
func (n *Network) UpdateMember(ctx context.Context, id string, fn func(*Member)) (Member, error) {
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		m, err := n.store.Member(ctx, id)
		if err != nil {
			return m, err
		}
		fn(&m)
		m.ID = id
		m.normalize()
		err = n.store.PutMember(ctx, m)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return m, err
		}
		m.Version++
		return m, n.log(ctx, &Event{At: n.clock.Now(), Action: ActionMember, Actor: id, Result: "updated",
			Detail: map[string]any{"member": m}})
	}
	return Member{}, ErrContention
}

// Connect connects two members directly, without an invitation: for
// seeding a network.
func (n *Network) Connect(ctx context.Context, a, b string) error {
	for _, id := range []string{a, b} {
		if _, err := n.store.Member(ctx, id); err != nil {
			return err
		}
	}
	if err := n.store.Connect(ctx, a, b); err != nil {
		return err
	}
	return n.log(ctx, &Event{At: n.clock.Now(), Action: ActionConnect, Actor: a, Subject: b, Result: "connected"})
}

// EventDiscarder is implemented by a [Store] that may keep no event log,
// such as a [MemStore] after [MemStore.DiscardEvents]. While
// DiscardsEvents reports true, the Network does not call Append, and an
// invitation does not even build its events: building events nobody keeps
// costs two allocations of each invitation's few.
type EventDiscarder interface {
	DiscardsEvents() bool
}

// noLog reports whether the store keeps no events.
func (n *Network) noLog() bool { return n.disc != nil && n.disc.DiscardsEvents() }

func (n *Network) log(ctx context.Context, e *Event) error {
	if n.noLog() {
		return nil
	}
	e.V = EventVersion
	if e.Policy == "" {
		e.Policy = n.pol.Name()
	}
	return n.store.Append(ctx, e)
}

// decide asks the decider and fails closed when it cannot answer.
func (n *Network) decide(ctx context.Context, req *rules.Request) (rules.Decision, error) {
	d, err := n.dec.Decide(ctx, req)
	if err != nil {
		return rules.Unavailable(req.Stage, req.Now, ""), fmt.Errorf("lifecycle: %s stage: %w", req.Stage, err)
	}
	return d, nil
}

// engineMember fills the engine's view of a member from its stored
// record, counters and connection count.
func engineMember(dst *rules.Member, m *Member, u *Usage, conns int, now time.Time) {
	status := m.Status
	if status == "soft_banned" && !m.SoftBannedUntil.IsZero() && !m.SoftBannedUntil.After(now) {
		status = "active" // a soft ban with an end lifts by itself, like a restriction
	}
	if status == "active" && m.RestrictedUntil.After(now) {
		status = "restricted"
	}
	*dst = rules.Member{
		ID: m.ID, Kind: m.Kind, Tier: m.Tier, Status: status, RestrictedUntil: m.RestrictedUntil,
		SoftBannedUntil: m.SoftBannedUntil, Connections: conns, Company: m.Company, School: m.School, Title: m.Title,
		Sent: u.Sent, Received: u.Received, OverLimit: u.OverLimit,
		AcceptanceRate: m.acceptanceRate(), Settings: m.Settings,
	}
}

// pairFacts computes the relationship from the snapshot's sender to its
// recipient. Pending invitations past their expiry are expired on the
// way, so nothing depends on a sweep having run.
func (n *Network) pairFacts(ctx context.Context, snap *Snapshot, email string, now time.Time) (rules.Pair, error) {
	var p rules.Pair
	r := &snap.Recipient
	p.Degree, p.Mutual, p.Connected = snap.Degree, snap.Mutual, snap.Degree == 1
	p.KnowsEmail = email != "" && r.Email != "" && strings.EqualFold(email, r.Email) || snap.SenderHasContact
	p.InContacts = snap.RecipientHasContact
	p.Blocked = snap.Blocked
	for _, inv := range snap.Pending {
		if !inv.SentAt.Add(n.expiry).After(now) {
			if _, err := n.expireOne(ctx, inv, now); err != nil {
				return p, err
			}
			continue
		}
		p.Pending++
	}
	// The sender sees an ignored or privately closed invitation pending:
	// so does the engine, or a re-invite would tell them otherwise.
	for i := range snap.Hidden {
		if snap.Hidden[i].SenderView(n.expiry, now).Status == StatusPending {
			p.Pending++
		}
	}
	rec := &snap.Pair
	p.Ignored, p.LastIgnoredAt, p.Rejected, p.WithdrawnAt = rec.Ignored, rec.LastIgnoredAt, rec.Rejected, rec.WithdrawnAt
	return p, nil
}

// stageFacts holds what one decided invitation or acceptance keeps: the
// facts of both stages, both members and both decisions, in one
// allocation.
type stageFacts struct {
	req, dreq         rules.Request
	sender, recipient rules.Member
	first, deliver    rules.Decision
}

// facts builds the engine's request for a stage from a snapshot. The
// recipient and the pair are left empty when the snapshot has no
// recipient.
func (n *Network) facts(ctx context.Context, snap *Snapshot, stage, note, email string, now time.Time) (*stageFacts, error) {
	f := &stageFacts{}
	f.req = rules.Request{Stage: stage, Now: now, Note: note, Sender: &f.sender}
	engineMember(&f.sender, &snap.Sender, &snap.SenderUsage, snap.SenderConnections, now)
	if !snap.RecipientFound {
		return f, nil
	}
	f.req.Recipient = &f.recipient
	engineMember(&f.recipient, &snap.Recipient, &snap.RecipientUsage, snap.RecipientConnections, now)
	var err error
	f.req.Pair, err = n.pairFacts(ctx, snap, email, now)
	return f, err
}

// InviteInput names an invitation: the sender, and the recipient by
// member id (To) or by email address (Email).
type InviteInput struct {
	From  string `json:"from"`
	To    string `json:"to,omitempty"`
	Email string `json:"email,omitempty"`
	Note  string `json:"note,omitempty"`
}

// InviteResult is everything an invitation attempt did.
type InviteResult struct {
	// Invitation is the stored invitation (the operator's view: never
	// show it to the sender, show Sent); its ID is empty when the invite
	// stage refused.
	Invitation Invitation `json:"invitation"`
	// Request is the invite stage's facts.
	Request *rules.Request `json:"request"`
	// Invite is the invite stage's decision (the operator's view).
	Invite rules.Decision `json:"invite"`
	// Deliver is the deliver stage's decision, nil when not delivered.
	Deliver *rules.Decision `json:"deliver,omitempty"`
	// Accept is the accept stage's decision after an auto_accept.
	Accept *rules.Decision `json:"accept,omitempty"`
	// Public is what the sender may be shown of the decision, and Sent
	// of the invitation (its ID is empty when none was stored).
	Public rules.PublicDecision `json:"public"`
	Sent   SentInvitation       `json:"sent"`
	// RestrictedUntil is the sender's restriction end after an effect
	// restricted them; zero otherwise.
	RestrictedUntil time.Time `json:"restricted_until,omitzero"`
	// Attempts is how many times the invitation was decided before it
	// committed (more than 1 only under concurrent invitations).
	Attempts int `json:"attempts"`
}

// Invite runs an invitation through the invite stage and, when it is
// allowed, the deliver stage, and applies the outcomes:
//
//   - allow: the invitation is stored pending and counted in the sender's
//     windows and the recipient's; the deliver stage then puts it in the
//     inbox, holds it, files it as spam, accepts it (running the accept
//     stage) or ignores it;
//   - shadow: it is stored pending and counted for the sender, but never
//     delivered; the sender's view reads exactly like an allow;
//   - deny: nothing is stored. If the sender was already at the tier's
//     weekly limit the attempt is counted as over the limit.
//
// Effects apply whatever the outcome: restrict moves the subject's
// restriction end.
//
// The quota check and the increment are one step: the engine decides on
// the counters read with version Seq, and [Store.Reserve] commits only if
// Seq is unchanged; otherwise Invite reads and decides again. So N
// concurrent invitations from one sender admit exactly what the policy
// allows, never more.
//
// The returned error is non-nil when the store failed, the sender does not
// exist, or the decider failed. When nothing was stored the result then
// holds a fail-closed decision ([rules.Unavailable]), never the engine's
// allow for an invitation that does not exist.
func (n *Network) Invite(ctx context.Context, in InviteInput) (InviteResult, error) {
	res, err := n.invite(ctx, in)
	if err != nil && res.Invitation.ID == "" && res.Invite.Reason != rules.ReasonServiceUnavailable {
		d := rules.Unavailable(rules.StageInvite, n.clock.Now(), "")
		res.Invite, res.Deliver, res.Accept, res.Public = d, nil, nil, n.pol.Public(d)
		res.Sent = SentInvitation{}
	}
	return res, err
}

func (n *Network) invite(ctx context.Context, in InviteInput) (InviteResult, error) {
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		res, done, err := n.tryInvite(ctx, in)
		if done || err != nil {
			res.Attempts = attempt
			return res, err
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
	return InviteResult{Attempts: maxAttempts}, ErrContention
}

func (n *Network) tryInvite(ctx context.Context, in InviteInput) (res InviteResult, done bool, err error) {
	now := n.clock.Now()
	w := n.windows(now)
	snap, err := n.store.Snapshot(ctx, SnapshotQuery{From: in.From, To: in.To, Email: in.Email, Windows: w, Budget: n.budget})
	if err != nil {
		return res, false, err
	}
	sender := &snap.Sender
	f, err := n.facts(ctx, &snap, rules.StageInvite, in.Note, in.Email, now)
	if err != nil {
		return res, false, err
	}
	req := &f.req
	res.Request = req
	d, derr := n.decide(ctx, req)
	res.Invite = d
	f.first = d
	subject := in.To
	if snap.RecipientFound {
		subject = snap.Recipient.ID
	}
	result := "refused"

	switch d.Outcome {
	case "allow", "shadow":
		if !snap.RecipientFound { // a policy that allows an unknown recipient: nothing to send to
			d = rules.Decision{Outcome: "deny", Reason: "not_found", Message: n.pol.GenericMessage()}
			res.Invite, f.first = d, d
			break
		}
		inv := Invitation{From: sender.ID, To: snap.Recipient.ID, Note: in.Note, Email: in.Email, SentAt: now, Status: StatusPending}
		if d.Outcome == "shadow" {
			inv.Delivery = DeliveryShadow
		}
		stored, ok, err := n.store.Reserve(ctx, Reservation{Seq: snap.SenderUsage.Seq, Windows: w, Invitation: inv,
			Received: d.Outcome == "allow", RecipientSeq: snap.RecipientUsage.RecvSeq})
		if err != nil || !ok {
			return res, false, err
		}
		// Stored: from here on the sender has an invitation to see, even
		// if logging, an effect or the delivery fails below.
		res.Invitation, res.Sent = stored, stored.SenderView(n.expiry, now)
		result = StatusPending
		if d.Outcome == "shadow" {
			result = DeliveryShadow
		}
	default:
		lim := n.limits[sender.Tier]
		if lim.Weekly > 0 && snap.SenderUsage.Sent.Week >= lim.Weekly {
			ok, err := n.store.CountOverLimit(ctx, sender.ID, snap.SenderUsage.Seq, w)
			if err != nil || !ok {
				return res, false, err
			}
		}
	}
	if !n.noLog() {
		ev := &Event{At: now, Action: ActionInvite, Actor: sender.ID, Subject: subject, Invitation: res.Invitation.ID,
			Request: req, Decision: &f.first, Result: result}
		if in.Email != "" {
			ev.Detail = map[string]any{"email": in.Email}
		}
		if err := n.log(ctx, ev); err != nil {
			return res, true, err
		}
	}
	if err := n.applyEffects(ctx, &res, d, sender.ID, subject, now); err != nil {
		return res, true, err
	}
	res.Public = n.pol.Public(d)
	if res.Invitation.ID != "" && d.Outcome == "allow" {
		if err := n.deliver(ctx, &res, f, now); err != nil {
			return res, true, err
		}
	}
	if res.Invitation.ID != "" {
		res.Sent = res.Invitation.SenderView(n.expiry, now)
	}
	if derr != nil {
		return res, true, derr
	}
	return res, true, nil
}

// applyEffects applies a decision's effects. Unknown kinds are kept in the
// log and otherwise ignored, so a newer policy cannot break an older host.
func (n *Network) applyEffects(ctx context.Context, res *InviteResult, d rules.Decision, sender, recipient string, now time.Time) error {
	for _, e := range d.Effects {
		if e.Kind != "restrict" {
			continue
		}
		who := sender
		if e.Subject == "recipient" {
			who = recipient
		}
		until, err := n.store.Restrict(ctx, who, e.Until)
		if err != nil {
			return err
		}
		if who == sender {
			res.RestrictedUntil = until
		}
		if err := n.log(ctx, &Event{At: now, Action: ActionRestrict, Actor: who, Result: "restricted",
			Detail: map[string]any{"until": until, "rule": d.Rule}}); err != nil {
			return err
		}
	}
	return nil
}

// deliver runs the deliver stage on a stored invitation and applies it.
func (n *Network) deliver(ctx context.Context, res *InviteResult, f *stageFacts, now time.Time) error {
	f.dreq = f.req
	f.dreq.Stage = rules.StageDeliver
	req := &f.dreq
	d, derr := n.decide(ctx, req)
	f.deliver = d
	res.Deliver = &f.deliver
	inv := res.Invitation
	switch d.Outcome {
	case DeliveryInbox, DeliveryHold, DeliverySpam, DeliveryAutoAccept, DeliveryAutoIgnore:
		inv.Delivery = d.Outcome
	default: // an unknown outcome holds the invitation: closed, but not lost
		inv.Delivery = DeliveryHold
	}
	ok, err := n.store.UpdateInvitation(ctx, inv, StatusPending)
	if err != nil {
		return err
	}
	if !ok { // withdrawn (or blocked away) between the reserve and now
		cur, err := n.store.Invitation(ctx, inv.ID)
		if err != nil {
			return err
		}
		res.Invitation = cur
		return n.log(ctx, &Event{At: now, Action: ActionDeliver, Actor: inv.From, Subject: inv.To, Invitation: inv.ID,
			Request: req, Decision: res.Deliver, Result: "not_delivered_" + cur.Status})
	}
	res.Invitation = inv
	if !n.noLog() {
		if err := n.log(ctx, &Event{At: now, Action: ActionDeliver, Actor: inv.From, Subject: inv.To, Invitation: inv.ID,
			Request: req, Decision: res.Deliver, Result: inv.Delivery}); err != nil {
			return err
		}
	}
	switch inv.Delivery {
	case DeliveryAutoAccept:
		ar, err := n.Accept(ctx, inv.ID)
		if err != nil {
			return err
		}
		res.Accept = &ar.Decision
		res.Invitation = ar.Invitation
	case DeliveryAutoIgnore:
		ar, err := n.ignore(ctx, inv.ID, true)
		if err != nil {
			return err
		}
		res.Invitation = ar.Invitation
	}
	return derr
}

// AnswerResult is what an answer to an invitation did.
type AnswerResult struct {
	Invitation Invitation `json:"invitation"`
	// Request and Decision are the accept stage's, for Accept only.
	Request  *rules.Request `json:"request,omitempty"`
	Decision rules.Decision `json:"decision"`
	// NotifySender says whether the sender is told: only for a rejection.
	NotifySender bool `json:"notify_sender"`
}

// visible loads an invitation the recipient can answer.
func (n *Network) visible(ctx context.Context, id string) (Invitation, error) {
	inv, err := n.store.Invitation(ctx, id)
	if err != nil {
		return inv, err
	}
	if !inv.Visible() {
		return inv, fmt.Errorf("invitation %s (%s): %w", id, inv.Status, ErrNotPending)
	}
	if !inv.SentAt.Add(n.expiry).After(n.clock.Now()) {
		if _, err := n.expireOne(ctx, inv, n.clock.Now()); err != nil {
			return inv, err
		}
		return inv, fmt.Errorf("invitation %s (expired): %w", id, ErrNotPending)
	}
	return inv, nil
}

// Accept runs the accept stage for an invitation the recipient can see.
// If it allows, the two members are connected; if it denies (a connection
// cap), the invitation stays pending and the decision says why.
//
// The caps are checked and the connection made in one step: the engine
// decides on the connection counts read, and [Store.AcceptInvitation]
// connects only if both are unchanged; otherwise Accept reads and decides
// again. So concurrent acceptances never take a member past a cap.
func (n *Network) Accept(ctx context.Context, id string) (AnswerResult, error) {
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		res, done, err := n.tryAccept(ctx, id)
		if done || err != nil {
			return res, err
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
	return AnswerResult{}, ErrContention
}

func (n *Network) tryAccept(ctx context.Context, id string) (res AnswerResult, done bool, err error) {
	inv, err := n.visible(ctx, id)
	if err != nil {
		return res, false, err
	}
	now := n.clock.Now()
	snap, err := n.store.Snapshot(ctx, SnapshotQuery{From: inv.From, To: inv.To, Windows: n.windows(now), Budget: n.budget})
	if err != nil {
		return res, false, err
	}
	if !snap.RecipientFound {
		return res, false, notFound("member", inv.To)
	}
	f, err := n.facts(ctx, &snap, rules.StageAccept, inv.Note, inv.Email, now)
	if err != nil {
		return res, false, err
	}
	req := &f.req
	d, derr := n.decide(ctx, req)
	f.first = d
	res.Request, res.Decision, res.Invitation = req, d, inv
	ev := &Event{At: now, Action: ActionAccept, Actor: inv.To, Subject: inv.From, Invitation: inv.ID, Request: req, Decision: &f.first, Result: "refused"}
	if d.Outcome == "allow" {
		inv.Status, inv.ClosedAt = StatusAccepted, now
		ok, err := n.store.AcceptInvitation(ctx, Acceptance{Invitation: inv,
			SenderConnections: snap.SenderConnections, RecipientConnections: snap.RecipientConnections})
		if errors.Is(err, ErrNotPending) {
			return res, true, fmt.Errorf("invitation %s was answered meanwhile: %w", id, ErrNotPending)
		}
		if err != nil || !ok {
			return res, false, err
		}
		res.Invitation = inv
		ev.Result = "connected"
	}
	if err := n.log(ctx, ev); err != nil {
		return res, true, err
	}
	return res, true, derr
}

// closeOne applies c (see [Store.CloseInvitation]) and logs it as action
// by actor. A lost race is an error wrapping ErrNotPending.
func (n *Network) closeOne(ctx context.Context, c Closing, action, actor string, detail map[string]any) (Invitation, error) {
	inv, ok, err := n.store.CloseInvitation(ctx, c)
	if err != nil {
		return inv, err
	}
	if !ok {
		return inv, fmt.Errorf("invitation %s was answered meanwhile: %w", c.ID, ErrNotPending)
	}
	subject := inv.To
	if actor == inv.To {
		subject = inv.From
	}
	result := inv.Status
	if c.SenderWithdrew {
		result = StatusWithdrawn
	}
	return inv, n.log(ctx, &Event{At: c.At, Action: action, Actor: actor, Subject: subject, Invitation: inv.ID, Result: result, Detail: detail})
}

// Ignore closes an invitation without telling the sender: they go on
// seeing it pending until they withdraw it or it expires. It counts
// toward the pair's ignores, which the resend rules read, in the same
// step.
func (n *Network) Ignore(ctx context.Context, id string) (AnswerResult, error) {
	return n.ignore(ctx, id, false)
}

// ignore is Ignore, or with auto the deliver stage's auto_ignore: a
// recipient's setting, not an answer to this sender, so it does not count
// toward the resend rules; the sender cannot tell it from an invitation
// never answered. Either way it is an invitation not accepted, so it
// counts in the sender's acceptance rate, which only the engine reads.
func (n *Network) ignore(ctx context.Context, id string, auto bool) (AnswerResult, error) {
	inv, err := n.visible(ctx, id)
	if err != nil {
		return AnswerResult{Invitation: inv}, err
	}
	c := Closing{ID: id, From: StatusPending, Status: StatusIgnored, At: n.clock.Now(), Ignore: !auto, Answered: true}
	detail := map[string]any{"notify_sender": false}
	if auto {
		detail["auto"] = true
	}
	inv, err = n.closeOne(ctx, c, ActionIgnore, inv.To, detail)
	return AnswerResult{Invitation: inv}, err
}

// Reject closes an invitation and tells the sender. The sender can never
// invite this recipient again: the pair is marked rejected in the same
// step.
func (n *Network) Reject(ctx context.Context, id string) (AnswerResult, error) {
	inv, err := n.visible(ctx, id)
	if err != nil {
		return AnswerResult{Invitation: inv}, err
	}
	c := Closing{ID: id, From: StatusPending, Status: StatusRejected, At: n.clock.Now(), Reject: true, Answered: true}
	inv, err = n.closeOne(ctx, c, ActionReject, inv.To, map[string]any{"notify_sender": true})
	return AnswerResult{Invitation: inv, NotifySender: true}, err
}

// Withdraw withdraws an invitation on the sender's behalf and returns the
// sender's view of it. Whatever the sender sees pending can be withdrawn:
// shadowed ones (the sender believes they were sent), and ignored ones or
// ones a block closed, whose withdrawal is recorded for the sender only.
// It fails with ErrNotPending exactly when the sender's view is not
// pending, and the error names that view's status. The pair's
// WithdrawnAt is set in the same step.
func (n *Network) Withdraw(ctx context.Context, id string) (SentInvitation, error) {
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		inv, err := n.store.Invitation(ctx, id)
		if err != nil {
			return SentInvitation{}, err
		}
		now := n.clock.Now()
		view := inv.SenderView(n.expiry, now)
		if view.Status != StatusPending {
			if inv.Status == StatusPending && view.Status == StatusExpired {
				if _, err := n.expireOne(ctx, inv, now); err != nil {
					return view, err
				}
			}
			return view, fmt.Errorf("invitation %s (%s): %w", id, view.Status, ErrNotPending)
		}
		c := Closing{ID: id, From: inv.Status, Status: StatusWithdrawn, At: now, Withdraw: true}
		if inv.Status != StatusPending {
			c.Status, c.SenderWithdrew = inv.Status, true
		}
		var detail map[string]any
		if c.SenderWithdrew {
			detail = map[string]any{"sender_only": true}
		}
		inv, err = n.closeOne(ctx, c, ActionWithdraw, inv.From, detail)
		if errors.Is(err, ErrNotPending) {
			continue // answered or blocked meanwhile: read the sender's view again
		}
		return inv.SenderView(n.expiry, now), err
	}
	return SentInvitation{}, ErrContention
}

// Sent lists the sender's view of every invitation they sent, oldest
// first: what a sent-invitations page shows. It is the only listing a
// sender may be shown; see [Invitation.SenderView].
func (n *Network) Sent(ctx context.Context, from string) ([]SentInvitation, error) {
	invs, err := n.store.SentBy(ctx, from)
	if err != nil {
		return nil, err
	}
	now := n.clock.Now()
	out := make([]SentInvitation, len(invs))
	for i := range invs {
		out[i] = invs[i].SenderView(n.expiry, now)
	}
	return out, nil
}

func (n *Network) expireOne(ctx context.Context, inv Invitation, now time.Time) (bool, error) {
	inv.Status, inv.ClosedAt = StatusExpired, inv.SentAt.Add(n.expiry)
	ok, err := n.store.UpdateInvitation(ctx, inv, StatusPending)
	if err != nil || !ok {
		return false, err
	}
	return true, n.log(ctx, &Event{At: now, Action: ActionExpire, Actor: inv.From, Subject: inv.To, Invitation: inv.ID,
		Result: StatusExpired, Detail: map[string]any{"expired_at": inv.ClosedAt}})
}

// Expire closes every pending invitation older than the policy's
// pending_expiry and returns them. The lifecycle also expires a pair's
// invitations whenever it reads them, so a missed sweep changes no
// decision.
func (n *Network) Expire(ctx context.Context) ([]Invitation, error) {
	now := n.clock.Now()
	due, err := n.store.PendingSentBefore(ctx, now.Add(-n.expiry).Add(time.Nanosecond))
	if err != nil {
		return nil, err
	}
	var out []Invitation
	for _, inv := range due {
		ok, err := n.expireOne(ctx, inv, now)
		if err != nil {
			return out, err
		}
		if ok {
			inv.Status, inv.ClosedAt = StatusExpired, inv.SentAt.Add(n.expiry)
			out = append(out, inv)
		}
	}
	return out, nil
}

// Remove removes the connection between two members and reports whether
// there was one.
func (n *Network) Remove(ctx context.Context, by, other string) (bool, error) {
	had, err := n.store.Disconnect(ctx, by, other)
	if err != nil {
		return false, err
	}
	result := "not_connected"
	if had {
		result = "removed"
	}
	return had, n.log(ctx, &Event{At: n.clock.Now(), Action: ActionRemove, Actor: by, Subject: other, Result: result})
}

// BlockResult is what a block did besides blocking.
type BlockResult struct {
	// Withdrawn lists the pending invitations between the two, both ways,
	// that the block closed.
	Withdrawn []Invitation `json:"withdrawn,omitempty"`
	// Disconnected says whether the two were connected.
	Disconnected bool `json:"disconnected"`
}

// Block records blocker's block of blocked, withdraws every pending
// invitation between them in either direction and removes their
// connection. The blocked member is not told: their invitations to the
// blocker close privately (they go on seeing them pending, see
// [Invitation.SenderView]), and the invite stage's blocked rule shows
// them only the generic message.
func (n *Network) Block(ctx context.Context, blocker, blocked string) (BlockResult, error) {
	var res BlockResult
	for _, id := range []string{blocker, blocked} {
		if _, err := n.store.Member(ctx, id); err != nil {
			return res, err
		}
	}
	if err := n.store.SetBlock(ctx, blocker, blocked, true); err != nil {
		return res, err
	}
	for _, dir := range [][2]string{{blocker, blocked}, {blocked, blocker}} {
		pend, err := n.store.Pending(ctx, dir[0], dir[1])
		if err != nil {
			return res, err
		}
		for _, inv := range pend {
			// The blocked member's own invitations close privately: they
			// still see them pending.
			c := Closing{ID: inv.ID, From: StatusPending, Status: StatusWithdrawn, At: n.clock.Now(), Private: inv.From == blocked}
			closed, err := n.closeOne(ctx, c, ActionWithdraw, blocker, map[string]any{"cause": "block"})
			if errors.Is(err, ErrNotPending) {
				continue
			}
			if err != nil {
				return res, err
			}
			res.Withdrawn = append(res.Withdrawn, closed)
		}
	}
	var err error
	if res.Disconnected, err = n.store.Disconnect(ctx, blocker, blocked); err != nil {
		return res, err
	}
	ids := make([]string, len(res.Withdrawn))
	for i, inv := range res.Withdrawn {
		ids[i] = inv.ID
	}
	return res, n.log(ctx, &Event{At: n.clock.Now(), Action: ActionBlock, Actor: blocker, Subject: blocked, Result: "blocked",
		Detail: map[string]any{"withdrawn": ids, "disconnected": res.Disconnected}})
}

// Unblock lifts blocker's block. A connection removed by the block is not
// restored.
func (n *Network) Unblock(ctx context.Context, blocker, blocked string) error {
	if err := n.store.SetBlock(ctx, blocker, blocked, false); err != nil {
		return err
	}
	return n.log(ctx, &Event{At: n.clock.Now(), Action: ActionUnblock, Actor: blocker, Subject: blocked, Result: "unblocked"})
}

// ImportContacts adds emails to a member's imported contacts and returns
// the ids of the members they match, in the order given. Invitations sent
// to them afterwards go through [Network.Invite] and count toward the
// quotas like any other.
func (n *Network) ImportContacts(ctx context.Context, owner string, emails []string) ([]string, error) {
	if _, err := n.store.Member(ctx, owner); err != nil {
		return nil, err
	}
	if err := n.store.AddContacts(ctx, owner, emails); err != nil {
		return nil, err
	}
	var matched []string
	seen := map[string]bool{}
	for _, e := range emails {
		m, err := n.store.MemberByEmail(ctx, e)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !seen[m.ID] && m.ID != owner {
			seen[m.ID] = true
			matched = append(matched, m.ID)
		}
	}
	return matched, n.log(ctx, &Event{At: n.clock.Now(), Action: ActionImport, Actor: owner, Result: "imported",
		Detail: map[string]any{"emails": len(emails), "matched": matched}})
}

// PendingFrom returns the oldest pending invitation from one member to
// another as stored (what the recipient can answer), or an error wrapping
// ErrNotFound. It is not the sender's view: that is [Network.Sent].
func (n *Network) PendingFrom(ctx context.Context, from, to string) (Invitation, error) {
	pend, err := n.store.Pending(ctx, from, to)
	if err != nil {
		return Invitation{}, err
	}
	if len(pend) == 0 {
		return Invitation{}, fmt.Errorf("no pending invitation from %s to %s: %w", from, to, ErrNotFound)
	}
	return pend[0], nil
}

// Relation returns the degree and mutual connections of two members, as
// the engine would see them.
func (n *Network) Relation(ctx context.Context, a, b string) (degree, mutual int, err error) {
	return n.store.Relation(ctx, a, b, n.budget)
}
