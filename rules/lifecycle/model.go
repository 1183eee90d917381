package lifecycle

import (
	"time"

	"github.com/connrules/connrules/rules"
)

// Member is a person or company page as the lifecycle stores it. The
// engine's [rules.Member] is built from it, with the counts and the
// connection total filled in from the store.
type Member struct {
	ID string `json:"id"`
	// Kind is person or company; empty means person.
	Kind string `json:"kind,omitempty"`
	// Tier is a key into the policy's tier table; empty means free.
	Tier string `json:"tier,omitempty"`
	// Status is active, soft_banned, deactivated or closed; empty means
	// active. A restriction is not a status here: it is RestrictedUntil,
	// and it lifts by itself when that time passes.
	Status  string `json:"status,omitempty"`
	Company string `json:"company,omitempty"`
	School  string `json:"school,omitempty"`
	Title   string `json:"title,omitempty"`
	// Email is matched against imported contacts and invitations by email.
	Email    string         `json:"email,omitempty"`
	Settings rules.Settings `json:"settings"`
	// RestrictedUntil is the end of a restriction; zero when there is none.
	RestrictedUntil time.Time `json:"restricted_until,omitzero"`
	// SoftBannedUntil ends a soft ban: once it has passed, the member reads
	// as active. Zero means the soft ban has no end.
	SoftBannedUntil time.Time `json:"soft_banned_until,omitzero"`
	// AcceptanceRate is the prior share of accepted invitations, used until
	// the member's own answers outweigh it (see [Network.Invite]).
	AcceptanceRate float64 `json:"acceptance_rate"`
	// Answered and Accepted count the member's sent invitations that were
	// answered (accepted, ignored or rejected) and accepted.
	Answered int `json:"answered,omitempty"`
	Accepted int `json:"accepted,omitempty"`
	// Version is the stored profile's version: [Store.PutMember] bumps it
	// and, when given one, writes only over that version.
	Version uint64 `json:"version,omitempty"`
}

// acceptancePriorWeight is how many answers the prior AcceptanceRate is
// worth: with fewer answers than this the prior dominates.
const acceptancePriorWeight = 10

// acceptanceRate blends the prior with the member's own answers.
func (m *Member) acceptanceRate() float64 {
	return (m.AcceptanceRate*acceptancePriorWeight + float64(m.Accepted)) / float64(acceptancePriorWeight+m.Answered)
}

// normalize fills the defaults of an incoming member.
func (m *Member) normalize() {
	if m.Kind == "" {
		m.Kind = "person"
	}
	if m.Tier == "" {
		m.Tier = "free"
	}
	if m.Status == "" {
		m.Status = "active"
	}
}

// Invitation statuses.
const (
	StatusPending   = "pending"
	StatusAccepted  = "accepted"
	StatusIgnored   = "ignored"
	StatusRejected  = "rejected"
	StatusWithdrawn = "withdrawn"
	StatusExpired   = "expired"
)

// Delivery values of an invitation: the deliver stage's outcome, or shadow
// when the invite stage shadowed it and it was never delivered.
const (
	DeliveryInbox      = "inbox"
	DeliveryHold       = "hold"
	DeliverySpam       = "spam"
	DeliveryAutoAccept = "auto_accept"
	DeliveryAutoIgnore = "auto_ignore"
	DeliveryShadow     = "shadow"
)

// Invitation is one connection request and what became of it.
type Invitation struct {
	ID   string `json:"id"`
	From string `json:"from"`
	To   string `json:"to"`
	Note string `json:"note,omitempty"`
	// Email is set when the sender invited by email address.
	Email  string    `json:"email,omitempty"`
	SentAt time.Time `json:"sent_at"`
	// Status is pending until the invitation is answered, withdrawn or
	// expired. A shadowed invitation stays pending for the sender and is
	// never visible to the recipient.
	Status   string    `json:"status"`
	Delivery string    `json:"delivery,omitempty"`
	ClosedAt time.Time `json:"closed_at,omitzero"`
	// Private marks an invitation closed for a reason its sender must not
	// learn: the recipient blocked them. Like an ignored one, the sender
	// still sees it pending (see [Invitation.SenderView]).
	Private bool `json:"private,omitempty"`
	// SenderWithdrawnAt is when the sender withdrew an invitation that was
	// already closed out of their sight (ignored, or Private).
	SenderWithdrawnAt time.Time `json:"sender_withdrawn_at,omitzero"`
}

