package lifecycle

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned (wrapped) when a member or an invitation does
// not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned (wrapped) by [Store.PutMember] when the member
// changed since the version the caller read: read again and edit again.
var ErrConflict = errors.New("changed meanwhile")

// Store holds the lifecycle's state. [MemStore] is the in-memory default;
// the interface is shaped so that a SQLite or Redis store can follow:
// every method is one query or one transaction, nothing hands out
// pointers into the store, and every multi-step invariant is a single
// conditional write: the quotas, including the recipient's received
// counts, in [Store.Reserve], the connection caps in
// [Store.AcceptInvitation], and an answer, a withdrawal or a block's
// closing of an invitation with its pair record in
// [Store.CloseInvitation]. Counters per window never go back: a write in
// a window older than the one a counter holds is refused.
// [Store.Snapshot] reads every fact of one invitation in one call (one
// transaction in SQL, one script or pipeline in Redis); the finer reads
// remain for tools and the other actions.
//
// Implementations must be safe for concurrent use.
type Store interface {
	// Member returns the member with the id, or an error wrapping ErrNotFound.
	Member(ctx context.Context, id string) (Member, error)
	// MemberByEmail returns the member with the email, or an error
	// wrapping ErrNotFound. Emails compare case-insensitively.
	MemberByEmail(ctx context.Context, email string) (Member, error)
	// PutMember creates a member, or updates an existing member's profile:
	// every field but RestrictedUntil, Answered and Accepted, which only
	// their own atomic steps change (Restrict, AcceptInvitation,
	// CloseInvitation), so an edit never erases a concurrent
	// restriction or answer. A new member takes every field of m. If
	// m.Version is not 0 it must equal the stored member's Version (0 when
	// there is none), otherwise PutMember changes nothing and returns an
	// error wrapping ErrConflict; with m.Version 0 there is no check. Every
	// PutMember sets the stored Version to one more than before.
	PutMember(ctx context.Context, m Member) error
	// Restrict moves a member's restriction end to until if that is later
	// than the current one, and returns the end in force.
	Restrict(ctx context.Context, id string, until time.Time) (time.Time, error)

	// Connect records a connection between a and b; it is symmetric.
	Connect(ctx context.Context, a, b string) error
	// Disconnect removes the connection and reports whether there was one.
	Disconnect(ctx context.Context, a, b string) (bool, error)
	// ConnectionCount is the number of a member's connections.
	ConnectionCount(ctx context.Context, id string) (int, error)
	// Relation is the degree (1, 2, 3, or 0 outside the network or beyond
	// the budget) and the number of mutual connections of a and b. The
	// search visits at most budget adjacency entries.
	Relation(ctx context.Context, a, b string, budget int) (degree, mutual int, err error)

	// AddContacts adds emails to a member's imported contacts.
	AddContacts(ctx context.Context, owner string, emails []string) error
	// HasContact reports whether email is in owner's imported contacts.
	HasContact(ctx context.Context, owner, email string) (bool, error)

	// SetBlock records (on) or lifts (off) blocker's block of blocked.
	SetBlock(ctx context.Context, blocker, blocked string, on bool) error
	// Blocked reports whether either member blocked the other.
	Blocked(ctx context.Context, a, b string) (bool, error)

	// Pair returns the history of invitations from one member to another.
	// Only CloseInvitation changes it.
	Pair(ctx context.Context, from, to string) (PairRecord, error)

	// Invitation returns an invitation by id, or an error wrapping ErrNotFound.
	Invitation(ctx context.Context, id string) (Invitation, error)
	// Pending lists pending invitations from one member to another, oldest
	// first.
	Pending(ctx context.Context, from, to string) ([]Invitation, error)
	// SentBy lists every invitation the member sent, oldest first (in
	// the order Reserve stored them).
	SentBy(ctx context.Context, from string) ([]Invitation, error)
	// PendingSentBefore lists pending invitations sent before t, oldest
	// first: the candidates for expiry.
	PendingSentBefore(ctx context.Context, t time.Time) ([]Invitation, error)
	// UpdateInvitation changes a stored invitation's status, delivery and
	// closing time if its status is still from. It reports whether it did,
	// so two answers to one invitation cannot both apply. The lifecycle
	// uses it for a delivery and an expiry; every other close goes
	// through CloseInvitation.
	UpdateInvitation(ctx context.Context, inv Invitation, from string) (bool, error)
	// CloseInvitation is the atomic step of an ignore, a reject, a
	// withdrawal and a block's closing. If the invitation c.ID still has
	// status c.From and no SenderWithdrawnAt, then in one step it
	//   - sets SenderWithdrawnAt to c.At when c.SenderWithdrew (the status
	//     stays), or else sets the status c.Status, ClosedAt c.At and
	//     Private c.Private, dropping the invitation from the pending ones;
	//   - changes the pair record from the invitation's sender to its
	//     recipient: c.Ignore adds one to Ignored and sets LastIgnoredAt to
	//     c.At, c.Reject sets Rejected, c.Withdraw sets WithdrawnAt to c.At;
	//   - adds one to the sender's Answered when c.Answered;
	//   - bumps the sender's Seq, so an invitation decided on the pair as
	//     it was cannot commit (see Reserve);
	// and returns the invitation as stored after it, and true. Otherwise it
	// changes nothing and returns the stored invitation and false. An
	// unknown id is an error wrapping ErrNotFound.
	CloseInvitation(ctx context.Context, c Closing) (Invitation, bool, error)

	// Snapshot reads, in one consistent step, every fact an invitation
	// from q.From to q.To (or to the member with email q.Email) is decided
	// on: both members, their counters in q.Windows, their connection
	// counts, the relation searched within q.Budget, contacts, blocks, the
	// pair's pending invitations, its hidden ones and its history. A
	// missing sender is an error wrapping ErrNotFound; a missing recipient
	// leaves RecipientFound false.
	Snapshot(ctx context.Context, q SnapshotQuery) (Snapshot, error)

	// Usage reads a member's counters in the windows w. A counter whose
	// stored window differs from w reads as zero (a later stored window
	// means w is stale: Reserve will refuse it).
	Usage(ctx context.Context, id string, w Windows) (Usage, error)
	// Reserve is the quota's atomic step. If the sender's Seq still equals
	// r.Seq and, when r.Received is set, the recipient's RecvSeq still
	// equals r.RecipientSeq, it increments the sender's sent counters in
	// r.Windows (and the recipient's received counters if r.Received,
	// bumping the recipient's RecvSeq), stores r.Invitation with a new id,
	// bumps the sender's Seq, and returns the invitation and true.
	// Counters never go back: if a day, week or month start in r.Windows
	// is before the window a counter it would increment holds (the
	// sender's sent counters; the recipient's received ones when
	// r.Received), that is a stale decision too. Otherwise it changes
	// nothing and returns false: the caller reads the clock and the store
	// again and decides again.
	Reserve(ctx context.Context, r Reservation) (Invitation, bool, error)
	// AcceptInvitation is the connection caps' atomic step. If the
	// invitation a.Invitation.ID is still pending and both members still
	// have the connection counts in a, it stores the invitation's new
	// status and closing time, connects the two members, counts an
	// accepted answer for the sender and bumps the sender's Seq, in one
	// step, and returns true. If a count changed it changes nothing and
	// returns false: the caller reads again and decides again. If the
	// invitation is no longer pending it returns an error wrapping
	// ErrNotPending.
	AcceptInvitation(ctx context.Context, a Acceptance) (bool, error)
	// CountOverLimit increments the member's over-limit counter for the
	// week w.Week if the member's Seq still equals seq and the counter
	// holds no later week, bumping Seq; it reports whether it did.
	CountOverLimit(ctx context.Context, id string, seq uint64, w Windows) (bool, error)

	// Append adds an event to the log, setting its Seq.
	Append(ctx context.Context, e *Event) error
}