// hidden reports whether the invitation is closed but its sender must
// still see it open: ignored (the sender is never told), or Private.
func (inv *Invitation) hidden() bool {
	return inv.Status == StatusIgnored || inv.Private
}

// SentInvitation is the sender's view of one of their invitations: all
// they may be shown of it. It has no delivery: a hold, spam filing,
// shadow or auto-ignore is the policy's business, not the sender's.
type SentInvitation struct {
	ID   string `json:"id"`
	To   string `json:"to"`
	Note string `json:"note,omitempty"`
	// Email is set when the sender invited by email address.
	Email  string    `json:"email,omitempty"`
	SentAt time.Time `json:"sent_at"`
	// Status is pending, accepted, rejected, withdrawn or expired: never
	// ignored.
	Status   string    `json:"status"`
	ClosedAt time.Time `json:"closed_at,omitzero"`
}

// SenderView is what the invitation's sender sees of it at now, when
// invitations expire after expiry. An ignored or Private invitation reads
// as pending until the sender withdraws it or it expires, exactly like
// one nobody answered; a pending one past its expiry reads as expired
// even before a sweep closed it. Everything else reads as stored.
func (inv *Invitation) SenderView(expiry time.Duration, now time.Time) SentInvitation {
	v := SentInvitation{ID: inv.ID, To: inv.To, Note: inv.Note, Email: inv.Email, SentAt: inv.SentAt,
		Status: inv.Status, ClosedAt: inv.ClosedAt}
	if inv.hidden() {
		v.Status, v.ClosedAt = StatusPending, time.Time{}
		if !inv.SenderWithdrawnAt.IsZero() {
			v.Status, v.ClosedAt = StatusWithdrawn, inv.SenderWithdrawnAt
		}
	}
	if v.Status == StatusPending && !inv.SentAt.Add(expiry).After(now) {
		v.Status, v.ClosedAt = StatusExpired, inv.SentAt.Add(expiry)
	}
	return v
}

// Visible reports whether the recipient can see and answer the invitation.
func (inv *Invitation) Visible() bool {
	return inv.Status == StatusPending && inv.Delivery != DeliveryShadow && inv.Delivery != ""
}

// PairRecord is the history of invitations from one member to another:
// the facts behind the resend rules.
type PairRecord struct {
	Ignored       int       `json:"ignored"`
	LastIgnoredAt time.Time `json:"last_ignored_at,omitzero"`
	Rejected      bool      `json:"rejected"`
	WithdrawnAt   time.Time `json:"withdrawn_at,omitzero"`
}

// Windows names the quota windows at one instant by their starts, in the
// policy's calendar. Two instants are in the same day window exactly when
// their Windows have equal Day fields.
type Windows struct {
	// Now is the instant the windows were computed for.
	Now time.Time `json:"now"`
	// Hour is the start of the rolling hour: Now minus one hour, exclusive.
	Hour  time.Time `json:"hour"`
	Day   time.Time `json:"day"`
	Week  time.Time `json:"week"`
	Month time.Time `json:"month"`
}

// WindowsAt computes the windows of instant t in calendar c.
func WindowsAt(c rules.Calendar, t time.Time) Windows {
	return Windows{Now: t, Hour: t.Add(-time.Hour), Day: c.DayStart(t), Week: c.WeekStart(t), Month: c.MonthStart(t)}
}

// Usage is a member's counters in a set of windows, as [Store.Usage]
// reads them.
type Usage struct {
	// Seq is the version of the member's sending state. [Store.Reserve]
	// commits only if it is unchanged.
	Seq uint64 `json:"seq"`
	// RecvSeq is the version of the member's received counters: every
	// invitation counted as received by the member bumps it.
	// [Store.Reserve] counts one more only if it is unchanged.
	RecvSeq uint64 `json:"recv_seq"`
	// Sent counts invitations the member sent, shadowed ones included: a
	// soft-banned sender must not be able to tell from the meter.
	Sent rules.Counts `json:"sent"`
	// Received counts invitations delivered to the member.
	Received rules.Counts `json:"received"`
	// OverLimit counts refused attempts made while the week's count was at
	// or over the tier's weekly limit, in the current week.
	OverLimit int `json:"over_limit"`
	// HourOldest is the oldest send inside the rolling hour; the hour count
	// drops when it leaves. Zero when the hour is empty.
	HourOldest time.Time `json:"hour_oldest,omitzero"`
}

// Reservation is the atomic step of an invitation: if the sender's Seq is
// still the one read (and, when Received is set, the recipient's RecvSeq),
// record the send in the sender's windows, count it as received by the
// recipient when Received is set, and store the invitation.
type Reservation struct {
	Seq        uint64
	Windows    Windows
	Invitation Invitation
	Received   bool
	// RecipientSeq is the recipient's [Usage.RecvSeq] the decision read;
	// checked only when Received is set.
	RecipientSeq uint64
}

// Acceptance is the atomic step of an accepted invitation: the invitation
// with its new status and closing time, and the connection counts the
// accept stage decided on.
type Acceptance struct {
	Invitation           Invitation
	SenderConnections    int
	RecipientConnections int
}

// Closing is the atomic step that closes an invitation, or records its
// sender's withdrawal of one closed out of their sight, together with the
// pair record and the sender's answer count: see [Store.CloseInvitation].
type Closing struct {
	// ID names the invitation.
	ID string
	// From is the status the invitation must still have: pending, or the
	// closed status of a hidden one the sender withdraws.
	From string
	// Status, At and Private are the new status, the closing time and
	// whether the close is private. When SenderWithdrew is set, the status
	// stays and At is the sender's withdrawal time.
	Status         string
	At             time.Time
	Private        bool
	SenderWithdrew bool
	// Ignore, Reject and Withdraw change the pair record: an ignore at At,
	// a rejection, a withdrawal at At.
	Ignore, Reject, Withdraw bool
	// Answered counts an answer (not an acceptance) for the sender.
	Answered bool
}

// SnapshotQuery names the facts [Store.Snapshot] reads: the sender, the
// recipient by member id (To) or by email (Email, which wins when set),
// the windows of the counters and the degree search's budget.
type SnapshotQuery struct {
	From    string
	To      string
	Email   string
	Windows Windows
	Budget  int
}

// Snapshot is every stored fact about one invitation, read at once.
type Snapshot struct {
	Sender            Member
	SenderUsage       Usage
	SenderConnections int
	// RecipientFound is false when no member matches the query's To or
	// Email; the recipient fields and the pair facts are then zero.
	RecipientFound       bool
	Recipient            Member
	RecipientUsage       Usage
	RecipientConnections int
	// Degree and Mutual are as [Store.Relation] returns them.
	Degree, Mutual int
	// SenderHasContact: the recipient's email is in the sender's imported
	// contacts. RecipientHasContact: the sender's email is in the
	// recipient's.
	SenderHasContact    bool
	RecipientHasContact bool
	// Blocked: either member blocked the other.
	Blocked bool
	// Pending lists the pending invitations from sender to recipient,
	// oldest first, expired ones included.
	Pending []Invitation
	// Hidden lists the invitations from sender to recipient that are
	// closed out of the sender's sight (ignored or Private) and that the
	// sender has not withdrawn, oldest first, expired ones included: the
	// sender still sees them pending until they expire.
	Hidden []Invitation
	Pair   PairRecord
}

// Event is one line of the append-only log: an action, the facts the
// engine saw and its decision, and what was applied. The log feeds replay
// and impact analysis, so every action appends at least one event and the
// format is versioned by V.
type Event struct {
	// V is the event format version, [EventVersion].
	V int `json:"v"`
	// Seq is assigned by the store: 1, 2, 3... in append order.
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	// Actor is the member who acted; Subject the other member, if any.
	Actor   string `json:"actor,omitempty"`
	Subject string `json:"subject,omitempty"`
	// Invitation is the id of the invitation concerned, if any.
	Invitation string `json:"invitation,omitempty"`
	// Policy names the policy that decided.
	Policy string `json:"policy,omitempty"`
	// Request and Decision are set for actions the engine decided.
	Request  *rules.Request  `json:"request,omitempty"`
	Decision *rules.Decision `json:"decision,omitempty"`
	// Result is what the lifecycle applied: an invitation status, a
	// delivery, "refused", "connected", "restricted"...
	Result string `json:"result,omitempty"`
	// Detail carries action-specific data, e.g. imported emails.
	Detail map[string]any `json:"detail,omitempty"`
}

// EventVersion is the current [Event] format version.
const EventVersion = 1

// Actions recorded in the event log.
const (
	ActionInvite   = "invite"
	ActionDeliver  = "deliver"
	ActionAccept   = "accept"
	ActionIgnore   = "ignore"
	ActionReject   = "reject"
	ActionWithdraw = "withdraw"
	ActionExpire   = "expire"
	ActionRemove   = "remove"
	ActionBlock    = "block"
	ActionUnblock  = "unblock"
	ActionImport   = "import_contacts"
	ActionRestrict = "restrict"
	ActionMember   = "member"
	ActionConnect  = "connect"
)
